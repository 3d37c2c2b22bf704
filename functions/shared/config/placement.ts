import * as z from 'zod';

/**
 * Where a job's runs go, per target and job: `lambda` (15 minutes, 10 GB of /tmp), `fargate` (an
 * ECS task started by the same schedule: no time limit, up to 200 GiB of disk), or `auto`: the
 * Lambda run estimates the job and hands it to its Fargate task when it will not fit.
 */
export const RUN_ON = ['lambda', 'fargate', 'auto'] as const;
export type RunOn = (typeof RUN_ON)[number];

/** Fargate's CPU sizes, in CPU units (1024 = 1 vCPU). */
export const FARGATE_CPU = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;
export type FargateCpu = (typeof FARGATE_CPU)[number];

const FARGATE_CPU_ERROR = `expected Fargate CPU units, one of ${FARGATE_CPU.join(', ')} (1024 = 1 vCPU)`;

/** A target's sizing of one job's Fargate task; each field absent = the job's default (its manifest). */
const fargateSizing = () =>
  z.strictObject({
    cpu: z
      .number({ error: FARGATE_CPU_ERROR })
      .refine((cpu): cpu is FargateCpu => (FARGATE_CPU as readonly number[]).includes(cpu), {
        error: FARGATE_CPU_ERROR,
      })
      .optional(),
    memoryMiB: z
      .number({ error: 'expected memory in MiB, like 4096' })
      .int({ error: 'expected memory in MiB, like 4096' })
      .min(512, { error: 'Fargate tasks have at least 512 MiB' })
      .max(122880, { error: 'Fargate tasks have at most 122880 MiB' })
      .optional(),
    ephemeralStorageGiB: z
      .number({ error: 'expected a whole number of GiB from 21 to 200' })
      .int({ error: 'expected a whole number of GiB from 21 to 200' })
      .min(21, { error: 'Fargate gives every task 21 GiB; ask for 21 to 200' })
      .max(200, { error: 'Fargate tasks have at most 200 GiB of ephemeral storage' })
      .optional(),
  });
export type FargateSizingConfig = z.output<ReturnType<typeof fargateSizing>>;

/** The fields every job section has: spread into each section's schema as it is built. */
export const placementFields = () => ({
  /** Absent = "auto" (read it with `runOnOf`). */
  runOn: z.enum(RUN_ON, { error: 'expected "lambda", "fargate" or "auto"' }).optional(),
  fargate: fargateSizing().optional(),
});

/** Where a section's runs go: absent means "auto". */
export function runOnOf(section: { readonly runOn?: RunOn } | undefined): RunOn {
  return section?.runOn ?? 'auto';
}
