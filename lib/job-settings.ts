import { Duration, Size } from 'aws-cdk-lib';
import { JOB_MANIFESTS } from '../functions/manifests';
import type { RunOn } from '../functions/shared/config/placement';
import type { JobName, PgmaintConfig } from '../functions/shared/config/schema';
import { jobPlacement, type TaskSize } from '../functions/shared/fargate-task';
import type { JobManifest } from '../functions/shared/manifest';

/** The job's Lambda sizing in CDK's units. */
export function lambdaSizing(manifest: JobManifest): {
  memorySize: number;
  timeout: Duration;
  ephemeralStorageSize: Size;
} {
  return {
    memorySize: manifest.lambda.memoryMiB,
    timeout: Duration.minutes(manifest.lambda.timeoutMinutes),
    ephemeralStorageSize: Size.mebibytes(manifest.lambda.ephemeralStorageMiB),
  };
}

/** Lambda waits about a minute before the first retry and two before the second. */
const RETRY_DELAYS_MINUTES = [1, 2] as const;

/**
 * How long Lambda keeps trying a scheduled event: long enough for every attempt to start even when
 * each earlier one ran to its timeout, plus ten minutes of queueing. Older events are dropped to
 * the on-failure destination (one alert), so a retry never starts long after its schedule.
 */
export function maxEventAge(manifest: JobManifest): Duration {
  const { retryAttempts, timeoutMinutes } = manifest.lambda;
  if (retryAttempts === 0) return Duration.hours(1);
  let minutes = 10;
  for (let attempt = 0; attempt < retryAttempts; attempt++)
    minutes += timeoutMinutes + (RETRY_DELAYS_MINUTES[attempt] ?? 2);
  return Duration.minutes(Math.min(minutes, 360));
}

/** A scheduled invocation: which job, which target, the expression and the event it sends. */
export interface ScheduledInvocation {
  readonly job: JobName;
  readonly target: string;
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly input: Record<string, unknown>;
  /** Where the target's runs of this job go (its section's `runOn`). */
  readonly runOn: RunOn;
  /** The target's size of this job's Fargate task. */
  readonly size: TaskSize;
}

/** Every schedule the jobs' manifests declare, for every target whose config sets its expression. */
export function scheduledInvocations(config: PgmaintConfig): ScheduledInvocation[] {
  const out: ScheduledInvocation[] = [];
  for (const [target, settings] of Object.entries(config.targets))
    for (const manifest of Object.values(JOB_MANIFESTS))
      for (const schedule of manifest.schedules) {
        const expression = schedule.expression(settings);
        if (expression)
          out.push({
            job: manifest.job,
            target,
            name: schedule.name,
            expression,
            timezone: settings.timezone,
            input: { target, ...schedule.event },
            ...jobPlacement(settings, manifest),
          });
      }
  return out;
}

/**
 * The slice of the config one job runs with: its targets' connection details and the sections
 * its manifest says it reads, nothing more.
 */
export function configSlice(config: PgmaintConfig, manifest: JobManifest): Record<string, unknown> {
  const targets: Record<string, Record<string, unknown>> = {};
  for (const [name, target] of Object.entries(config.targets)) {
    const slice: Record<string, unknown> = { secret: target.secret, timezone: target.timezone };
    if (target.sslmode) slice.sslmode = target.sslmode;
    // Which database(s) the secret's server is about: every job connects by them.
    for (const field of ['dbname', 'databases', 'exclude'] as const)
      if (target[field] !== undefined) slice[field] = target[field];
    for (const section of manifest.sections)
      if (target[section] !== undefined) slice[section] = target[section];
    targets[name] = slice;
  }
  return { targets };
}
