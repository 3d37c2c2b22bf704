import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupManifest } from '../shared/backup-catalog';
import { type ConnectionSettings, libpqEnv } from '../shared/credentials';
import { JobError } from '../shared/errors';
import { pgToolPath, pgToolVersion } from '../shared/pg-tools';
import type { ObjectStore } from '../shared/store';
import { makeTempDir } from '../shared/temp-dirs';
import { spawnTool } from '../shared/tool-process';
import type { ArchiveSource } from './archive-source';
import { type DatabaseDefinition, readDatabaseDefinition } from './database-definition';
import { spawnPsql } from './run-pg-restore';
import { restoresThroughScript, withoutTransactionTimeout } from './script-settings';
import { rolesInAcl, type Statement, splitStatements, startsWith } from './sql-statements';

/** What the archive says about the database and about the roles its objects need. */
export interface ArchiveFacts {
  /** pg_dump's DATABASE entries (null: an archive without them, e.g. a dump of one schema). */
  readonly database: DatabaseDefinition | null;
  /**
   * The end of each `pg_restore -l` line, whose last word(s) are the entry's owner. Kept whole
   * because `-l` does not quote: a role name with a space is found by matching known roles.
   */
  readonly entryLines: readonly string[];
  /** The `pg_restore -l` lines themselves, in archive order. */
  readonly entries: readonly string[];
  /** Roles the grants, default privileges and per-role database settings name. */
  readonly grantRoles: readonly string[];
  /** Grantors of grants pg_dump restores with SET SESSION AUTHORIZATION (needs a superuser). */
  readonly sessionAuthorizations: readonly string[];
}

/** TOC entries whose SQL we read: the database's own and every grant. */
const READ_ENTRY =
  /^\d+; \d+ \d+ (DATABASE|DATABASE PROPERTIES|ACL|DEFAULT ACL|COMMENT - DATABASE|SECURITY LABEL - DATABASE) /;

/**
 * Reads the archive's table of contents, then prints (never runs) the SQL of its database and
 * grant entries. Both need only the archive's head: from the store, only the start is read.
 */
export async function readArchiveFacts(
  source: ArchiveSource,
  store: ObjectStore,
  manifest: BackupManifest,
): Promise<ArchiveFacts> {
  const list = await archiveText(['--list', '--create'], source, store, manifest);
  const entries = list.split('\n').filter((line) => /^\d+; /.test(line));
  const selected = entries.filter((line) => READ_ENTRY.test(line));
  const dir = await makeTempDir('toc');
  let sql = '';
  try {
    const listPath = join(dir, 'database-entries.list');
    await writeFile(listPath, `${selected.join('\n')}\n`);
    if (selected.length > 0)
      sql = await archiveText(['--create', `--use-list=${listPath}`, '--file=-'], source, store, manifest);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const statements = splitStatements(sql);
  const grantRoles = new Set<string>();
  const sessionAuthorizations = new Set<string>();
  for (const statement of statements) {
    if (isAcl(statement)) for (const role of rolesInAcl(statement)) grantRoles.add(role);
    if (startsWith(statement, 'SET', 'SESSION', 'AUTHORIZATION')) {
      const role = statement.tokens[3];
      if (role && role.kind !== 'word') sessionAuthorizations.add(role.value);
      else if (role) sessionAuthorizations.add(role.value.toLowerCase());
    }
  }
  const database = readDatabaseDefinition(sql);
  for (const setting of database?.roleSettings ?? []) grantRoles.add(setting.role);
  return {
    database,
    entryLines: entries.map((line) => line.replace(/^\d+; \d+ \d+ /, '')),
    entries,
    grantRoles: [...grantRoles],
    sessionAuthorizations: [...sessionAuthorizations],
  };
}

/**
 * The database as pg_dump sees it now (the restored copy, or the live database it replaces), in
 * the same terms as the archive's: pg_dump --create of no schema at all prints just the database.
 * pg_dump is the bundled one, which is never older than the servers pgmaint backs up.
 */
export async function describeDatabase(
  settings: ConnectionSettings,
  database: string,
): Promise<DatabaseDefinition> {
  const tool = spawnTool(
    pgToolPath('pg_dump'),
    ['--create', '--schema-only', '--exclude-schema=*', '--no-password'],
    libpqEnv(settings, 'pgmaint/restore', database),
  );
  const out = collect(tool.child.stdout);
  const code = await tool.exited;
  if (code !== 0)
    throw new JobError(`reading the properties of database "${database}" failed: ${tool.stderrTail()}`);
  const definition = readDatabaseDefinition(await out);
  if (!definition) throw new JobError(`pg_dump printed no CREATE DATABASE for "${database}"`);
  return definition;
}

/** The database's own entries: pg_restore applies them only with --create; pgmaint applies them itself. */
const DATABASE_ENTRY =
  /^\d+; \d+ \d+ (DATABASE|DATABASE PROPERTIES|(ACL|COMMENT|SECURITY LABEL) - DATABASE) /;
const SCHEMA_ENTRY = /^\d+; \d+ \d+ (SCHEMA|ACL - SCHEMA) /;

/**
 * Restoring owners as a role that is not a superuser (RDS) meets a rule superusers skip: an
 * object can only be given to a role that may CREATE in its schema, and pg_restore grants that
 * CREATE only at the very end, with the other grants. So schemas and their grants go first, in
 * their own pg_restore, and everything else after (the returned list); the schemas' grants never
 * reach a table, so nothing else changes.
 */
export async function restoreSchemasFirst(
  facts: ArchiveFacts,
  source: ArchiveSource,
  store: ObjectStore,
  manifest: BackupManifest,
  target: { settings: ConnectionSettings; database: string; serverVersionNum: number },
): Promise<{ restList: string; dispose(): Promise<void> }> {
  const dir = await makeTempDir('lists');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const entries = facts.entries.filter((line) => !DATABASE_ENTRY.test(line));
    const first = entries.filter((line) => SCHEMA_ENTRY.test(line));
    const firstList = join(dir, 'schemas.list');
    const restList = join(dir, 'rest.list');
    await writeFile(firstList, `${first.join('\n')}\n`);
    await writeFile(restList, `${entries.filter((line) => !SCHEMA_ENTRY.test(line)).join('\n')}\n`);
    if (first.length > 0) await restoreSchemas(firstList, source, store, manifest, target);
    return { restList, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * The schemas' few statements: pg_restore connects itself, or, into PostgreSQL 13-16 with a 17+
 * pg_restore, prints them and psql runs them without the `SET transaction_timeout` those servers
 * reject (script-settings.ts).
 */
async function restoreSchemas(
  list: string,
  source: ArchiveSource,
  store: ObjectStore,
  manifest: BackupManifest,
  target: { settings: ConnectionSettings; database: string; serverVersionNum: number },
): Promise<void> {
  const env = libpqEnv(target.settings, 'pgmaint/restore', target.database);
  if (!restoresThroughScript((await pgToolVersion('pg_restore')).major, target.serverVersionNum)) {
    await archiveText(
      ['--exit-on-error', '--no-password', `--use-list=${list}`, `--dbname=${target.database}`],
      source,
      store,
      manifest,
      env,
    );
    return;
  }
  const script = await archiveText([`--use-list=${list}`, '--file=-'], source, store, manifest);
  const psql = spawnPsql(target.settings, target.database);
  const stdin = psql.child.stdin;
  if (!stdin) throw new Error('psql needs a piped stdin');
  const fed = pipeline(Readable.from([script]), withoutTransactionTimeout(), stdin).catch(
    (error: unknown) => error,
  );
  const code = await psql.exited;
  await fed;
  if (code !== 0)
    throw new JobError(
      `restoring the schemas of ${manifest.key} failed (exit ${code}): ${psql.stderrTail()}`,
    );
}

function isAcl(statement: Statement): boolean {
  return (
    startsWith(statement, 'GRANT') ||
    startsWith(statement, 'REVOKE') ||
    startsWith(statement, 'ALTER', 'DEFAULT', 'PRIVILEGES')
  );
}

/** pg_restore printing, from the local file or from the store (stopped once it has read enough). */
async function archiveText(
  args: readonly string[],
  source: ArchiveSource,
  store: ObjectStore,
  manifest: BackupManifest,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const fromFile = source.kind === 'file';
  const tool = spawnTool(
    pgToolPath('pg_restore'),
    fromFile ? [...args, source.path] : args,
    env,
    fromFile ? 'ignore' : 'pipe',
  );
  const out = collect(tool.child.stdout);
  let feeding: Promise<unknown> = Promise.resolve();
  if (!fromFile) {
    const body = await store.getStream(manifest.key);
    const stdin = tool.child.stdin;
    if (!stdin) throw new Error('pg_restore needs a piped stdin');
    // pg_restore closes its stdin once it has the table of contents: a broken pipe is expected.
    feeding = pipeline(body, stdin).catch(() => {});
    void tool.exited.then(() => body.destroy());
  }
  const code = await tool.exited;
  await feeding;
  if (code !== 0)
    throw new JobError(`pg_restore of ${manifest.key} failed (exit ${code}): ${tool.stderrTail()}`);
  return out;
}

function collect(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stream) return resolve('');
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
