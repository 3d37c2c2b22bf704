import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck } from '../check';

interface Row {
  schema: string;
  table: string;
  index: string;
  bytes: number;
  statsReset: Date | null;
}

/** `unused_indexes` (informational): never-scanned indexes cost writes and space for nothing. */
export const unusedIndexesCheck: HealthCheck = {
  name: 'unused_indexes',
  unit: 'count',
  kind: 'count',
  defaults: { warning: null, critical: null, minSize: '1 MB' },
  async run({ query, thresholds }) {
    const minSizeBytes = thresholds.minSizeBytes ?? 0;
    const rows = await query<Row>(loadSql('health/unused_indexes'), [minSizeBytes]);
    const total = rows.reduce((sum, r) => sum + r.bytes, 0);
    const statsReset = rows[0]?.statsReset?.toISOString() ?? null;
    return {
      value: rows.length,
      message:
        rows.length === 0
          ? `no unused index of ${formatBytes(minSizeBytes)} or more`
          : `${rows.length} index(es) never scanned${statsReset ? ` since ${statsReset}` : ''} (${formatBytes(total)}): ${rows
              .slice(0, 3)
              .map((r) => `${r.schema}.${r.index}`)
              .join(', ')}${rows.length > 3 ? ', ...' : ''}`,
      details: {
        minSizeBytes,
        totalBytes: total,
        statsReset,
        indexes: rows.slice(0, 50).map(({ statsReset: _, ...row }) => row),
      },
      recommendation:
        'Confirm on every replica that the index is not used there either, and that the statistics cover a full business cycle; then DROP INDEX CONCURRENTLY it.',
    };
  },
};
