import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { BackupManifest } from '../shared/backup-catalog';
import type { ConnectionSettings } from '../shared/credentials';
import { libpqEnv } from '../shared/credentials';
import { JobError } from '../shared/errors';
import { pgToolPath, pgToolVersion } from '../shared/pg-tools';
import { hasher } from '../shared/sha256-stream';
import { neverStopped } from '../shared/stop-signals';
import type { ObjectStore } from '../shared/store';
import { spawnTool, type ToolProcess } from '../shared/tool-process';
import { type ArchiveSource, checkDigest } from './archive-source';
import { type Ownership, pgRestoreOwnershipArgs } from './restore-ownership';
import { restoresThroughScript, withoutTransactionTimeout } from './script-settings';

/** Parallel jobs for a file restore: one per core, at least 2 (pg_restore waits on the server too). */
const RESTORE_JOBS = Math.max(2, Math.min(availableParallelism(), 8));

/**
 * pg_restore into `database`, with the dump's owners and grants or without (restore-ownership.ts
 * says which and why), stopping at the first error. Into a server at least as new as
 * pg_restore's own 17+ settings, pg_restore connects itself: from a file with parallel jobs, from
 * the store in one transaction, so a failure leaves an empty database to drop, not half a restore.
 * Into PostgreSQL 13-16 with pg_restore 17+, pg_restore writes a script (one transaction) that
 * psql runs, without the `SET transaction_timeout` those servers reject; that restore is serial.
 * A stop (`signal`) ends pg_restore and psql and the read from the store, then throws its reason.
 */
export async function runPgRestore(options: {
  settings: ConnectionSettings;
  database: string;
  serverVersionNum: number;
  source: ArchiveSource;
  store: ObjectStore;
  manifest: BackupManifest;
  ownership: Ownership;
  /** Restore only these entries (pg_restore --use-list), in this order. */
  listFile?: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { settings, database, source } = options;
  const signal = options.signal ?? neverStopped;
  signal.throwIfAborted();
  const env = libpqEnv(settings, 'pgmaint/restore', database);
  const input = source.kind === 'file' ? [source.path] : [];
  const stdin = source.kind === 'file' ? 'ignore' : 'pipe';
  const pgRestore = pgToolPath('pg_restore');
  const selection = [
    ...pgRestoreOwnershipArgs(options.ownership),
    ...(options.listFile ? [`--use-list=${options.listFile}`] : []),
  ];
  const viaScript = restoresThroughScript(
    (await pgToolVersion('pg_restore')).major,
    options.serverVersionNum,
  );

  // Checked in the order they are reported: the first failing one explains the others.
  const tools: Array<{ label: string; tool: ToolProcess }> = [];
  let reader: ToolProcess;
  let scriptFed: Promise<unknown> = Promise.resolve();
  if (!viaScript) {
    const mode = source.kind === 'file' ? `--jobs=${RESTORE_JOBS}` : '--single-transaction';
    const args = [...selection, '--exit-on-error', '--no-password', `--dbname=${database}`, mode];
    reader = spawnTool(pgRestore, [...args, ...input], env, stdin);
    tools.push({ label: 'pg_restore failed', tool: reader });
  } else {
    const psql = spawnPsql(settings, database);
    reader = spawnTool(pgRestore, [...selection, '--single-transaction', '--file=-', ...input], {}, stdin);
    const { stdout } = reader.child;
    const psqlIn = psql.child.stdin;
    if (!stdout || !psqlIn)
      throw new Error('the script restore needs piped pg_restore stdout and psql stdin');
    scriptFed = pipeline(stdout, withoutTransactionTimeout(), psqlIn).catch((error: unknown) => error);
    tools.push({ label: 'pg_restore failed (its script, run by psql)', tool: psql });
    tools.push({ label: 'pg_restore failed', tool: reader });
  }

  const stopTools = () => {
    for (const { tool } of tools) void tool.stop();
  };
  signal.addEventListener('abort', stopTools, { once: true });
  if (signal.aborted) stopTools();
  const digest = hasher();
  let fed: Promise<unknown> = Promise.resolve();
  let codes: number[];
  let feedError: unknown;
  try {
    if (source.kind === 'stream') {
      const readerIn = reader.child.stdin;
      if (!readerIn) throw new Error('pg_restore needs a piped stdin');
      fed = pipeline(await options.store.getStream(options.manifest.key), digest.stream, readerIn, {
        signal,
      }).catch((error: unknown) => error);
    }
    codes = await Promise.all(tools.map(({ tool }) => tool.exited));
    await scriptFed;
    feedError = await fed;
  } finally {
    signal.removeEventListener('abort', stopTools);
  }
  if (signal.aborted) throw signal.reason;
  tools.forEach(({ label, tool }, i) => {
    if (codes[i] !== 0) throw new JobError(`${label} (exit ${codes[i]}): ${tool.stderrTail()}`);
  });
  if (source.kind === 'file') return;
  if (feedError)
    throw new JobError(`reading ${options.manifest.key} failed: ${(feedError as Error).message}`);
  // Checked again on the bytes actually restored: the object could have changed since the first read.
  checkDigest(options.manifest, digest.result());
}

/** psql running a script from its stdin into `database`, stopping at the first error. */
export function spawnPsql(settings: ConnectionSettings, database: string): ToolProcess {
  const psql = spawnTool(
    pgToolPath('psql'),
    ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1', `--dbname=${database}`],
    libpqEnv(settings, 'pgmaint/restore', database),
    'pipe',
  );
  psql.child.stdout?.resume();
  return psql;
}
