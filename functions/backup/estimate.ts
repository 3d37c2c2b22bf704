import type { BackupManifest } from '../shared/backup-catalog';
import { listBackups } from '../shared/backup-catalog';
import { backupSection } from '../shared/config/sections';
import type { JobContext, RunEstimate } from '../shared/job';
import { loadSql } from '../shared/sql';
import { formatBytes, formatDuration } from '../shared/units';

/**
 * Bytes of database per second when no earlier backup of the target measured one: well under the
 * 35 MB/s the bench measured on 2 vCPUs with zstd, for a slower server, gzip, or a busy network.
 */
export const DEFAULT_BACKUP_BYTES_PER_SECOND = 20 * 1024 ** 2;
/** How many earlier backups the throughput is taken from (the slowest of them). */
const MEASURED_BACKUPS = 3;
/** On top of the throughput's figure: a database grows, a server is busier some nights. */
const ESTIMATE_FACTOR = 1.2;
/** Kept for preflight, counts, globals, manifest and pruning (the run's own deadline margin is 30 s). */
const FIXED_MS = 60_000;
/** A parallel dump's disk beside the dump (as dump-jobs.ts keeps free). */
const DISK_HEADROOM_BYTES = 256 * 1024 ** 2;

/**
 * Database bytes per second, from the slowest of the last few backups' manifests (database size ÷
 * duration: what the next run will meet), or undefined when none measured one.
 */
export function measuredThroughput(
  earlier: readonly BackupManifest[],
): { bytesPerSecond: number; backups: number } | undefined {
  const rates = earlier
    .slice(0, MEASURED_BACKUPS)
    .filter((m) => m.durationMs > 0 && m.databaseSizeBytes > 0)
    .map((m) => m.databaseSizeBytes / (m.durationMs / 1000));
  if (rates.length === 0) return undefined;
  return { bytesPerSecond: Math.min(...rates), backups: rates.length };
}

/** A backup of `sizeBytes` at the measured (else the default) throughput, margins included. */
export function backupEstimate(
  sizeBytes: number,
  earlier: readonly BackupManifest[],
  jobs: 'auto' | number,
): RunEstimate {
  const measured = measuredThroughput(earlier);
  const bytesPerSecond = measured?.bytesPerSecond ?? DEFAULT_BACKUP_BYTES_PER_SECOND;
  const durationMs = Math.ceil((sizeBytes / bytesPerSecond) * 1000 * ESTIMATE_FACTOR) + FIXED_MS;
  const rate = `${(bytesPerSecond / 1024 ** 2).toFixed(1)} MB/s`;
  const source = measured
    ? `the slowest of the last ${measured.backups} backup(s)`
    : 'the default: no earlier backup measured one';
  return {
    durationMs,
    // backup.jobs > 1 dumps to local disk and is refused without room; "auto" streams instead.
    ...(typeof jobs === 'number' && jobs > 1 ? { tmpBytes: sizeBytes + DISK_HEADROOM_BYTES } : {}),
    basis: `database ${formatBytes(sizeBytes)} at ${rate} (${source}) × ${ESTIMATE_FACTOR} + ${formatDuration(FIXED_MS)}`,
  };
}

/** The estimate of this target's next backup: pg_database_size and the earlier manifests. */
export async function estimateBackup(context: JobContext): Promise<RunEstimate> {
  const policy = backupSection.parse(context.target.backup ?? {});
  const client = await context.connect();
  let sizeBytes: number;
  try {
    const { rows } = await client.query<{ database_size: string }>(loadSql('backup/preflight'));
    sizeBytes = Number(rows[0]?.database_size ?? 0);
  } finally {
    await client.end().catch(() => {});
  }
  const earlier = await listBackups(context.store(), context.targetName, (m) => context.logger.warn(m));
  return backupEstimate(sizeBytes, earlier, policy.jobs);
}
