import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck, Measurement, Query } from '../check';
import { round } from './numbers';

interface Row {
  schema: string;
  table: string;
  index?: string;
  bytes: number;
  bloatBytes: number;
  bloatPercent: number;
  notEstimated: number;
  considered: number;
  estimable: boolean;
}

async function measureBloat(
  query: Query,
  what: 'table' | 'index',
  minSizeBytes: number,
  recommendation: string,
): Promise<Measurement> {
  const rows = await query<Row>(loadSql(`health/${what}_bloat`), [minSizeBytes]);
  const estimated = rows.filter((r) => r.estimable);
  const first = rows[0];
  const notEstimated = first?.notEstimated ?? 0;
  const details = {
    minSizeBytes,
    considered: first?.considered ?? 0,
    notEstimated,
    top: estimated.map(({ notEstimated: _n, considered: _c, estimable: _e, ...row }) => ({
      ...row,
      bloatPercent: round(row.bloatPercent),
    })),
  };
  const unreadable =
    notEstimated > 0
      ? `; ${notEstimated} ${what === 'table' ? 'table(s)' : 'index(es)'} without statistics the role can read (ANALYZE them, or grant SELECT)`
      : '';
  const worst = estimated[0];
  if (!worst) {
    if (notEstimated > 0)
      return {
        skipped: `no ${what} of ${formatBytes(minSizeBytes)} or more could be estimated${unreadable}`,
        details,
      };
    return {
      value: 0,
      message: `no ${what} of ${formatBytes(minSizeBytes)} or more`,
      details,
      recommendation: '',
    };
  }
  const name =
    what === 'table' ? `${worst.schema}.${worst.table}` : `${worst.schema}.${worst.index} on ${worst.table}`;
  return {
    value: round(worst.bloatPercent),
    message: `${name}: about ${round(worst.bloatPercent)}% bloat (${formatBytes(worst.bloatBytes)} of ${formatBytes(worst.bytes)})${unreadable}`,
    details,
    recommendation,
  };
}

/** `table_bloat`: estimated wasted space in tables above a size floor. */
export const tableBloatCheck: HealthCheck = {
  name: 'table_bloat',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '30%', critical: '50%', minSize: '10 MB' },
  run: ({ query, thresholds }) =>
    measureBloat(
      query,
      'table',
      thresholds.minSizeBytes ?? 0,
      'Space freed by deletes and updates is not being reused. VACUUM keeps it from growing; to give it back, rebuild the table online with pg_repack (VACUUM FULL locks it). Check autovacuum keeps up on it.',
    ),
};

/** `index_bloat`: estimated wasted space in btree indexes above a size floor; the reindex job's candidates. */
export const indexBloatCheck: HealthCheck = {
  name: 'index_bloat',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '30%', critical: '50%', minSize: '10 MB' },
  run: ({ query, thresholds }) =>
    measureBloat(
      query,
      'index',
      thresholds.minSizeBytes ?? 0,
      'Rebuild the listed indexes with REINDEX INDEX CONCURRENTLY (the reindex job does it on a schedule, smallest risk first).',
    ),
};
