import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  files: number;
  bytes: number;
  maxWalSize: number;
}

/**
 * `wal_files`: WAL kept in pg_wal against max_wal_size. Checkpoints recycle WAL down to about
 * max_wal_size; more than that is WAL something still needs (a replication slot, a failing
 * archive_command, wal_keep_size), and it grows until the disk is full.
 */
export const walFilesCheck: HealthCheck = {
  name: 'wal_files',
  unit: 'percent',
  kind: 'percent',
  maxPercent: 10_000,
  defaults: { warning: '100%', critical: '200%' },
  async run({ query }) {
    const [row] = await query<Row>(loadSql('health/wal_files'));
    if (!row) throw new Error('pg_ls_waldir returned nothing');
    const share = (100 * row.bytes) / row.maxWalSize;
    return {
      value: round(share),
      message: `${row.files} WAL segment(s), ${formatBytes(row.bytes)} in pg_wal: ${round(share)}% of max_wal_size (${formatBytes(row.maxWalSize)})`,
      details: { ...row },
      recommendation:
        'Something keeps WAL from being recycled: look at replication_slots (an inactive slot), wal_archiving (a failing archive_command) and wal_keep_size; if the write load simply needs more, raise max_wal_size.',
    };
  },
};
