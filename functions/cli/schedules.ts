import type { PgmaintConfig } from '../shared/config/schema';
import { formatInZone, nextRuns, parseSchedule } from '../shared/schedule';

export interface ScheduledRun {
  readonly target: string;
  readonly job: string;
  readonly expression: string;
  readonly timezone: string;
  readonly nextRuns: readonly string[];
}

/** Every schedule in the config with its next runs, as `validate` prints them. */
export function listSchedules(config: PgmaintConfig, from: Date, count = 3): ScheduledRun[] {
  const runs: ScheduledRun[] = [];
  for (const [target, settings] of Object.entries(config.targets)) {
    const entries: Array<[string, string | undefined]> = [
      ['backup', settings.backup?.schedule],
      ['retention', settings.retention?.schedule],
      ['reindex', settings.reindex?.schedule],
      ['health', settings.health?.schedule],
      ['restore drill', settings.restore?.drillSchedule],
    ];
    for (const [job, expression] of entries) {
      if (!expression) continue;
      const parsed = parseSchedule(expression);
      if ('error' in parsed) continue; // config validation already rejected it
      runs.push({
        target,
        job,
        expression,
        timezone: settings.timezone,
        nextRuns: nextRuns(parsed, settings.timezone, count, from).map((d) =>
          formatInZone(d, settings.timezone),
        ),
      });
    }
  }
  return runs;
}
