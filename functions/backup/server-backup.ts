import type { Client } from 'pg';
import { type BackupManifest, listBackups } from '../shared/backup-catalog';
import type { TargetConfig } from '../shared/config/schema';
import { backupSection } from '../shared/config/sections';
import { libpqEnv } from '../shared/credentials';
import { errorMessage, JobFailedError } from '../shared/errors';
import type { JobContext, JobResult } from '../shared/job';
import { takeJobLockOrRefuse } from '../shared/job-lock';
import { scrub } from '../shared/secrets-scrub';
import { loadSql } from '../shared/sql';
import { backupPrefix, serverGlobalsKey } from '../shared/store/layout';
import { dumpGlobals } from './dump-globals';
import { objectLockFor } from './object-lock';
import {
  abortStaleUploads,
  backupDatabase,
  type DatabaseBackup,
  type GlobalsSource,
  removeOrphans,
} from './run-backup';

/** A database of a target with `databases` that was not backed up, and why. */
export interface FailedDatabase {
  readonly database: string;
  readonly status: 'failed';
  readonly error: string;
}

export interface ServerBackupResult extends JobResult {
  /** "failed" never reaches a caller as a result: the run throws, with this as its result. */
  readonly status: 'succeeded' | 'failed';
  readonly store: string;
  /** Each database the run tried, in name order: its backup, or why it failed. */
  readonly databases: ReadonlyArray<DatabaseBackup | FailedDatabase>;
  /** The server's roles and tablespaces, saved once for the run; every manifest names them. */
  readonly globalsKey?: string;
  readonly globalsSkipped?: string;
  /** Databases on the server `exclude` left out. */
  readonly excluded: readonly string[];
  readonly staleUploadsAborted: number | null;
}

/** Whole-run lock, taken in the database pgmaint connects to: one run of the target at a time. */
const SERVER_LOCK = 'all-databases backup';
const DAY_MS = 86_400_000;

interface ServerDatabase {
  readonly name: string;
  readonly allows_connections: boolean;
  readonly is_template: boolean;
}

/**
 * A target with `databases`: each database backed up in turn, under its own key prefix with its
 * own manifest and retention series; the server's globals once. A database that fails does not
 * stop the others; the run then fails once, naming each failure and what became of the rest.
 */
export async function runServerBackup(context: JobContext): Promise<ServerBackupResult> {
  const policy = backupSection.parse(context.target.backup ?? {});
  const store = context.store();
  const settings = await context.connection();
  const discovery = await context.connect({ statementTimeoutMs: 60_000 });
  let plan: { names: string[]; missing: FailedDatabase[]; excluded: string[] };
  let globals: GlobalsSource;
  let staleUploadsAborted: number | null;
  try {
    await takeJobLockOrRefuse(discovery, SERVER_LOCK);
    plan = planDatabases(context.target, await serverDatabases(discovery));
    const started = context.now();
    staleUploadsAborted = await abortStaleUploads(context);
    const lock = await objectLockFor(store, policy, started);
    const saved = await dumpGlobals(libpqEnv(settings, 'pgmaint/backup'), settings.database);
    if (saved.sql !== undefined) {
      const key = serverGlobalsKey(context.targetName, started);
      await store.put(key, saved.sql, 'application/sql', lock);
      globals = { kind: 'shared', key };
    } else {
      context.logger.warn(`globals not saved: ${saved.skipped}`);
      globals = { kind: 'shared', skipped: saved.skipped };
    }

    const databases: Array<DatabaseBackup | FailedDatabase> = [...plan.missing];
    for (const name of plan.names) {
      context.signal.throwIfAborted();
      context.logger.info(`backing up database "${name}"`);
      try {
        databases.push(await backupDatabase(context, { database: name, globals }));
      } catch (error) {
        // A stop ends the run; anything else is this database's failure, and the next one goes on.
        if (context.signal.aborted) throw error;
        const message = scrub(errorMessage(error));
        context.logger.error(`database "${name}": backup failed: ${message}`);
        databases.push({ database: name, status: 'failed', error: message });
      }
    }
    databases.sort((a, b) => a.database.localeCompare(b.database));
    await removeOrphans(context, await unreferencedGlobals(context));

    const failed = databases.filter((d): d is FailedDatabase => d.status === 'failed');
    const result: ServerBackupResult = {
      target: context.targetName,
      status: failed.length > 0 ? 'failed' : 'succeeded',
      store: store.location,
      databases,
      ...(globals.key ? { globalsKey: globals.key } : { globalsSkipped: globals.skipped ?? '' }),
      excluded: plan.excluded,
      staleUploadsAborted,
    };
    if (failed.length > 0) throw new JobFailedError(describeFailures(databases, failed), result);
    return result;
  } finally {
    await discovery.end().catch(() => {});
  }
}

async function serverDatabases(client: Client): Promise<ServerDatabase[]> {
  return (await client.query<ServerDatabase>(loadSql('backup/databases'))).rows;
}

/**
 * Databases a managed service keeps for itself: they accept connections on paper but refuse every
 * customer role (RDS's `rdsadmin`: "permission denied for database"), so "*" would fail on them
 * every night. Named explicitly in a list, they are tried like any other.
 */
export const PROVIDER_DATABASES: readonly string[] = [
  'rdsadmin',
  'azure_maintenance',
  'azure_sys',
  'cloudsqladmin',
];

/**
 * Which databases to back up: "*" = every one that accepts connections and is no template nor a
 * provider's own (PROVIDER_DATABASES), minus `exclude` (read anew each run, so a database created since is in); a list = those named, each
 * that does not exist or refuses connections a failure of its own (never silently skipped).
 */
export function planDatabases(
  target: Pick<TargetConfig, 'databases' | 'exclude'>,
  onServer: readonly ServerDatabase[],
): { names: string[]; missing: FailedDatabase[]; excluded: string[] } {
  const exclude = new Set(target.exclude ?? []);
  if (target.databases === '*') {
    const candidates = onServer
      .filter((d) => d.allows_connections && !d.is_template && !PROVIDER_DATABASES.includes(d.name))
      .map((d) => d.name);
    return {
      names: candidates.filter((name) => !exclude.has(name)),
      missing: [],
      excluded: candidates.filter((name) => exclude.has(name)),
    };
  }
  const byName = new Map(onServer.map((d) => [d.name, d]));
  const names: string[] = [];
  const missing: FailedDatabase[] = [];
  for (const name of target.databases ?? []) {
    const found = byName.get(name);
    if (!found) missing.push({ database: name, status: 'failed', error: 'no such database on the server' });
    else if (!found.allows_connections)
      missing.push({
        database: name,
        status: 'failed',
        error: 'the database does not accept connections (datallowconn is false)',
      });
    else names.push(name);
  }
  return { names, missing, excluded: [] };
}

/** The alert's one message: each failure, then what the other databases did. */
function describeFailures(
  databases: ReadonlyArray<DatabaseBackup | FailedDatabase>,
  failed: readonly FailedDatabase[],
): string {
  const done = databases.filter((d): d is DatabaseBackup => d.status !== 'failed');
  const failures = failed.map((f) => `"${f.database}": ${f.error}`).join('; ');
  const others =
    done.length > 0
      ? `backed up and verified: ${done.map((d) => `"${d.database}" (${d.key})`).join(', ')}`
      : 'no database was backed up';
  return `${failed.length} of ${databases.length} database(s) failed: ${failures}. ${others}`;
}

/**
 * The run's shared globals objects no manifest names any more (their backups were pruned, or
 * every database of that run failed), once a day old: no run still writes manifests naming them.
 */
async function unreferencedGlobals(context: JobContext): Promise<string[]> {
  const store = context.store();
  const named = new Set(
    (await listBackups(store, context.targetName, (m) => context.logger.warn(m)))
      .map((m: BackupManifest) => m.globalsKey)
      .filter((key): key is string => key !== undefined),
  );
  const now = context.now().getTime();
  return (await store.list(`${backupPrefix(context.targetName)}globals/`))
    .filter((o) => !named.has(o.key) && now - o.lastModified.getTime() > DAY_MS)
    .map((o) => o.key);
}
