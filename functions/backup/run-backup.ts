import {
  type BackupManifest,
  backupKey,
  globalsKey,
  listBackups,
  manifestKey,
} from '../shared/backup-catalog';
import type { BackupConfig } from '../shared/config/schema';
import { backupSection } from '../shared/config/sections';
import { libpqEnv } from '../shared/credentials';
import { errorMessage, JobError, RefusedError } from '../shared/errors';
import type { JobContext, JobResult } from '../shared/job';
import { takeJobLockOrRefuse } from '../shared/job-lock';
import { pgToolPath, pgToolVersion } from '../shared/pg-tools';
import { phaseTimer } from '../shared/phase-timer';
import { loadSql } from '../shared/sql';
import { abortable, deadlineSignal } from '../shared/stop-signals';
import { spawnTool } from '../shared/tool-process';
import { formatBytes, formatDuration } from '../shared/units';
import { dumpGlobals } from './dump-globals';
import { backupsToPrune, deleteBackups, orphanDumps } from './prune-backups';
import { openDumpSnapshot } from './snapshot-counts';
import { streamVerifiedDump } from './stream-verified-dump';

export interface BackupResult extends JobResult {
  readonly status: 'succeeded';
  readonly key: string;
  readonly manifestKey: string;
  readonly globalsKey?: string;
  readonly store: string;
  readonly database: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly durationMs: number;
  readonly throughputMBps: number;
  readonly databaseSizeBytes: number;
  readonly compression: string;
  readonly rowCountsExact: boolean;
  /**
   * Where the time went: preflightMs (connect, checks, earlier manifests), dumpMs (until pg_dump
   * exited), uploadTailMs (the verifier's last bytes and the upload's completion), finishMs (row
   * counts, globals, manifest, pruning).
   */
  readonly phases: Readonly<Record<string, number>>;
  /** Keys of older backups deleted by the retention policy after this one was verified. */
  readonly pruned: readonly string[];
  /**
   * Incomplete uploads under this target's prefix, begun over a day ago (runs killed mid-upload),
   * that this run aborted; null when listing them failed (the run goes on, with a warning).
   */
  readonly staleUploadsAborted: number | null;
}

/** Exact counts in the dump's snapshot are cheap enough below this size ("auto"). */
const COUNT_ROWS_AUTO_LIMIT_BYTES = 10 * 1024 ** 3;
/** Time kept back from the Lambda deadline to cancel the upload, clean up and alert. */
const DEADLINE_MARGIN_MS = 30_000;
const GZIP_LEVEL = 6;
const ZSTD_LEVEL = 3;
/** An upload begun longer ago than this belongs to no live run: the longest run is a Lambda's 15 minutes. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;

/** zstd from pg_dump 16 on (faster and smaller at level 3), gzip before. */
export function dumpCompression(pgDumpMajor: number): string {
  return pgDumpMajor >= 16 ? `zstd:${ZSTD_LEVEL}` : `gzip:${GZIP_LEVEL}`;
}

/** pg_dump's --compress for `dumpCompression`'s choice (pg_dump 15 takes only a gzip level). */
export function compressArg(compression: string): string {
  const [method, level] = compression.split(':');
  return method === 'gzip' ? `--compress=${level}` : `--compress=${compression}`;
}

export async function runBackup(context: JobContext): Promise<BackupResult> {
  const policy = backupSection.parse(context.target.backup ?? {});
  const store = context.store();
  const settings = await context.connection();
  // No statement timeout: exact counts on big tables take as long as they take, under the deadline.
  const client = await context.connect({ statementTimeoutMs: 0, lockTimeoutMs: 60_000 });
  try {
    // Held by this session until it ends: a retry or a manual run never dumps beside this one.
    await takeJobLockOrRefuse(client, 'backup');
    const started = context.now();
    const startedMs = performance.now();
    const phases = phaseTimer();
    const server = await readServer(client);
    const dumpVersion = await pgToolVersion('pg_dump');
    const serverMajor = Math.floor(server.versionNum / 10_000);
    if (serverMajor > dumpVersion.major) {
      throw new RefusedError(
        `the server runs PostgreSQL ${server.version}, newer than the bundled pg_dump ${dumpVersion.major}.${dumpVersion.minor}: ` +
          'pg_dump cannot dump a newer server; deploy pgmaint with a newer PostgreSQL client',
      );
    }
    const earlier = await listBackups(store, context.targetName);
    refuseIfItCannotFit(context, server.sizeBytes, earlier[0]);
    const staleUploadsAborted = await abortStaleUploads(context);
    context.signal.throwIfAborted();

    const key = backupKey(context.targetName, started);
    const compression = dumpCompression(dumpVersion.major);
    const exactCounts =
      policy.countRows === 'auto' ? server.sizeBytes < COUNT_ROWS_AUTO_LIMIT_BYTES : policy.countRows;

    const snapshot = await openDumpSnapshot(client);
    phases.end('preflightMs');
    const env = libpqEnv(settings, 'pgmaint/backup');
    const dump = spawnTool(pgToolPath('pg_dump'), dumpArgs(compression, snapshot.id), env);
    const verifier = spawnTool(pgToolPath('pg_restore'), ['--file=/dev/null'], {}, 'pipe');
    const deadline = deadlineSignal(
      context.remainingMs(),
      DEADLINE_MARGIN_MS,
      () =>
        new JobError(
          `stopped ${formatDuration(DEADLINE_MARGIN_MS)} before the Lambda timeout: the backup did not finish in time; the upload was cancelled`,
        ),
    );
    // Counting runs in the exported snapshot while pg_dump streams: the same rows, no extra wait.
    const counting = snapshot.countRows(exactCounts);
    counting.catch(() => {});
    let archive: Awaited<ReturnType<typeof streamVerifiedDump>>;
    context.progress.update({ phase: 'dump', bytes: 0 });
    try {
      archive = await streamVerifiedDump({
        store,
        key,
        dump,
        verifier,
        signal: AbortSignal.any([context.signal, deadline.signal]),
        onBytes: (bytes) => context.progress.update({ phase: 'dump', bytes }),
      });
    } finally {
      deadline.clear();
    }
    phases.end('dumpMs', archive.dumpEndedAt);
    phases.end('uploadTailMs');
    context.progress.update({ phase: 'finishing', bytes: archive.bytes });
    // The dump is stored but not yet a backup (no manifest): a stop from here on removes it.
    const globals = await removedIfStopped(context, [key, globalsKey(key)], async () => {
      // Exact counts of a big database can outlast the dump: a stop does not wait for them.
      const tables = await abortable(context.signal, counting);
      await snapshot.close();
      const saved = await abortable(context.signal, dumpGlobals(env, server.database));
      if (saved.sql !== undefined) await store.put(globalsKey(key), saved.sql, 'application/sql');
      else context.logger.warn(`globals not saved: ${saved.skipped}`);
      context.signal.throwIfAborted();
      return { ...saved, tables };
    });
    const { tables } = globals;

    const durationMs = Math.round(performance.now() - startedMs);
    const manifest: BackupManifest = {
      formatVersion: 1,
      target: context.targetName,
      database: server.database,
      key,
      ...(globals.sql !== undefined ? { globalsKey: globalsKey(key) } : { globalsSkipped: globals.skipped }),
      startedAt: started.toISOString(),
      finishedAt: context.now().toISOString(),
      durationMs,
      bytes: archive.bytes,
      sha256: archive.sha256,
      serverVersion: server.version,
      serverVersionNum: server.versionNum,
      pgDumpVersion: `${dumpVersion.major}.${dumpVersion.minor}`,
      archiveVersion: archive.archiveVersion,
      compression,
      databaseSizeBytes: server.sizeBytes,
      tables,
      rowCountsExact: exactCounts,
      rowCountsOnly: true,
    };
    // Written last: from this moment, and not before, the backup exists.
    await store.put(manifestKey(key), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');

    const pruned = await prune(context, policy, [manifest, ...earlier]);
    phases.end('finishMs');
    const throughputMBps = archive.bytes / 1024 / 1024 / Math.max(durationMs / 1000, 0.001);
    const dimensions = { target: context.targetName };
    context.metrics.add('BackupBytes', 'Bytes', archive.bytes, dimensions);
    context.metrics.add('BackupDurationMs', 'Milliseconds', durationMs, dimensions);
    context.metrics.add('DatabaseSizeBytes', 'Bytes', server.sizeBytes, dimensions);
    return {
      target: context.targetName,
      status: 'succeeded',
      key,
      manifestKey: manifestKey(key),
      ...(manifest.globalsKey ? { globalsKey: manifest.globalsKey } : {}),
      store: store.location,
      database: server.database,
      bytes: archive.bytes,
      sha256: archive.sha256,
      durationMs,
      throughputMBps: Math.round(throughputMBps * 100) / 100,
      databaseSizeBytes: server.sizeBytes,
      compression,
      rowCountsExact: exactCounts,
      phases: phases.ms,
      pruned,
      staleUploadsAborted,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

export function renderBackup(result: BackupResult): string {
  return [
    `${result.target}: backup ${result.status}`,
    `  key         ${result.store}/${result.key}`,
    `  bytes       ${result.bytes} (${formatBytes(result.bytes)}; database ${formatBytes(result.databaseSizeBytes)})`,
    `  sha256      ${result.sha256}`,
    `  duration    ${formatDuration(result.durationMs)} (${result.throughputMBps} MB/s)`,
    `  compression ${result.compression}; exact row counts: ${result.rowCountsExact ? 'yes' : 'no'}`,
    ...(result.pruned.length > 0 ? [`  pruned      ${result.pruned.join(', ')}`] : []),
    ...(result.staleUploadsAborted
      ? [`  aborted     ${result.staleUploadsAborted} incomplete upload(s) older than a day`]
      : []),
  ].join('\n');
}

function dumpArgs(compression: string, snapshotId: string): string[] {
  return [
    '--format=custom',
    '--no-password',
    compressArg(compression),
    // Never queue behind an ACCESS EXCLUSIVE lock for long (everything else would queue behind us).
    '--lock-wait-timeout=60000',
    `--snapshot=${snapshotId}`,
  ];
}

async function readServer(client: import('pg').Client) {
  const { rows } = await client.query<{
    server_version: string;
    server_version_num: number;
    database: string;
    database_size: string;
  }>(loadSql('backup/preflight'));
  const row = rows[0];
  if (!row) throw new JobError('the preflight query returned nothing');
  return {
    version: row.server_version.split(' ')[0] ?? row.server_version,
    versionNum: Number(row.server_version_num),
    database: row.database,
    sizeBytes: Number(row.database_size),
  };
}

/**
 * Fails early, with an alert that says so, when the last backup's throughput says this one
 * cannot finish before the Lambda deadline: better than being killed mid-upload.
 */
function refuseIfItCannotFit(context: JobContext, sizeBytes: number, previous: BackupManifest | undefined) {
  const remaining = context.remainingMs();
  if (!Number.isFinite(remaining) || !previous || previous.durationMs <= 0) return;
  const bytesPerMs = previous.databaseSizeBytes / previous.durationMs;
  if (bytesPerMs <= 0) return;
  const estimateMs = (sizeBytes / bytesPerMs) * 1.2;
  if (estimateMs > remaining - DEADLINE_MARGIN_MS) {
    throw new RefusedError(
      `a backup of ${formatBytes(sizeBytes)} is estimated at ${formatDuration(estimateMs)} (from the last backup's ` +
        `throughput) but only ${formatDuration(remaining)} remain before the Lambda timeout; nothing was started`,
    );
  }
}

/** Aborts what killed runs left under this target's prefix; a failure only warns. */
async function abortStaleUploads(context: JobContext): Promise<number | null> {
  const startedBefore = new Date(context.now().getTime() - STALE_UPLOAD_MS);
  try {
    const aborted = await context.store().abortStaleUploads(`${context.targetName}/`, startedBefore);
    if (aborted > 0)
      context.logger.warn(
        `aborted ${aborted} incomplete upload(s) under ${context.targetName}/ begun before ${startedBefore.toISOString()} (runs killed mid-upload)`,
      );
    return aborted;
  } catch (error) {
    context.logger.warn(`could not look for incomplete uploads to abort: ${errorMessage(error)}`);
    return null;
  }
}

/** Runs `work`; when it fails because the run was stopped, deletes `keys` first. */
async function removedIfStopped<T>(context: JobContext, keys: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (context.signal.aborted)
      await context
        .store()
        .delete(keys)
        .catch(() => {});
    throw error;
  }
}

async function prune(
  context: JobContext,
  policy: BackupConfig,
  backups: BackupManifest[],
): Promise<string[]> {
  const store = context.store();
  try {
    const expired = backupsToPrune(backups, policy, context.now(), context.target.timezone);
    await deleteBackups(store, expired);
    const orphans = await orphanDumps(store, context.targetName, context.now());
    if (orphans.length > 0) {
      context.logger.warn(`removing ${orphans.length} unverified dump object(s) older than a day`, {
        orphans,
      });
      await store.delete(orphans);
    }
    return expired.map((b) => b.key);
  } catch (error) {
    throw new JobError(
      `the backup is verified and stored, but deleting expired backups failed: ${errorMessage(error)}`,
    );
  }
}
