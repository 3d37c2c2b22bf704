import { loadSqlFor, type SqlVariant } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  pid: number;
  user: string;
  seconds: number;
  blockedBy: number[];
  lockType: string;
  mode: string;
  relation: string | null;
  query: string;
  waiting: number;
}

/** pg_locks.waitstart (when the lock wait began) is PostgreSQL 14+. */
export const BLOCKED_QUERIES_SQL: readonly SqlVariant[] = [
  { name: 'health/blocked_queries-pg13', since: 130_000 },
  { name: 'health/blocked_queries', since: 140_000 },
];

/** `blocked_queries`: the longest lock wait in this database, and how many sessions wait. */
export const blockedQueriesCheck: HealthCheck = {
  name: 'blocked_queries',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '1 minute', critical: '5 minutes' },
  async run({ query, serverVersionNum }) {
    const rows = await query<Row>(loadSqlFor(serverVersionNum, BLOCKED_QUERIES_SQL));
    const longest = rows[0];
    if (!longest) return { value: 0, message: 'no session waits for a lock', recommendation: '' };
    return {
      value: round(longest.seconds),
      message: `${longest.waiting} session(s) wait for a lock; the longest for ${formatDuration(longest.seconds * 1000)} (pid ${longest.pid} blocked by ${longest.blockedBy.join(', ') || 'unknown'}${longest.relation ? ` on ${longest.relation}` : ''})`,
      details: {
        waiting: longest.waiting,
        top: rows.map(({ waiting: _, ...row }) => ({ ...row, seconds: round(row.seconds) })),
      },
      recommendation:
        'Look at the blocking pids in pg_stat_activity: usually a long or idle-in-transaction session, or DDL queued behind one. End the blocker if it is stuck, and give DDL a lock_timeout.',
    };
  },
};
