import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  pid: number;
  user: string;
  seconds: number;
  waitEventType: string | null;
  query: string;
  over_threshold: number;
}

/** `long_running_queries`: the oldest active statement in this database. */
export const longRunningQueriesCheck: HealthCheck = {
  name: 'long_running_queries',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '5 minutes', critical: '30 minutes' },
  async run({ query, thresholds }) {
    const rows = await query<Row>(loadSql('health/long_running_queries'), [thresholds.warning ?? 0]);
    const oldest = rows[0];
    if (!oldest) return { value: 0, message: 'no active statement', recommendation: '' };
    return {
      value: round(oldest.seconds),
      message: `oldest active statement runs for ${formatDuration(oldest.seconds * 1000)} (pid ${oldest.pid}, ${oldest.user}): ${oldest.query}`,
      details: {
        overWarning: oldest.over_threshold,
        top: rows.map(({ over_threshold: _, ...row }) => ({ ...row, seconds: round(row.seconds) })),
      },
      recommendation:
        'Check whether the statement is expected (a report, a migration); if not, pg_cancel_backend(pid). Set statement_timeout for the role that runs it.',
    };
  },
};
