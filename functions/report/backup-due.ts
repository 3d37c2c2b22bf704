import { type ParsedSchedule, parseSchedule, previousRuns } from '../shared/schedule';

const HOUR_MS = 3_600_000;
/** How long a backup run may take before the report expects its backups: the run's databases go one after another. */
const RUN_GRACE_MS = 6 * HOUR_MS;
/** A backup of the run that started a moment before its scheduled time (clock skew) still counts for it. */
const START_LEEWAY_MS = 60_000;

/** The scheduled run a database's newest backup must come from, or later. */
export interface BackupDue {
  /** Its newest backup must have started at or after this instant. */
  readonly since: Date;
  /** The scheduled run, for a cron or at() schedule; a rate schedule has no fixed times. */
  readonly run?: Date;
}

/**
 * When each database's newest backup should have started by, given the backup schedule: at the
 * latest scheduled run that should be over by `now` (started at least the smaller of 6 hours and
 * the interval between runs ago: a run still going is not yet late). For `rate(N)`, within N plus
 * that grace. Undefined without a schedule, or before the schedule's first run is due.
 */
export function backupDueSince(
  expression: string | undefined,
  timezone: string,
  now: Date,
): BackupDue | undefined {
  if (expression === undefined) return undefined;
  const schedule = parseSchedule(expression);
  if ('error' in schedule) return undefined; // the config schema has refused it already
  if (schedule.kind === 'rate') {
    const every = schedule.seconds * 1000;
    return { since: new Date(now.getTime() - every - Math.min(RUN_GRACE_MS, every)) };
  }
  const run = dueRun(schedule, timezone, now);
  return run ? { since: new Date(run.getTime() - START_LEEWAY_MS), run } : undefined;
}

function dueRun(schedule: ParsedSchedule, timezone: string, now: Date): Date | undefined {
  const [latest, before] = previousRuns(schedule, timezone, 2, now);
  if (!latest) return undefined;
  const interval = before ? latest.getTime() - before.getTime() : Number.POSITIVE_INFINITY;
  if (now.getTime() - latest.getTime() >= Math.min(RUN_GRACE_MS, interval)) return latest;
  // The latest run may still be going; the one before has had a whole interval since.
  return before;
}
