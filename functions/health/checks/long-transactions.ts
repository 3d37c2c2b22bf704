import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  pid: number;
  user: string;
  state: string;
  seconds: number;
  inStateSeconds: number;
  lastQuery: string;
  overWarning: number;
}

/**
 * `long_transactions`: the oldest open transaction in this database, by when it began. Unlike
 * idle_in_transaction (time since the last statement), it catches a transaction kept open by a
 * stream of short statements: either way vacuum cannot clean up behind it.
 */
export const longTransactionsCheck: HealthCheck = {
  name: 'long_transactions',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '5 minutes', critical: '30 minutes' },
  async run({ query, thresholds }) {
    const rows = await query<Row>(loadSql('health/long_transactions'), [thresholds.warning ?? 0]);
    const oldest = rows[0];
    if (!oldest) return { value: 0, message: 'no open transaction', recommendation: '' };
    return {
      value: round(oldest.seconds),
      message: `oldest open transaction began ${formatDuration(oldest.seconds * 1000)} ago (pid ${oldest.pid}, ${oldest.user}, ${oldest.state} for ${formatDuration(oldest.inStateSeconds * 1000)}): ${oldest.lastQuery}`,
      details: {
        overWarning: oldest.overWarning,
        top: rows.map(({ overWarning: _, ...row }) => ({
          ...row,
          seconds: round(row.seconds),
          inStateSeconds: round(row.inStateSeconds),
        })),
      },
      recommendation:
        'A long transaction keeps every row version it might see: vacuum cannot remove dead rows in any table, and tables and indexes bloat. Find out what the session does (a batch in one transaction, a forgotten BEGIN); commit in smaller pieces, or end it with pg_terminate_backend(pid). transaction_timeout (PostgreSQL 17+) caps it for a role.',
    };
  },
};
