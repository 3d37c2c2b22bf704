import type { Client } from 'pg';
import { copyStore } from '../backup/copy-backup';
import { type BackupManifest, resolveBackup } from '../shared/backup-catalog';
import { namesSeveralDatabases } from '../shared/config/databases';
import { backupSection } from '../shared/config/sections';
import { errorMessage, InputError, RefusedError, RequestRefusedError } from '../shared/errors';
import type { JobContext, JobResult } from '../shared/job';
import { takeJobLockOrRefuse } from '../shared/job-lock';
import { ident } from '../shared/pg/sql-names';
import { pgToolVersion } from '../shared/pg-tools';
import { phaseTimer } from '../shared/phase-timer';
import { loadSql } from '../shared/sql';
import { abortable } from '../shared/stop-signals';
import type { ObjectStore } from '../shared/store';
import { type DrillRecord, drillHistoryKey, drillRecordKey, storedJson } from '../shared/store/layout';
import { type TableRows, tableRows } from '../shared/table-rows';
import { formatDuration, parseIntervalSeconds } from '../shared/units';
import { type ArchiveFacts, readArchiveFacts, restoreSchemasFirst } from './archive-database';
import { prepareArchive } from './archive-source';
import { checkRestored } from './check-restored';
import { type CountMismatch, compareCounts } from './compare-counts';
import type { PropertyDifference } from './database-definition';
import { drillName, keptName, restoreName } from './database-names';
import { type DrillPick, drillBackup } from './drill-pick';
import type { RestoreOptions } from './restore-options';
import { type Ownership, planOwnership } from './restore-ownership';
import { createRestoredDatabase } from './restored-database';
import { runPgRestore } from './run-pg-restore';
import { swapDatabases } from './swap-databases';
import { withTimescaleDbRestore } from './timescaledb-restore';

export interface RestoreResult extends JobResult {
  /**
   * restored (new / replace); passed, or rto-exceeded when checked but slower than
   * restore.drill.rto (drill); failed (counts that do not match).
   */
  readonly status: 'restored' | 'passed' | 'failed' | 'rto-exceeded';
  readonly mode: 'new' | 'replace' | 'drill';
  /** The target whose backup was restored. */
  readonly from: string;
  /** Where the restored data is now (replace: the live name; drill: the dropped scratch name). */
  readonly database: string;
  readonly backupKey: string;
  /** Where the backup was read from: the primary store, or a copy's bucket. */
  readonly source?: string;
  readonly tables: number;
  readonly rows: number;
  /** Whether row counts were compared with exact counts from the dump's snapshot. */
  readonly rowCountsVerified: boolean;
  readonly mismatches: readonly CountMismatch[];
  readonly durationMs: number;
  /** A drill: how it chose the backup, and its time to a checked database against the RTO. */
  readonly drill?: DrillTiming;
  /** Where the time went: fetching and checking the archive, pg_restore, counting rows. */
  readonly phases: Readonly<Record<string, number>>;
  /** Replace mode: the name the previous live database is kept under until an operator drops it. */
  readonly keptAs?: string;
  /**
   * Who owns the restored objects: the backup's owners with their grants, the config's
   * restore.owner (roles were missing), or pgmaint's role (a new database or a drill).
   */
  readonly owners: 'from the backup' | `${string} (restore.owner)` | 'pgmaint';
  /** Roles whose per-database settings were not restored (the role is not on this server). */
  readonly skippedRoleSettings: readonly string[];
  /** Replace mode: how the database put in place differs from the one it replaced (not an error). */
  readonly changedFromReplaced?: readonly PropertyDifference[];
}

export interface DrillTiming {
  readonly pick: DrillPick;
  /** Wall time from the drill's start to a checked database. */
  readonly recoveryMs: number;
  /** restore.drill.rto as configured, and in milliseconds; absent = no objective set. */
  readonly rto?: string;
  readonly rtoMs?: number;
}

/** Sessions counting the restored rows at once. */
const COUNT_SESSIONS = 2;

export async function runRestore(context: JobContext, options: RestoreOptions): Promise<RestoreResult> {
  const startedMs = performance.now();
  const startedAt = context.now();
  const from = options.from ?? context.targetName;
  if (!(from in context.config.targets)) {
    throw new InputError([
      `from: "${from}" is not in the config (known: ${Object.keys(context.config.targets).join(', ')})`,
    ]);
  }
  const settings = await context.connection();
  const { live, database } = restoredDatabase(context, from, options, settings.database);
  const mode = options.drill ? 'drill' : options.replace ? 'replace' : 'new';
  if (mode === 'replace' && options.confirm !== live) {
    throw new RequestRefusedError(
      `replace needs confirm set to the live database's name ("${live}"), got ${options.confirm === undefined ? 'no confirm' : `"${options.confirm}"`}; nothing was touched`,
    );
  }
  const drilling = mode === 'drill';
  try {
    const result = await restore(context, options, { from, live, database, mode, startedMs });
    if (drilling) await recordDrill(context, { result }, { startedAt, startedMs });
    return result;
  } catch (error) {
    if (drilling) await recordDrill(context, { error }, { startedAt, startedMs });
    throw error;
  }
}

/**
 * Which database a restore is about. A target with `databases` backs up several: `database` picks
 * whose backups are restored (from such a target), and is the live database (of such a target).
 */
function restoredDatabase(
  context: JobContext,
  from: string,
  options: RestoreOptions,
  connected: string,
): { live: string; database: string | undefined } {
  const several = (name: string) => namesSeveralDatabases(context.config.targets[name] ?? {});
  const fromSeveral = several(from);
  const intoSeveral = several(context.targetName);
  const named = options.database;
  if (named === undefined && (fromSeveral || intoSeveral))
    throw new InputError([
      `database: target "${fromSeveral ? from : context.targetName}" backs up several databases ("databases"); name the one to restore with --database (\`pgmaint backups --target ${from}\` lists each database's backups)`,
    ]);
  if (named !== undefined && !fromSeveral && !intoSeveral)
    throw new InputError([
      `database: target "${from}" backs up one database ("${connected}"); leave out --database, it is for targets with "databases"`,
    ]);
  return {
    live: intoSeveral && named !== undefined ? named : connected,
    database: fromSeveral ? named : undefined,
  };
}

/** The primary store, or with `copy: <region>` the target's verified copy there (backup.copies). */
export function backupSource(context: JobContext, from: string, region: string | undefined): ObjectStore {
  if (region === undefined) return context.store();
  const copies = context.config.targets[from]?.backup?.copies ?? [];
  const copy = copies.find((c) => c.region === region);
  if (!copy) {
    throw new InputError([
      `copy: target "${from}" has no backup copy in "${region}" (backup.copies: ${copies.map((c) => c.region).join(', ') || 'none'})`,
    ]);
  }
  return copyStore(copy);
}

async function restore(
  context: JobContext,
  options: RestoreOptions,
  run: {
    from: string;
    live: string;
    database: string | undefined;
    mode: RestoreResult['mode'];
    startedMs: number;
  },
): Promise<RestoreResult> {
  const { from, live, mode } = run;
  const store = backupSource(context, from, options.copy);
  const drill = context.target.restore?.drill;
  const pick = drill?.pick ?? 'latest';
  const manifest =
    mode === 'drill'
      ? await drillBackup(store, from, {
          pick,
          database: run.database,
          seed: context.runId,
          policy: backupSection.parse(context.config.targets[from]?.backup ?? {}),
          now: context.now(),
          timeZone: context.config.targets[from]?.timezone ?? 'UTC',
          warn: (message) => context.logger.warn(message),
        })
      : await resolveBackup(store, from, options.backup, run.database);
  await refuseUnreadableArchive(manifest);
  const now = context.now();
  const name = mode === 'drill' ? drillName(live) : (options.into ?? restoreName(live, now));
  const kept = keptName(live, now);

  const admin = await connectMaintenance(context, [live, name]);
  const { signal } = context;
  let created = false;
  let swapped = false;
  // A restored copy that fails the check before the swap is kept for the operator (never a drill's).
  let keepRestored = false;
  try {
    // One restore of a live database at a time: a second drill would drop the first one's scratch
    // database, a second replace would swap under the first. Released when `admin` closes.
    await takeJobLockOrRefuse(admin, `restore of "${live}"`);
    const serverVersionNum = Number(
      (await admin.query('show server_version_num')).rows[0]?.server_version_num,
    );
    if (await databaseExists(admin, name)) {
      if (mode !== 'drill')
        throw new RequestRefusedError(
          `database "${name}" already exists; choose another name with "into", or drop it first`,
        );
      // A drill database left by a drill that died is ours to remove.
      await dropDatabase(admin, name, serverVersionNum);
    }
    if (mode === 'replace' && (await databaseExists(admin, kept)))
      throw new RequestRefusedError(
        `database "${kept}" already exists; the live database could not be kept under that name`,
      );

    // The object must match its manifest before anything is created.
    const phases = phaseTimer();
    const source = await prepareArchive(store, manifest, signal);
    phases.end('fetchMs');
    let ownership: Ownership = { kind: 'none' };
    let facts: ArchiveFacts;
    try {
      facts = await abortable(signal, readArchiveFacts(source, store, manifest));
      if (mode === 'replace' || options.keepOwners)
        ownership = await planOwnership(admin, facts, {
          target: context.targetName,
          configuredOwner: context.target.restore?.owner,
          serverVersionNum,
          ...(manifest.globalsKey ? { globalsKey: manifest.globalsKey } : {}),
        });
      phases.end('planMs');
      context.logger.info(`restoring ${manifest.key} into database "${name}"`, {
        mode,
        from,
        owners: ownership.kind,
      });
      if (ownership.kind === 'owner')
        context.logger.warn(
          `roles missing on this server (${ownership.missingRoles.join(', ')}): ${ownership.role} owns everything, the backup's grants are not restored`,
        );
      signal.throwIfAborted();
      await createRestoredDatabase(admin, name, facts.database, ownership, serverVersionNum);
      created = true;
      const settings = await context.connection();
      const contents = {
        settings,
        database: name,
        serverVersionNum,
        source,
        store,
        manifest,
        ownership,
        signal,
      };
      await withTimescaleDbRestore(context, facts, name, () => restoreContents(contents, facts));
      signal.throwIfAborted();
      phases.end('pgRestoreMs');
    } finally {
      await source.dispose();
    }

    // Two sessions count: most of a count is the server scanning, and a server has more than one core.
    const connected = await Promise.allSettled(
      Array.from({ length: COUNT_SESSIONS }, () =>
        context.connect({ database: name, statementTimeoutMs: 0 }),
      ),
    );
    const sessions = connected.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
    const refused = connected.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (refused) {
      await Promise.all(sessions.map((session) => session.end().catch(() => {})));
      throw refused.reason;
    }
    let counts: TableRows[];
    try {
      const [restored, ...counters] = sessions as [Client, ...Client[]];
      // A stop does not wait for the counts: dropping the database ends the counting sessions.
      counts = await abortable(
        signal,
        tableRows(restored, true, { legacy: manifest.rowCountsOnly !== true, counters }),
      );
    } finally {
      await Promise.all(sessions.map((session) => session.end().catch(() => {})));
    }
    phases.end('countMs');
    const mismatches = compareCounts(manifest, counts);
    let status: RestoreResult['status'] =
      mismatches.length > 0 ? 'failed' : mode === 'drill' ? 'passed' : 'restored';

    keepRestored = mode !== 'drill' && status !== 'failed';
    const checked =
      status === 'failed'
        ? { skippedRoleSettings: [] }
        : await abortable(
            signal,
            checkRestored(context, admin, {
              name,
              live,
              mode,
              source: facts.database,
              ownership,
            }),
          );
    keepRestored = false;
    phases.end('checkMs');
    const recoveryMs = Math.round(performance.now() - run.startedMs);
    const rtoMs = drill?.rto === undefined ? undefined : (parseIntervalSeconds(drill.rto) ?? 0) * 1000;
    const timing: DrillTiming | undefined =
      mode === 'drill'
        ? { pick, recoveryMs, ...(drill?.rto !== undefined ? { rto: drill.rto, rtoMs } : {}) }
        : undefined;
    if (status === 'passed' && rtoMs !== undefined && recoveryMs > rtoMs) status = 'rto-exceeded';
    context.logger.info('restore phases', { ...phases.ms, source: source.kind });

    let keptAs: string | undefined;
    if (mode === 'drill' || status === 'failed') {
      await dropDatabase(admin, name, serverVersionNum);
      created = false;
    } else if (mode === 'replace') {
      // The last moment a stop is honoured: the swap is one transaction and, once begun, is let finish.
      signal.throwIfAborted();
      await swapDatabases(admin, { live, restored: name, kept });
      swapped = true;
      keptAs = kept;
    }
    const result: RestoreResult = {
      target: context.targetName,
      status,
      mode,
      from,
      database: mode === 'replace' && swapped ? live : name,
      backupKey: manifest.key,
      ...(options.copy ? { source: store.location } : {}),
      tables: counts.length,
      rows: counts.reduce((sum, t) => sum + (t.rowCount ?? 0), 0),
      rowCountsVerified: manifest.rowCountsExact,
      mismatches,
      durationMs: Math.round(performance.now() - run.startedMs),
      ...(timing ? { drill: timing } : {}),
      phases: phases.ms,
      ...(keptAs ? { keptAs } : {}),
      owners: ownersLabel(ownership),
      skippedRoleSettings: checked.skippedRoleSettings,
      ...(checked.changedFromReplaced ? { changedFromReplaced: checked.changedFromReplaced } : {}),
    };
    context.metrics.add('RestoreDurationMs', 'Milliseconds', result.durationMs, {
      target: context.targetName,
    });
    if (mode === 'drill')
      context.metrics.add('RestoreDrillPassed', 'Count', status === 'passed' ? 1 : 0, {
        target: context.targetName,
      });
    if (timing && status !== 'failed') addDrillMetrics(context, status, timing);
    if (timing?.rtoMs !== undefined)
      context.logger.info(
        `drill took ${formatDuration(recoveryMs)} to a checked database, RTO ${timing.rto}: ${status === 'rto-exceeded' ? 'EXCEEDED' : 'met'}`,
      );
    return result;
  } catch (error) {
    // A stopped run drops even a restored copy it would keep for the operator: it was never checked.
    if (created && !swapped && (!keepRestored || signal.aborted)) {
      // Never leave a half-made database behind; the live one was not touched.
      await dropDatabase(admin, name).catch((dropError: unknown) =>
        context.logger.error(`could not drop the half-made database "${name}": ${errorMessage(dropError)}`),
      );
    }
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }
}

/**
 * A drill that reached a checked database, as the job metrics are (dimensions job and target):
 * its time to recovery, and against an RTO whether it went over. `DrillRtoUsedPercent` (of the
 * RTO) is published for drills within it only: an RTO breach already sends the run's FAILED
 * alert, so the "near the RTO" alarm on it (lib/job-alarms.ts) warns before a breach and stays
 * quiet at one, instead of paging twice.
 */
function addDrillMetrics(context: JobContext, status: RestoreResult['status'], timing: DrillTiming): void {
  const dimensions = { job: context.job, target: context.targetName };
  context.metrics.add('DrillRecoveryMs', 'Milliseconds', timing.recoveryMs, dimensions);
  if (timing.rtoMs === undefined) return;
  context.metrics.add('DrillRtoExceeded', 'Count', status === 'rto-exceeded' ? 1 : 0, dimensions);
  if (status === 'passed' && timing.rtoMs > 0)
    context.metrics.add(
      'DrillRtoUsedPercent',
      'Percent',
      Math.round((1000 * timing.recoveryMs) / timing.rtoMs) / 10,
      dimensions,
    );
}

export function renderRestore(result: RestoreResult): string {
  const lines = [
    `${result.target}: restore (${result.mode}) ${result.status.toUpperCase()}`,
    `  backup    ${result.backupKey}${result.from !== result.target ? ` (from target ${result.from})` : ''}`,
    `  database  ${result.database}${result.mode === 'drill' ? ' (dropped after the check)' : ''}`,
    `  tables    ${result.tables}, rows ${result.rows}${result.rowCountsVerified ? ', every count equal to the backup’s exact count' : ' (the backup has no exact counts to compare)'}`,
    `  owners    ${result.owners}${result.owners === 'from the backup' ? ', with its grants' : ', none of the backup’s grants'}`,
    `  duration  ${(result.durationMs / 1000).toFixed(1)} s`,
  ];
  if (result.drill)
    lines.push(
      `  drill     ${result.drill.pick} backup, checked after ${formatDuration(result.drill.recoveryMs)}${result.drill.rto ? `, RTO ${result.drill.rto}: ${result.status === 'rto-exceeded' ? 'EXCEEDED' : 'met'}` : ' (no restore.drill.rto set)'}`,
    );
  if (result.skippedRoleSettings.length > 0)
    lines.push(
      `  skipped   per-role settings of ${result.skippedRoleSettings.join(', ')} (not on this server)`,
    );
  for (const d of result.changedFromReplaced ?? [])
    lines.push(`  changed   ${d.property}: was ${d.expected}, now ${d.actual}`);
  if (result.keptAs)
    lines.push(`  kept      the previous database as "${result.keptAs}" (drop it when you are sure)`);
  for (const m of result.mismatches)
    lines.push(
      `  MISMATCH  ${m.table}: backup counted ${m.expected ?? 'no table'}, restored ${m.actual ?? 'no table'}`,
    );
  return lines.join('\n');
}

/** Keeping owners, schemas and their grants go first (restoreSchemasFirst says why), then the rest. */
async function restoreContents(restore: Parameters<typeof runPgRestore>[0], facts: ArchiveFacts) {
  if (restore.ownership.kind !== 'archive') return runPgRestore(restore);
  const lists = await restoreSchemasFirst(facts, restore.source, restore.store, restore.manifest, restore);
  try {
    await runPgRestore({ ...restore, listFile: lists.restList });
  } finally {
    await lists.dispose();
  }
}

function ownersLabel(ownership: Ownership): RestoreResult['owners'] {
  if (ownership.kind === 'archive') return 'from the backup';
  return ownership.kind === 'owner' ? `${ownership.role} (restore.owner)` : 'pgmaint';
}

/** A newer pg_dump writes archives an older pg_restore cannot read: refuse before creating anything. */
async function refuseUnreadableArchive(manifest: BackupManifest): Promise<void> {
  const tool = await pgToolVersion('pg_restore');
  const dumpMajor = Number.parseInt(manifest.pgDumpVersion, 10);
  if (dumpMajor > tool.major) {
    throw new RefusedError(
      `backup ${manifest.key} was written by pg_dump ${manifest.pgDumpVersion}; the bundled pg_restore ${tool.major}.${tool.minor} cannot read it`,
    );
  }
}

/** CREATE/DROP/RENAME DATABASE run from a database that is neither side of the restore. */
async function connectMaintenance(context: JobContext, avoid: readonly string[]): Promise<Client> {
  const candidates = ['postgres', 'template1'].filter((d) => !avoid.includes(d));
  let lastError: unknown;
  for (const database of candidates) {
    try {
      return await context.connect({ database, statementTimeoutMs: 0, lockTimeoutMs: 30_000 });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function databaseExists(admin: Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ exists: boolean }>(loadSql('restore/database-exists'), [name]);
  return rows[0]?.exists === true;
}

async function dropDatabase(admin: Client, name: string, serverVersionNum = 130000): Promise<void> {
  if (serverVersionNum >= 130000) {
    await admin.query(`drop database if exists ${ident(name)} with (force)`);
    return;
  }
  await admin.query(loadSql('restore/terminate-sessions'), [name]);
  await admin.query(`drop database if exists ${ident(name)}`);
}

/**
 * Keeps the drill's record twice: in the history (every drill, for the report) and as the latest
 * (health's restore_drill check). A store that refuses it is logged: the drill's own outcome is
 * what the run reports and alerts on.
 */
async function recordDrill(
  context: JobContext,
  outcome: { readonly result: RestoreResult } | { readonly error: unknown },
  started: { readonly startedAt: Date; readonly startedMs: number },
) {
  const result = 'result' in outcome ? outcome.result : undefined;
  const drill = context.target.restore?.drill;
  const rtoSeconds = drill?.rto === undefined ? undefined : parseIntervalSeconds(drill.rto);
  const record: DrillRecord = {
    startedAt: started.startedAt.toISOString(),
    finishedAt: context.now().toISOString(),
    status: result?.status === 'passed' || result?.status === 'rto-exceeded' ? result.status : 'failed',
    backupKey: result?.backupKey ?? null,
    pick: drill?.pick ?? 'latest',
    durationMs: result?.drill?.recoveryMs ?? Math.round(performance.now() - started.startedMs),
    ...(drill?.rto !== undefined && rtoSeconds !== undefined
      ? { rto: drill.rto, rtoMs: rtoSeconds * 1000 }
      : {}),
    mismatches: [...(result?.mismatches ?? [])],
    ...('error' in outcome ? { error: errorMessage(outcome.error) } : {}),
  };
  const store = context.store();
  for (const key of [
    drillHistoryKey(context.targetName, started.startedAt),
    drillRecordKey(context.targetName),
  ]) {
    try {
      await store.put(key, storedJson(record), 'application/json');
    } catch (error) {
      context.logger.error(`could not record the drill outcome at ${key}: ${errorMessage(error)}`);
    }
  }
}
