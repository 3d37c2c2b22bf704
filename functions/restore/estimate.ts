import { resolveBackup } from '../shared/backup-catalog';
import type { JobContext, RunEstimate } from '../shared/job';
import { formatBytes, formatDuration } from '../shared/units';
import type { RestoreOptions } from './restore-options';
import { backupSource } from './run-restore';

/**
 * Bytes of (backed-up) database restored per second: pg_restore loads the data, builds every
 * index and the run then counts every table's rows; slower than the dump, and no earlier restore
 * records its pace, so this is a cautious fixed rate.
 */
export const DEFAULT_RESTORE_BYTES_PER_SECOND = 15 * 1024 ** 2;
const ESTIMATE_FACTOR = 1.2;
/** Download and hash checks of the small files, the database's creation, the comparison. */
const FIXED_MS = 60_000;
/** As archive-source.ts keeps free beside a downloaded archive. */
const TMP_HEADROOM = 1.1;

/**
 * The backup this restore would read, from its manifest: the database's size then for the time,
 * and for a directory-format backup (restored from local disk) the archive's size for /tmp.
 */
export async function estimateRestore(context: JobContext, options: RestoreOptions): Promise<RunEstimate> {
  const from = options.from ?? context.targetName;
  const store = backupSource(context, from, options.copy);
  const manifest = await resolveBackup(store, from, options.drill ? 'latest' : options.backup);
  const durationMs =
    Math.ceil((manifest.databaseSizeBytes / DEFAULT_RESTORE_BYTES_PER_SECOND) * 1000 * ESTIMATE_FACTOR) +
    FIXED_MS;
  const directory = manifest.format === 'directory';
  return {
    durationMs,
    ...(directory ? { tmpBytes: Math.ceil(manifest.bytes * TMP_HEADROOM) } : {}),
    basis:
      `backup ${manifest.key}: database ${formatBytes(manifest.databaseSizeBytes)} at ` +
      `${DEFAULT_RESTORE_BYTES_PER_SECOND / 1024 ** 2} MB/s × ${ESTIMATE_FACTOR} + ${formatDuration(FIXED_MS)}` +
      (directory ? `; directory format, ${formatBytes(manifest.bytes)} restored from local disk` : ''),
  };
}
