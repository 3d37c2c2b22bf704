import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck } from '../check';

/** `database_size`: the on-disk size of this database. */
export const databaseSizeCheck: HealthCheck = {
  name: 'database_size',
  unit: 'bytes',
  kind: 'size',
  defaults: { warning: '5 GB', critical: '10 GB' },
  async run({ query }) {
    const [row] = await query<{ bytes: number }>(loadSql('health/database_size'));
    const bytes = row?.bytes ?? 0;
    return {
      value: bytes,
      message: `database is ${formatBytes(bytes)}`,
      details: { bytes },
      recommendation:
        'Check the biggest tables and indexes (pg_total_relation_size) and what grows; add retention rules for logs and events, reindex bloated indexes, or raise the threshold and the storage if the growth is expected.',
    };
  },
};
