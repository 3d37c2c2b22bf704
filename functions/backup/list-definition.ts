import * as z from 'zod';
import { bySeries, listBackups } from '../shared/backup-catalog';
import { namesSeveralDatabases } from '../shared/config/databases';
import { backupSection } from '../shared/config/sections';
import { InputError } from '../shared/errors';
import type { JobDefinition, JobResult } from '../shared/job';
import { formatBytes, formatDuration } from '../shared/units';
import { type KeepRule, keepReasons } from './prune-backups';

export interface BackupListing extends JobResult {
  readonly status: 'ok';
  readonly store: string;
  /** --database: only this database's backups are listed. */
  readonly database?: string;
  readonly backups: ReadonlyArray<{
    key: string;
    bytes: number;
    sha256: string;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    database: string;
    serverVersion: string;
    /** "directory": `key` is a prefix of pg_dump directory-format files; "custom": one archive. */
    format: 'custom' | 'directory';
    /** backup.objectLock: the store refuses to delete it before then. */
    lockedUntil?: string;
    /** backup.copies: where its verified copies are. */
    copies?: ReadonlyArray<{ bucket: string; region: string; verifiedAt: string }>;
    /** The retention rules that keep it; empty: the next backup deletes it. */
    keptBy: KeepRule[];
  }>;
}

/** `pgmaint backups`: verified backups (those with a manifest), newest first. Read-only. */
export const backupsCommand: JobDefinition<{ database?: string }, BackupListing> = {
  name: 'backups',
  summary: 'list the verified backups of a target (of each of its databases), newest first',
  options: z.strictObject({
    database: z.string({ error: 'expected a database name' }).min(1).optional(),
  }),
  flags: {
    database: {
      type: 'string',
      description: 'a target with "databases": list only the backups of this database',
    },
  },
  alertOnFailure: false,
  async run(context, { database }) {
    if (database !== undefined && !namesSeveralDatabases(context.target))
      throw new InputError([
        `database: target "${context.targetName}" backs up one database; leave out --database, it is for targets with "databases"`,
      ]);
    const store = context.store();
    const manifests = await listBackups(store, context.targetName, (m) => context.logger.warn(m), database);
    const policy = backupSection.parse(context.target.backup ?? {});
    // Each database of a target with `databases` is kept by the rules on its own.
    const reasons = new Map(
      [...bySeries(manifests).values()].flatMap((series) => [
        ...keepReasons(series, policy, context.now(), context.target.timezone),
      ]),
    );
    return {
      target: context.targetName,
      status: 'ok',
      store: store.location,
      ...(database !== undefined ? { database } : {}),
      backups: manifests.map((m) => ({
        key: m.key,
        bytes: m.bytes,
        sha256: m.sha256,
        startedAt: m.startedAt,
        finishedAt: m.finishedAt,
        durationMs: m.durationMs,
        database: m.database,
        serverVersion: m.serverVersion,
        format: m.format ?? 'custom',
        ...(m.lockedUntil ? { lockedUntil: m.lockedUntil } : {}),
        ...(m.copies
          ? {
              copies: m.copies.map((c) => ({ bucket: c.bucket, region: c.region, verifiedAt: c.verifiedAt })),
            }
          : {}),
        keptBy: reasons.get(m.key) ?? [],
      })),
    };
  },
  render(result) {
    const of = result.database === undefined ? '' : ` of database "${result.database}"`;
    if (result.backups.length === 0) return `${result.target}: no verified backups${of} in ${result.store}`;
    const databases = new Set(result.backups.map((b) => b.database));
    const width = Math.max(...[...databases].map((d) => d.length));
    return [
      `${result.target}: ${result.backups.length} verified backup(s)${of} in ${result.store}, newest first`,
      ...result.backups.map(
        (b) =>
          `  ${b.finishedAt}  ${databases.size > 1 ? `${b.database.padEnd(width)}  ` : ''}${formatBytes(b.bytes).padStart(10)}  ${formatDuration(b.durationMs).padStart(8)}  ${b.key}${b.format === 'directory' ? '/ (directory)' : ''}  kept by ${b.keptBy.join(', ') || 'nothing (deleted after the next backup)'}`,
      ),
    ].join('\n');
  },
};
