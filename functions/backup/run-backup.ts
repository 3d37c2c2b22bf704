import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BackupManifest,
  backupFileKey,
  backupKey,
  backupSeries,
  directoryBackupKey,
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
import type { ObjectStore } from '../shared/store';
import type { BackupCopy, DumpExcludes } from '../shared/store/layout';
import { makeTempDir } from '../shared/temp-dirs';
import { spawnTool } from '../shared/tool-process';
import { formatBytes, formatDuration } from '../shared/units';
import { copyToDestinations } from './copy-destinations';
import { type DirectoryArchive, dumpDirectoryToStore } from './directory-dump';
import { dumpGlobals } from './dump-globals';
import { chooseDumpJobs } from './dump-jobs';
import { excludeArgs, noExcludes } from './exclude-patterns';
import { objectLockFor, withLock } from './object-lock';
import { backupsToPrune, deleteBackups, orphanDumps } from './prune-backups';
import type { ServerBackupResult } from './server-backup';
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
  /** "directory": pg_dump --jobs `jobs` to local disk, each file uploaded; "custom": one stream. */
  readonly format: 'custom' | 'directory';
  readonly jobs: number;
  /** Directory format: how many files were uploading or uploaded before pg_dump exited. */
  readonly uploadedDuringDump?: number;
  /**
   * Where the time went: preflightMs (connect, checks, earlier manifests), dumpMs (until pg_dump
   * exited), uploadTailMs (the verifier's last bytes and the upload's completion), finishMs (row
   * counts, globals, manifest, pruning).
   */
  readonly phases: Readonly<Record<string, number>>;
  /** Keys of older backups deleted by the retention policy after this one was verified. */
  readonly pruned: readonly string[];
  /** backup.objectLock: when this backup's objects can be deleted, at the earliest. */
  readonly lockedUntil?: string;
  /** Expired backups the store still holds locked: left, not an error; pruned once it lets go. */
  readonly stillLocked?: readonly string[];
  /** backup.copies: where verified copies of this backup are. */
  readonly copies?: readonly BackupCopy[];
  /** What backup.excludeSchemas/excludeTables/excludeTableData left out; absent: nothing. */
  readonly excludes?: DumpExcludes;
  /**
   * Incomplete uploads under this target's prefix, begun over a day ago (runs killed mid-upload),
   * that this run aborted; null when listing them failed (the run goes on, with a warning).
   */
  readonly staleUploadsAborted: number | null;
}

/** One database's backup within a run of a target with `databases` (no target-wide fields). */
export type DatabaseBackup = Omit<BackupResult, 'target' | 'staleUploadsAborted'>;

/**
 * How one database's backup gets its globals: dumped beside it (a one-database target), or the
 * server's, saved once for the whole run (a target with `databases`).
 */
export type GlobalsSource =
  | { readonly kind: 'dump' }
  | { readonly kind: 'shared'; readonly key?: string; readonly skipped?: string };

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

/** A one-database target's backup (a target with `databases`: server-backup.ts). */
export async function runBackup(context: JobContext): Promise<BackupResult> {
  // Housekeeping of older runs' leftovers, beside the dump: it never touches this run's upload.
  const staleUploadsAborting = abortStaleUploads(context);
  const backup = await backupDatabase(context, { globals: { kind: 'dump' } });
  const staleUploadsAborted = await staleUploadsAborting;
  await removeOrphans(context);
  return { target: context.targetName, ...backup, staleUploadsAborted };
}

/**
 * Backs up one database: the target's own, or `database` of a target with `databases` (its own
 * key prefix, manifest and retention series). Takes the job's lock in that database.
 */
export async function backupDatabase(
  context: JobContext,
  run: { readonly database?: string; readonly globals: GlobalsSource },
): Promise<DatabaseBackup> {
  const policy = backupSection.parse(context.target.backup ?? {});
  const store = context.store();
  const settings = await context.connection();
  const excludes: DumpExcludes = {
    schemas: policy.excludeSchemas,
    tables: policy.excludeTables,
    tableData: policy.excludeTableData,
  };
  // No statement timeout: exact counts on big tables take as long as they take, under the deadline.
  const client = await context.connect({
    statementTimeoutMs: 0,
    lockTimeoutMs: 60_000,
    ...(run.database !== undefined ? { database: run.database } : {}),
  });
  try {
    // Held by this session until it ends: a retry or a manual run never dumps beside this one.
    await takeJobLockOrRefuse(client, 'backup');
    const started = context.now();
    const startedMs = performance.now();
    const phases = phaseTimer();
    // Independent look-ups, at once: each is a round trip (or a process) the dump would wait for.
    // Awaited in this order so that the first refusal is still the one reported.
    const serverRead = readServer(client);
    const versionRead = pgToolVersion('pg_dump');
    const lockRead = objectLockFor(store, policy, started);
    const earlierRead = listBackups(store, context.targetName, (m) => context.logger.warn(m), run.database);
    for (const pending of [versionRead, lockRead, earlierRead]) pending.catch(() => {});
    const server = await serverRead;
    const dumpVersion = await versionRead;
    const serverMajor = Math.floor(server.versionNum / 10_000);
    if (serverMajor > dumpVersion.major) {
      throw new RefusedError(
        `the server runs PostgreSQL ${server.version}, newer than the bundled pg_dump ${dumpVersion.major}.${dumpVersion.minor}: ` +
          'pg_dump cannot dump a newer server; deploy pgmaint with a newer PostgreSQL client',
      );
    }
    const lock = await lockRead;
    const series = run.database ?? '';
    const earlier = (await earlierRead).filter((b) => backupSeries(b) === series);
    refuseIfItCannotFit(context, server.sizeBytes, earlier[0]);
    context.signal.throwIfAborted();

    const { jobs, tmp } = await chooseDumpJobs(policy.jobs, server.sizeBytes);
    const directory = jobs > 1;
    const key = await unusedKey(store, started, (at) =>
      directory
        ? directoryBackupKey(context.targetName, at, run.database)
        : backupKey(context.targetName, at, run.database),
    );
    const compression = dumpCompression(dumpVersion.major);
    const exactCounts =
      policy.countRows === 'auto' ? server.sizeBytes < COUNT_ROWS_AUTO_LIMIT_BYTES : policy.countRows;

    const snapshot = await openDumpSnapshot(client);
    phases.end('preflightMs');
    const env = libpqEnv(settings, 'pgmaint/backup', server.database);
    const deadline = deadlineSignal(
      context.remainingMs(),
      DEADLINE_MARGIN_MS,
      () =>
        new JobError(
          `stopped ${formatDuration(DEADLINE_MARGIN_MS)} before the Lambda timeout: the backup did not finish in time; the upload was cancelled`,
        ),
    );
    const signal = AbortSignal.any([context.signal, deadline.signal]);
    // Counting runs in the exported snapshot while pg_dump streams: the same rows, no extra wait.
    const counting = snapshot.countRows(exactCounts, excludes);
    counting.catch(() => {});
    // Roles and tablespaces are not in the snapshot anyway: read them meanwhile, off the tail.
    const globalsDumped =
      run.globals.kind === 'dump' ? dumpGlobals(env, server.database) : Promise.resolve(undefined);
    globalsDumped.catch(() => {});
    let archive: Awaited<ReturnType<typeof streamVerifiedDump>> | DirectoryArchive;
    context.progress.update({ phase: 'dump', bytes: 0 });
    try {
      if (directory) {
        const parent = await makeTempDir('backup', tmp);
        try {
          archive = await dumpDirectoryToStore({
            store: withLock(store, lock),
            key,
            dir: join(parent, 'archive'),
            pgDump: pgToolPath('pg_dump'),
            pgRestore: pgToolPath('pg_restore'),
            args: dumpArgs(compression, snapshot.id, excludes).filter((a) => !a.startsWith('--format=')),
            env,
            jobs,
            logger: context.logger,
            cancelled: rejectWhenAborted(signal),
          });
        } finally {
          await rm(parent, { recursive: true, force: true });
        }
      } else {
        const dump = spawnTool(pgToolPath('pg_dump'), dumpArgs(compression, snapshot.id, excludes), env);
        const verifier = spawnTool(pgToolPath('pg_restore'), ['--file=/dev/null'], {}, 'pipe');
        archive = await streamVerifiedDump({
          store: withLock(store, lock),
          key,
          dump,
          verifier,
          signal,
          onBytes: (bytes) => context.progress.update({ phase: 'dump', bytes }),
        });
      }
    } finally {
      deadline.clear();
    }
    phases.end('dumpMs', archive.dumpEndedAt);
    phases.end('uploadTailMs');
    context.progress.update({ phase: 'finishing', bytes: archive.bytes });
    const stored = 'files' in archive ? archive.files.map((f) => backupFileKey(key, f.name)) : [key];
    // The dump is stored but not yet a backup (no manifest): a stop from here on removes it.
    const globals = await removedIfStopped(context, [...stored, globalsKey(key)], async () => {
      // Exact counts of a big database can outlast the dump: a stop does not wait for them.
      const tables = await abortable(context.signal, counting);
      await snapshot.close();
      const saved = await abortable(context.signal, globalsDumped);
      if (saved?.sql !== undefined) await store.put(globalsKey(key), saved.sql, 'application/sql', lock);
      else if (saved) context.logger.warn(`globals not saved: ${saved.skipped}`);
      context.signal.throwIfAborted();
      return { saved, tables };
    });
    const { tables } = globals;
    const globalsFields = globalsOf(run.globals, globals.saved, key);

    const durationMs = Math.round(performance.now() - startedMs);
    const manifest: BackupManifest = {
      formatVersion: 1,
      target: context.targetName,
      database: server.database,
      key,
      ...globalsFields,
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
      ...('files' in archive ? { format: 'directory' as const, files: archive.files, jobs } : {}),
      ...(lock ? { lockedUntil: lock.until.toISOString(), lockMode: lock.mode } : {}),
      ...(noExcludes(excludes) ? {} : { excludes }),
    };
    // Written last: from this moment, and not before, the backup exists.
    await store.put(manifestKey(key), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json', lock);

    const { pruned, stillLocked } = await prune(context, policy, [manifest, ...earlier]);
    const copies = await copyToDestinations(context, withLock(store, lock), manifest, policy.copies ?? []);
    phases.end('finishMs');
    const throughputMBps = archive.bytes / 1024 / 1024 / Math.max(durationMs / 1000, 0.001);
    const dimensions = {
      target: context.targetName,
      ...(run.database !== undefined ? { database: run.database } : {}),
    };
    context.metrics.add('BackupBytes', 'Bytes', archive.bytes, dimensions);
    context.metrics.add('BackupDurationMs', 'Milliseconds', durationMs, dimensions);
    context.metrics.add('DatabaseSizeBytes', 'Bytes', server.sizeBytes, dimensions);
    return {
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
      format: directory ? 'directory' : 'custom',
      jobs,
      ...('uploadedDuringDump' in archive ? { uploadedDuringDump: archive.uploadedDuringDump } : {}),
      phases: phases.ms,
      pruned,
      ...(lock ? { lockedUntil: lock.until.toISOString() } : {}),
      ...(stillLocked.length > 0 ? { stillLocked } : {}),
      ...(copies.length > 0 ? { copies } : {}),
      ...(manifest.excludes ? { excludes: manifest.excludes } : {}),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

export function renderBackup(result: BackupResult | ServerBackupResult): string {
  if ('databases' in result) return renderServerBackup(result);
  return [
    ...databaseLines(result),
    ...(result.staleUploadsAborted
      ? [`  aborted     ${result.staleUploadsAborted} incomplete upload(s) older than a day`]
      : []),
  ].join('\n');
}

function renderServerBackup(result: ServerBackupResult): string {
  const failed = result.databases.filter((d) => d.status === 'failed');
  return [
    `${result.target}: backup of ${result.databases.length} database(s) ${result.status}${failed.length > 0 ? ` (${failed.length} failed)` : ''}`,
    `  globals     ${result.globalsKey ? `${result.store}/${result.globalsKey}` : `not saved: ${result.globalsSkipped}`}`,
    ...result.databases.flatMap((d) =>
      d.status === 'failed'
        ? [`${d.database}: FAILED: ${d.error}`]
        : databaseLines({ ...d, target: d.database }),
    ),
  ].join('\n');
}

function databaseLines(result: DatabaseBackup & { target: string }): string[] {
  return [
    `${result.target}: backup ${result.status}`,
    `  key         ${result.store}/${result.key}`,
    `  bytes       ${result.bytes} (${formatBytes(result.bytes)}; database ${formatBytes(result.databaseSizeBytes)})`,
    `  sha256      ${result.sha256}`,
    `  duration    ${formatDuration(result.durationMs)} (${result.throughputMBps} MB/s)`,
    `  compression ${result.compression}; exact row counts: ${result.rowCountsExact ? 'yes' : 'no'}`,
    `  format      ${result.format === 'directory' ? `directory (pg_dump --jobs ${result.jobs})` : 'custom (one stream)'}`,
    ...(result.pruned.length > 0 ? [`  pruned      ${result.pruned.join(', ')}`] : []),
    ...(result.lockedUntil ? [`  locked      until ${result.lockedUntil}`] : []),
    ...(result.copies ?? []).map((c) => `  copy        s3://${c.bucket} (${c.region}), sha256 checked`),
    ...(result.stillLocked
      ? [`  kept        ${result.stillLocked.join(', ')} (expired, but still locked in the store)`]
      : []),
    ...(result.excludes ? [`  excluded    ${describeExcludes(result.excludes)}`] : []),
  ];
}

function describeExcludes(excludes: DumpExcludes): string {
  return [
    ...(excludes.schemas.length > 0 ? [`schemas ${excludes.schemas.join(', ')}`] : []),
    ...(excludes.tables.length > 0 ? [`tables ${excludes.tables.join(', ')}`] : []),
    ...(excludes.tableData.length > 0 ? [`data of ${excludes.tableData.join(', ')}`] : []),
  ].join('; ');
}

/** The manifest's globals fields: the backup's own globals, or the run's shared ones. */
function globalsOf(
  source: GlobalsSource,
  saved: { sql?: string | undefined; skipped?: string | undefined } | undefined,
  key: string,
): Pick<BackupManifest, 'globalsKey' | 'globalsSkipped'> {
  if (source.kind === 'shared')
    return source.key ? { globalsKey: source.key } : { globalsSkipped: source.skipped ?? 'not dumped' };
  return saved?.sql !== undefined
    ? { globalsKey: globalsKey(key) }
    : { globalsSkipped: saved?.skipped ?? '' };
}

/**
 * The key for a backup started at `startedAt`, moved on a millisecond at a time while the store
 * already holds something there: a clock that stood still or stepped back never makes a backup
 * replace another.
 */
async function unusedKey(store: ObjectStore, startedAt: Date, keyAt: (at: Date) => string): Promise<string> {
  for (let offset = 0; offset < 1000; offset++) {
    const key = keyAt(new Date(startedAt.getTime() + offset));
    if ((await store.list(key)).length === 0) return key;
  }
  throw new JobError(
    `every backup key within a second of ${startedAt.toISOString()} is taken; nothing was dumped`,
  );
}

function dumpArgs(compression: string, snapshotId: string, excludes: DumpExcludes): string[] {
  return [
    '--format=custom',
    '--no-password',
    compressArg(compression),
    // Never queue behind an ACCESS EXCLUSIVE lock for long (everything else would queue behind us).
    '--lock-wait-timeout=60000',
    `--snapshot=${snapshotId}`,
    ...excludeArgs(excludes),
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
export async function abortStaleUploads(context: JobContext): Promise<number | null> {
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
): Promise<{ pruned: string[]; stillLocked: string[] }> {
  const store = context.store();
  try {
    const expired = backupsToPrune(backups, policy, context.now(), context.target.timezone);
    const { deleted, locked } = await deleteBackups(store, expired);
    if (locked.length > 0)
      context.logger.warn(`kept ${locked.length} expired object(s) the store still holds locked`, { locked });
    return { pruned: deleted, stillLocked: locked };
  } catch (error) {
    throw new JobError(
      `the backup is verified and stored, but deleting expired backups failed: ${errorMessage(error)}`,
    );
  }
}

/** Once per run, after the backups: what runs that died left under the target's prefix. */
export async function removeOrphans(context: JobContext, extra: readonly string[] = []): Promise<void> {
  const store = context.store();
  try {
    const orphans = [...(await orphanDumps(store, context.targetName, context.now())), ...extra];
    if (orphans.length > 0) {
      context.logger.warn(`removing ${orphans.length} unverified dump object(s) older than a day`, {
        orphans,
      });
      await store.delete(orphans);
    }
  } catch (error) {
    throw new JobError(
      `the backup is verified and stored, but deleting expired backups failed: ${errorMessage(error)}`,
    );
  }
}

/** The directory dump's cancellation as a promise: rejects with the signal's reason. */
function rejectWhenAborted(signal: AbortSignal): Promise<never> {
  const rejected = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  rejected.catch(() => {});
  return rejected;
}
