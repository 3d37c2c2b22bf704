import { Duration, Size } from 'aws-cdk-lib';
import type { JobName, PgmaintConfig, TargetConfig } from '../functions/shared/config/schema';

export type BucketAccess = 'none' | 'read' | 'write';

/** How each job's function is sized and what it may touch. One place, so the stack stays declarative. */
export interface JobSettings {
  readonly job: JobName;
  readonly description: string;
  readonly memoryMiB: number;
  readonly timeout: Duration;
  /** /tmp: restore downloads archives that fit to restore them with parallel jobs. */
  readonly ephemeralStorage: Size;
  /** Access to backups under `<target>/` in the bucket. */
  readonly backups: BucketAccess;
  /** Read/write of `state/<target>/` (alert-on-change state, drill outcomes). */
  readonly state: boolean;
  /** The target sections this job's function needs in its PGMAINT_CONFIG. */
  readonly sections: ReadonlyArray<keyof TargetConfig>;
  /**
   * How often Lambda runs a failed scheduled run again (0-2, Lambda's limit). Only jobs that are
   * safe to run twice retry; the job's advisory lock keeps a retry off a run still going.
   */
  readonly retryAttempts: 0 | 1 | 2;
}

export const JOB_SETTINGS: Readonly<Record<JobName, JobSettings>> = {
  backup: {
    job: 'backup',
    description: 'pg_dump streamed to S3, verified, with a manifest; prunes old backups',
    // CPU, not memory (the job stays under 256 MB). pg_dump's compressor keeps one core busy, and
    // the pg_restore verifier, hashing and upload need about a third of another (measured on the
    // bench: ~38 s of pg_dump CPU, ~6 s of pg_restore, ~6 s of Node per 1.7 GB database); below
    // ~1.4 vCPU they take time from pg_dump. Lambda gives ~1.7 vCPU at 3,008 MB (1 vCPU per
    // 1,769 MB), a size every account allows (some new accounts are capped there).
    memoryMiB: 3008,
    timeout: Duration.minutes(15),
    ephemeralStorage: Size.mebibytes(512),
    backups: 'write',
    state: false,
    sections: ['backup'],
    retryAttempts: 2,
  },
  restore: {
    job: 'restore',
    description: 'restores a verified backup into a new database (or swaps it in); scheduled restore drills',
    memoryMiB: 2048,
    timeout: Duration.minutes(15),
    ephemeralStorage: Size.gibibytes(10),
    backups: 'read',
    state: true,
    sections: ['backup', 'restore'],
    // A replace-restore swaps databases: running it again unasked is never safe, and a drill
    // that failed has something to say.
    retryAttempts: 0,
  },
  retention: {
    job: 'retention',
    description: 'deletes rows past their retention in small lock-safe batches; drops old partitions',
    memoryMiB: 512,
    timeout: Duration.minutes(15),
    ephemeralStorage: Size.mebibytes(512),
    backups: 'none',
    state: false,
    sections: ['retention'],
    retryAttempts: 2,
  },
  reindex: {
    job: 'reindex',
    description: 'rebuilds bloated indexes with REINDEX CONCURRENTLY',
    memoryMiB: 512,
    timeout: Duration.minutes(15),
    ephemeralStorage: Size.mebibytes(512),
    backups: 'none',
    state: false,
    sections: ['reindex'],
    retryAttempts: 2,
  },
  health: {
    job: 'health',
    description: 'runs the health checks, alerts when a check changes state',
    memoryMiB: 512,
    timeout: Duration.minutes(2),
    ephemeralStorage: Size.mebibytes(512),
    backups: 'read',
    state: true,
    // reindex: index_bloat's size floor and its advice come from the reindex section.
    sections: ['health', 'backup', 'restore', 'reindex'],
    retryAttempts: 2,
  },
};

/** Lambda waits about a minute before the first retry and two before the second. */
const RETRY_DELAYS_MINUTES = [1, 2] as const;

/**
 * How long Lambda keeps trying a scheduled event: long enough for every attempt to start even when
 * each earlier one ran to its timeout, plus ten minutes of queueing. Older events are dropped to
 * the on-failure destination (one alert), so a retry never starts long after its schedule.
 */
export function maxEventAge(settings: JobSettings): Duration {
  if (settings.retryAttempts === 0) return Duration.hours(1);
  let minutes = 10;
  for (let attempt = 0; attempt < settings.retryAttempts; attempt++)
    minutes += settings.timeout.toMinutes() + (RETRY_DELAYS_MINUTES[attempt] ?? 2);
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
}

export function scheduledInvocations(config: PgmaintConfig): ScheduledInvocation[] {
  const out: ScheduledInvocation[] = [];
  for (const [target, settings] of Object.entries(config.targets)) {
    const add = (
      job: JobName,
      name: string,
      expression: string | undefined,
      input: Record<string, unknown>,
    ) => {
      if (expression) out.push({ job, target, name, expression, timezone: settings.timezone, input });
    };
    add('backup', 'backup', settings.backup?.schedule, { target });
    add('retention', 'retention', settings.retention?.schedule, { target });
    add('reindex', 'reindex', settings.reindex?.schedule, { target });
    add('health', 'health', settings.health?.schedule, { target });
    add('restore', 'restore-drill', settings.restore?.drillSchedule, { target, drill: true });
  }
  return out;
}

/**
 * The slice of the config one job's function runs with: its targets' connection details and the
 * sections it reads. Lambda caps all environment variables at 4 KB, so nothing more.
 */
export function configSlice(config: PgmaintConfig, settings: JobSettings): Record<string, unknown> {
  const targets: Record<string, Record<string, unknown>> = {};
  for (const [name, target] of Object.entries(config.targets)) {
    const slice: Record<string, unknown> = { secret: target.secret, timezone: target.timezone };
    if (target.sslmode) slice.sslmode = target.sslmode;
    for (const section of settings.sections)
      if (target[section] !== undefined) slice[section] = target[section];
    targets[name] = slice;
  }
  return { targets };
}
