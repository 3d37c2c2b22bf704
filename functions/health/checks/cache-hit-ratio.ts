import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';

/** Below this many block accesses since the statistics reset, a ratio says nothing yet. */
export const CACHE_MIN_BLOCKS = 10_000;

interface Row {
  hits: number;
  reads: number;
  statsReset: Date | null;
}

/** `cache_hit_ratio`: share of table and index block accesses served from shared buffers. */
export const cacheHitRatioCheck: HealthCheck = {
  name: 'cache_hit_ratio',
  unit: 'percent',
  kind: 'percent',
  direction: 'below',
  defaults: { warning: '99%', critical: '95%' },
  async run({ query }) {
    const [row] = await query<Row>(loadSql('health/cache_hit_ratio'));
    const hits = row?.hits ?? 0;
    const reads = row?.reads ?? 0;
    const details = { hits, reads, statsReset: row?.statsReset?.toISOString() ?? null };
    if (hits + reads < CACHE_MIN_BLOCKS)
      return {
        skipped: `only ${hits + reads} blocks accessed since the statistics were reset (needs ${CACHE_MIN_BLOCKS})`,
        details,
      };
    const ratio = (100 * hits) / (hits + reads);
    return {
      value: round(ratio, 2),
      message: `${round(ratio, 2)}% of ${hits + reads} block accesses served from shared buffers`,
      details,
      recommendation:
        'The working set does not fit in memory: look for sequential scans of big tables (missing indexes) in pg_stat_user_tables, or give the instance more memory (shared_buffers, a larger instance class).',
    };
  },
};
