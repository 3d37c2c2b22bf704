import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  pid: number;
  user: string;
  state: string;
  seconds: number;
  transactionSeconds: number;
  lastQuery: string;
  total: number;
}

/** `idle_in_transaction`: sessions that opened a transaction and went quiet; they hold locks and block vacuum. */
export const idleInTransactionCheck: HealthCheck = {
  name: 'idle_in_transaction',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '5 minutes', critical: '30 minutes' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/idle_in_transaction'));
    const oldest = rows[0];
    if (!oldest) return { value: 0, message: 'no session idle in a transaction', recommendation: '' };
    return {
      value: round(oldest.seconds),
      message: `${oldest.total} session(s) idle in a transaction; the oldest for ${formatDuration(oldest.seconds * 1000)} (pid ${oldest.pid}, ${oldest.user})`,
      details: {
        sessions: oldest.total,
        top: rows.map(({ total: _, ...row }) => ({
          ...row,
          seconds: round(row.seconds),
          transactionSeconds: round(row.transactionSeconds),
        })),
      },
      recommendation:
        'An application opened a transaction and stopped talking: it holds its locks and stops vacuum from cleaning up. Fix the code path (commit or roll back), end the session with pg_terminate_backend(pid), and set idle_in_transaction_session_timeout.',
    };
  },
};
