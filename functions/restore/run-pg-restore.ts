import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { BackupManifest } from '../shared/backup-catalog';
import type { ConnectionSettings } from '../shared/credentials';
import { libpqEnv } from '../shared/credentials';
import { JobError } from '../shared/errors';
import { pgToolPath } from '../shared/pg-tools';
import type { ObjectStore } from '../shared/store';
import { spawnTool } from '../shared/tool-process';
import { type ArchiveSource, checkDigest, hasher } from './archive-source';
import { type Ownership, pgRestoreOwnershipArgs } from './restore-ownership';

/** Parallel jobs for a file restore: one per core, at least 2 (pg_restore waits on the server too). */
const RESTORE_JOBS = Math.max(2, Math.min(availableParallelism(), 8));

/**
 * pg_restore into `database`, with the dump's owners and grants or without (restore-ownership.ts
 * says which and why), stopping at the first error. From a file: parallel jobs. From
 * the store: one transaction, so a failure leaves an empty database to drop, not half a restore.
 */
export async function runPgRestore(options: {
  settings: ConnectionSettings;
  database: string;
  source: ArchiveSource;
  store: ObjectStore;
  manifest: BackupManifest;
  ownership: Ownership;
  /** Restore only these entries (pg_restore --use-list), in this order. */
  listFile?: string;
}): Promise<void> {
  const { settings, database, source } = options;
  const env = libpqEnv(settings, 'pgmaint/restore', database);
  const common = [
    ...pgRestoreOwnershipArgs(options.ownership),
    ...(options.listFile ? [`--use-list=${options.listFile}`] : []),
    '--exit-on-error',
    '--no-password',
    `--dbname=${database}`,
  ];
  if (source.kind === 'file') {
    const tool = spawnTool(pgToolPath('pg_restore'), [...common, `--jobs=${RESTORE_JOBS}`, source.path], env);
    const code = await tool.exited;
    if (code !== 0) throw new JobError(`pg_restore failed (exit ${code}): ${tool.stderrTail()}`);
    return;
  }
  const tool = spawnTool(pgToolPath('pg_restore'), [...common, '--single-transaction'], env, 'pipe');
  const stdin = tool.child.stdin;
  if (!stdin) throw new Error('pg_restore needs a piped stdin');
  const digest = hasher();
  const fed = pipeline(await options.store.getStream(options.manifest.key), digest.stream, stdin).catch(
    (error: unknown) => error,
  );
  const code = await tool.exited;
  const feedError = await fed;
  if (code !== 0) throw new JobError(`pg_restore failed (exit ${code}): ${tool.stderrTail()}`);
  if (feedError)
    throw new JobError(`reading ${options.manifest.key} failed: ${(feedError as Error).message}`);
  // Checked again on the bytes actually restored: the object could have changed since the first read.
  checkDigest(options.manifest, digest.result());
}
