import { type RunOn, runOnOf } from './config/placement';
import type { TargetConfig } from './config/schema';
import type { JobManifest } from './manifest';

/**
 * The contract between the deployment (lib/), a job's Lambda function handing a run to Fargate,
 * and the container the task runs. lib/ sets these variables on every job function; the hand-off
 * reads them; both build the container's command with `taskCommand`.
 */
export const FARGATE_ENV = {
  /** ARN of the ECS cluster the tasks run in. */
  cluster: 'PGMAINT_FARGATE_CLUSTER',
  /** ARN of this job's task definition (one per job; a target's sizing goes in as RunTask overrides). */
  taskDefinition: 'PGMAINT_FARGATE_TASK_DEFINITION',
  /** Name of the job's container in that task definition. */
  container: 'PGMAINT_FARGATE_CONTAINER',
  /** Comma-separated subnet ids (awsvpc). */
  subnets: 'PGMAINT_FARGATE_SUBNETS',
  /** Comma-separated security group ids. */
  securityGroups: 'PGMAINT_FARGATE_SECURITY_GROUPS',
  /** "ENABLED" or "DISABLED" (default: no public IP). */
  assignPublicIp: 'PGMAINT_FARGATE_ASSIGN_PUBLIC_IP',
} as const;

/**
 * How a task's process ends, as the task-stopped alert reads it. 0: done. 1: the job failed and
 * sent its own alert. 2: refused (another run holds the lock: silent by design, as on Lambda) or
 * health's CRITICAL (health alerts on change itself). Any other code is something the job could
 * not report itself (out of memory, a signal, health's UNKNOWN), so the deployment's rule alerts.
 */
export const SELF_REPORTED_EXIT_CODES: readonly number[] = [0, 1, 2];

/**
 * A deployed task whose config object cannot be read or is invalid: the job never started, so it
 * sent no alert; sysexits' EX_CONFIG, outside SELF_REPORTED_EXIT_CODES, so the rule alerts.
 */
export const DEPLOYED_CONFIG_UNUSABLE_EXIT = 78;

/**
 * The container command of one run: the CLI, exactly as a person would run it, with the event the
 * schedule or the Lambda run received (without `target`) passed whole so nothing is lost in
 * translation to flags. The image's entrypoint is `pgmaint`.
 */
export function taskCommand(
  job: string,
  target: string,
  event: Readonly<Record<string, unknown>> = {},
): string[] {
  const { target: _target, ...options } = event;
  const command = [job, '--target', target];
  if (Object.keys(options).length > 0) command.push('--event', JSON.stringify(options));
  return command;
}

/** Where one target's runs of a job go, and their Fargate size: the job's own section of the target. */
export function jobPlacement(target: TargetConfig, manifest: JobManifest): { runOn: RunOn; size: TaskSize } {
  const section = target[manifest.job];
  return { runOn: runOnOf(section), size: taskSize(manifest.fargate, section?.fargate) };
}

/** One run's Fargate size. */
export interface TaskSize {
  /** CPU units (1024 = 1 vCPU). */
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly ephemeralStorageGiB: number;
}

/** A target's size of one job's task: its `fargate` settings over the job's defaults (its manifest). */
export function taskSize(defaults: TaskSize, configured: Partial<TaskSize> | undefined): TaskSize {
  return {
    ...defaults,
    ...Object.fromEntries(Object.entries(configured ?? {}).filter(([, v]) => v !== undefined)),
  };
}

/** The memory Fargate allows with each CPU size: [lowest, highest, step] in MiB. */
const FARGATE_MEMORY: Readonly<Record<number, readonly [number, number, number]>> = {
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

/** The ephemeral storage a Fargate task can have, in GiB (21 is what every task gets). */
const FARGATE_STORAGE_GIB = { min: 21, max: 200 } as const;

/**
 * Why Fargate would refuse this size (RunTask fails at run time), or undefined. The one check
 * behind the config schema (so the loader, `pgmaint validate` and the Lambda), `cdk synth` and the
 * hand-off's RunTask.
 */
export function taskSizeProblem(size: TaskSize): string | undefined {
  const problems: string[] = [];
  const memory = FARGATE_MEMORY[size.cpu];
  if (!memory)
    problems.push(`cpu ${size.cpu} is not a Fargate size (${Object.keys(FARGATE_MEMORY).join(', ')})`);
  else {
    const [low, high, step] = memory;
    if (size.memoryMiB < low || size.memoryMiB > high || size.memoryMiB % step !== 0) {
      const fix = size.cpu === 256 ? '512, 1024 or 2048' : `${low} to ${high} in steps of ${step}`;
      problems.push(`Fargate runs cpu ${size.cpu} with memoryMiB ${fix}, not ${size.memoryMiB}`);
    }
  }
  const storage = size.ephemeralStorageGiB;
  if (!Number.isInteger(storage) || storage < FARGATE_STORAGE_GIB.min || storage > FARGATE_STORAGE_GIB.max)
    problems.push(
      `Fargate gives a task ${FARGATE_STORAGE_GIB.min} to ${FARGATE_STORAGE_GIB.max} GiB of ephemeral storage, not ${storage}`,
    );
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * Every job section of a target whose Fargate size (its `fargate` over the job's defaults) Fargate
 * would refuse: the path below the target (`["backup", "fargate"]`) and what to change. A job
 * without a section of its own runs at its defaults, which are Fargate sizes.
 */
export function targetSizeProblems(
  target: TargetConfig,
  manifests: readonly JobManifest[],
): Array<{ readonly path: readonly string[]; readonly message: string }> {
  return manifests.flatMap((manifest) => {
    const configured = target[manifest.job]?.fargate;
    if (configured === undefined) return [];
    const problem = taskSizeProblem(jobPlacement(target, manifest).size);
    if (!problem) return [];
    // Defaults are Fargate sizes: a pair is wrong only with one side from the config, so say which.
    const inherited = (['cpu', 'memoryMiB'] as const).filter((field) => configured[field] === undefined);
    const defaults = inherited.map((field) => `${field} ${manifest.fargate[field]}`).join(', ');
    return [
      {
        path: [manifest.job, 'fargate'],
        message: `${problem}${defaults ? ` (${defaults} ${inherited.length > 1 ? 'are' : 'is'} the ${manifest.job} job's default)` : ''}`,
      },
    ];
  });
}

/**
 * The RunTask `overrides` of one run: the container's command, and the task's size where it is not
 * the task definition's (one task definition per job; each target's size travels with the run).
 */
export function taskOverrides(
  container: string,
  command: readonly string[],
  size: TaskSize,
  defaults: TaskSize,
): {
  containerOverrides: Array<{ name: string; command: string[] }>;
  cpu?: string;
  memory?: string;
  ephemeralStorage?: { sizeInGiB: number };
} {
  const resized = size.cpu !== defaults.cpu || size.memoryMiB !== defaults.memoryMiB;
  return {
    containerOverrides: [{ name: container, command: [...command] }],
    // Fargate takes the task's CPU and memory as a pair: both, or neither.
    ...(resized ? { cpu: String(size.cpu), memory: String(size.memoryMiB) } : {}),
    ...(size.ephemeralStorageGiB !== defaults.ephemeralStorageGiB
      ? { ephemeralStorage: { sizeInGiB: size.ephemeralStorageGiB } }
      : {}),
  };
}

/** Where a job's Fargate task runs and with which task definition (FARGATE_ENV, or the stack's settings object). */
export interface FargateSettings {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly container: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: 'ENABLED' | 'DISABLED';
}

/**
 * The whole ECS RunTask request of one run, in the API's own field names (the SDK's
 * RunTaskCommand input, and the Input of a schedule's universal `ecs:runTask` target): the same
 * task whoever starts it, the hand-off or the schedule.
 */
export function runTaskRequest(
  settings: FargateSettings,
  run: {
    readonly job: string;
    readonly target: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly size: TaskSize;
    /** The job's default size: its task definition's. */
    readonly defaults: TaskSize;
    /** Who asked for the run, for the task's tags: a run id, or "schedule". */
    readonly requestedBy: string;
  },
) {
  return {
    cluster: settings.cluster,
    taskDefinition: settings.taskDefinition,
    launchType: 'FARGATE' as const,
    count: 1,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...settings.subnets],
        ...(settings.securityGroups.length > 0 ? { securityGroups: [...settings.securityGroups] } : {}),
        assignPublicIp: settings.assignPublicIp,
      },
    },
    // The task definition has the job's default size: only a target's own size travels.
    overrides: taskOverrides(
      settings.container,
      taskCommand(run.job, run.target, run.event),
      run.size,
      run.defaults,
    ),
    // Letters, digits, - and _ only (ECS's rule; target names keep to it): the tags say it exactly.
    startedBy: `pgmaint-${run.job}-${run.target}`.slice(0, 128),
    tags: [
      { key: 'pgmaint:job', value: run.job },
      { key: 'pgmaint:target', value: run.target },
      { key: 'pgmaint:requested-by', value: run.requestedBy },
    ],
  };
}
