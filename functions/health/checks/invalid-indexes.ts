import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  schema: string;
  table: string;
  index: string;
  reindexLeftover: boolean;
  bytes: number;
}

/** `invalid_indexes`: indexes a failed concurrent build left behind; writes still maintain them, reads never use them. */
export const invalidIndexesCheck: HealthCheck = {
  name: 'invalid_indexes',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: null },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/invalid_indexes'));
    if (rows.length === 0) return { value: 0, message: 'no invalid index', recommendation: '' };
    const leftovers = rows.filter((r) => r.reindexLeftover);
    const names = rows.map((r) => `${r.schema}.${r.index}`);
    return {
      value: rows.length,
      message: `${rows.length} invalid index(es): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}${
        leftovers.length > 0 ? ` (${leftovers.length} left by an interrupted REINDEX CONCURRENTLY)` : ''
      }`,
      details: { indexes: rows },
      recommendation:
        leftovers.length > 0
          ? 'The *_ccnew / *_ccold indexes are leftovers of an interrupted REINDEX CONCURRENTLY: DROP INDEX CONCURRENTLY them. Rebuild any other invalid index with REINDEX INDEX CONCURRENTLY (or drop it and run its CREATE INDEX CONCURRENTLY again after fixing why it failed, e.g. duplicate keys).'
          : 'A CREATE INDEX CONCURRENTLY failed (often duplicate keys for a unique index, or a cancel). Fix the cause, then REINDEX INDEX CONCURRENTLY, or DROP INDEX CONCURRENTLY and create it again.',
    };
  },
};
