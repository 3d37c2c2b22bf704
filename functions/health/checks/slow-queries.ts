import { fillSlots, ident } from '../../shared/pg/sql-names';
import { extensionVersionNum, loadSql, loadSqlFor, type SqlVariant } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

/** A mean over fewer calls than this is one unlucky run, not a slow query. */
export const SLOW_QUERY_MIN_CALLS = 10;

interface Row {
  queryId: string;
  user: string | null;
  calls: number;
  meanMs: number;
  totalMs: number;
  query: string;
}

/**
 * pg_stat_statements 1.8 (PostgreSQL 13) renamed mean_time and total_time to mean_exec_time and
 * total_exec_time. The extension's own version decides: a database upgraded from 12 keeps 1.7.
 */
export const SLOW_QUERIES_SQL: readonly SqlVariant[] = [
  { name: 'health/slow_queries-pgss1.3', since: extensionVersionNum('1.3') },
  { name: 'health/slow_queries', since: extensionVersionNum('1.8') },
];

/** `slow_queries`: the slowest statement on average, from pg_stat_statements when installed. */
export const slowQueriesCheck: HealthCheck = {
  name: 'slow_queries',
  unit: 'ms',
  kind: 'duration',
  defaults: { warning: '100 ms', critical: '1 second' },
  async run({ query }) {
    const [extension] = await query<{ schema: string; version: string }>(loadSql('health/extension'), [
      'pg_stat_statements',
    ]);
    if (!extension) return { skipped: 'pg_stat_statements is not installed in this database' };
    const sql = fillSlots(
      loadSqlFor(extensionVersionNum(extension.version), SLOW_QUERIES_SQL, 'pg_stat_statements'),
      { extschema: ident(extension.schema) },
      'sql/health/slow_queries',
    );
    const rows = await query<Row>(sql, [SLOW_QUERY_MIN_CALLS]);
    const worst = rows[0];
    if (!worst)
      return {
        value: 0,
        message: `no statement with ${SLOW_QUERY_MIN_CALLS}+ calls yet`,
        recommendation: '',
      };
    return {
      value: round(worst.meanMs, 2),
      message: `slowest statement takes ${formatDuration(worst.meanMs)} on average over ${worst.calls} calls: ${worst.query}`,
      details: {
        minCalls: SLOW_QUERY_MIN_CALLS,
        top: rows.map((row) => ({ ...row, meanMs: round(row.meanMs, 2), totalMs: round(row.totalMs) })),
      },
      recommendation:
        'EXPLAIN (ANALYZE, BUFFERS) the statement with typical parameters: look for sequential scans of big tables (a missing index), bad row estimates (ANALYZE), or too much data returned.',
    };
  },
};
