import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck } from '../check';

interface Row {
  schema: string;
  table: string;
  index: string;
  coveredBy: string;
  bytes: number;
}

/** `duplicate_indexes` (informational): an index whose columns lead another index adds nothing for reads. */
export const duplicateIndexesCheck: HealthCheck = {
  name: 'duplicate_indexes',
  unit: 'count',
  kind: 'count',
  defaults: { warning: null, critical: null },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/duplicate_indexes'));
    // An index covered by two others is listed once.
    const byIndex = new Map<string, Row>();
    for (const row of rows)
      if (!byIndex.has(`${row.schema}.${row.index}`)) byIndex.set(`${row.schema}.${row.index}`, row);
    const duplicates = [...byIndex.values()];
    const total = duplicates.reduce((sum, r) => sum + r.bytes, 0);
    return {
      value: duplicates.length,
      message:
        duplicates.length === 0
          ? 'no duplicate index'
          : `${duplicates.length} index(es) covered by another (${formatBytes(total)}): ${duplicates
              .slice(0, 3)
              .map((r) => `${r.schema}.${r.index} by ${r.coveredBy}`)
              .join(', ')}${duplicates.length > 3 ? ', ...' : ''}`,
      details: { totalBytes: total, indexes: duplicates.slice(0, 50) },
      recommendation:
        'Each listed index has the same leading columns as the index that covers it, which serves the same queries: DROP INDEX CONCURRENTLY the duplicate after checking nothing names it (hints, constraints).',
    };
  },
};
