import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  archiveMode: string;
  archived: number;
  failed: number;
  lastArchivedWal: string | null;
  lastArchivedAt: Date | null;
  lastFailedWal: string | null;
  lastFailedAt: Date | null;
  failing: boolean;
}

/** `wal_archiving`: archive_command failing since its last success (point-in-time recovery is broken meanwhile). */
export const walArchivingCheck: HealthCheck = {
  name: 'wal_archiving',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: null },
  async run({ query }) {
    const [row] = await query<Row>(loadSql('health/wal_archiving'));
    if (!row) throw new Error('pg_stat_archiver returned no row');
    if (row.archiveMode === 'off') return { skipped: 'archive_mode is off' };
    const details = {
      ...row,
      lastArchivedAt: row.lastArchivedAt?.toISOString() ?? null,
      lastFailedAt: row.lastFailedAt?.toISOString() ?? null,
    };
    return {
      value: row.failing ? 1 : 0,
      message: row.failing
        ? `archiving fails since ${details.lastFailedAt} (last failed segment ${row.lastFailedWal}; last archived ${row.lastArchivedWal ?? 'never'})`
        : `archiving works (${row.archived} segments archived, last ${row.lastArchivedWal ?? 'none yet'})`,
      details,
      recommendation:
        'WAL is piling up in pg_wal and point-in-time recovery has a gap: read the server log for the archive_command error (permissions, full destination, network) and fix it.',
    };
  },
};
