import { JOB_MANIFESTS } from '../manifests';
import { type RunOn, runOnOf } from '../shared/config/placement';
import type { PgmaintConfig } from '../shared/config/schema';
import { formatInZone, nextRuns, parseSchedule } from '../shared/schedule';

export interface ScheduledRun {
  readonly target: string;
  readonly job: string;
  readonly expression: string;
  readonly timezone: string;
  /** Where the runs go: the job's section's `runOn` (auto: Lambda, handed to Fargate when it will not fit). */
  readonly runsOn: RunOn;
  readonly nextRuns: readonly string[];
}

/** How `validate` says where a schedule's runs go. */
export const RUNS_ON_TEXT: Readonly<Record<RunOn, string>> = {
  lambda: 'on Lambda',
  fargate: 'on Fargate',
  auto: 'on Lambda, or Fargate when it will not fit',
};

/** Every schedule the jobs' manifests declare and the config sets, with its next runs, as `validate` prints them. */
export function listSchedules(config: PgmaintConfig, from: Date, count = 3): ScheduledRun[] {
  const runs: ScheduledRun[] = [];
  for (const [target, settings] of Object.entries(config.targets)) {
    for (const manifest of Object.values(JOB_MANIFESTS))
      for (const schedule of manifest.schedules) {
        const expression = schedule.expression(settings);
        if (!expression) continue;
        const parsed = parseSchedule(expression);
        if ('error' in parsed) continue; // config validation already rejected it
        runs.push({
          target,
          job: schedule.label,
          expression,
          timezone: settings.timezone,
          runsOn: runOnOf(settings[manifest.job]),
          nextRuns: nextRuns(parsed, settings.timezone, count, from).map((d) =>
            formatInZone(d, settings.timezone),
          ),
        });
      }
  }
  return runs;
}
