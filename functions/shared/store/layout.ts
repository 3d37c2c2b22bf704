import * as z from 'zod';
import { errorMessage, JobError } from '../errors';
import { isoTime } from './iso-time';

/**
 * The one contract for what pgmaint keeps in its store: where each kind of object lives (the key
 * layout, which lib/ also grants by prefix) and the schema every reader parses it with. Writers
 * build their objects as the inferred types, so what is written is what is read back.
 */

/** Backups of a target: `<target>/…` (dumps, manifests, globals). */
export const backupPrefix = (target: string) => `${target}/`;
/** What jobs remember about a target between runs: `state/<target>/…`. */
export const statePrefix = (target: string) => `state/${target}/`;

export const MANIFEST_SUFFIX = '.manifest.json';

/**
 * A database name as one key segment: letters, digits, `_` and `-` as they are, every other byte
 * of its UTF-8 as `%XX` (so `/`, `.` and spaces can never make another path), reversible.
 */
export function databaseSegment(database: string): string {
  return [...Buffer.from(database, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** Backups of one database of a target with `databases`: `<target>/databases/<segment>/…`. */
export const databasePrefix = (target: string, database: string) =>
  `${backupPrefix(target)}databases/${databaseSegment(database)}/`;

/** `yyyy/mm/dd/` and `yyyymmddThhmmssmmmZ` of an instant, in UTC. */
function stampParts(at: Date): { folders: string; stamp: string } {
  const iso = at.toISOString();
  const [date = '', time = ''] = iso.split('T');
  const [yyyy, mm, dd] = date.split('-');
  // Milliseconds: two backups of a target started within one second must not share a key.
  const stamp = `${date.replace(/-/g, '')}T${time.slice(0, 12).replace(/[:.]/g, '')}Z`;
  return { folders: `${yyyy}/${mm}/${dd}/`, stamp };
}

/**
 * `<target>/<yyyy>/<mm>/<dd>/<target>-<yyyymmddThhmmssmmmZ>.dump` in UTC; with `database` (a
 * target with `databases`), `<target>/databases/<segment>/<yyyy>/<mm>/<dd>/<target>-<segment>-<stamp>.dump`.
 * Keys written before milliseconds were added (`…T020000Z.dump`) still parse (parseBackupKey).
 */
export function backupKey(target: string, startedAt: Date, database?: string): string {
  const { folders, stamp } = stampParts(startedAt);
  if (database === undefined) return `${backupPrefix(target)}${folders}${target}-${stamp}.dump`;
  const segment = databaseSegment(database);
  return `${databasePrefix(target, database)}${folders}${target}-${segment}-${stamp}.dump`;
}

/** The roles and tablespaces of a server, saved once per run of a target with `databases`. */
export function serverGlobalsKey(target: string, startedAt: Date): string {
  const { folders, stamp } = stampParts(startedAt);
  return `${backupPrefix(target)}globals/${folders}${target}-${stamp}.globals.sql`;
}

export interface BackupKeyFacts {
  readonly target: string;
  /** The database of a target with `databases`; undefined for a one-database target's key. */
  readonly database?: string;
  /** When the backup started, to the millisecond (to the second for keys of older versions). */
  readonly startedAt: Date;
  readonly format: 'custom' | 'directory';
}

const KEY_PATTERN =
  /^([^/]+)\/(?:databases\/([A-Za-z0-9_%-]+)\/)?\d{4}\/\d{2}\/\d{2}\/[^/]+-(\d{8})T(\d{6})(\d{3})?Z\.(dump|dir)$/;

/** What a backup key says about its backup, or undefined when it is not one pgmaint writes. */
export function parseBackupKey(key: string): BackupKeyFacts | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, target = '', segment, date = '', time = '', millis = '000', extension] = match;
  const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}.${millis}Z`;
  const startedAt = new Date(iso);
  if (Number.isNaN(startedAt.getTime())) return undefined;
  let database: string | undefined;
  if (segment !== undefined) {
    try {
      database = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  }
  return {
    target,
    ...(database !== undefined ? { database } : {}),
    startedAt,
    format: extension === 'dir' ? 'directory' : 'custom',
  };
}

/**
 * Newest first by the time in the key (keys of several databases, and keys with and without
 * milliseconds, do not sort by time as text); keys that do not parse last, by text.
 */
export function newestKeyFirst(a: string, b: string): number {
  const [ta, tb] = [parseBackupKey(a)?.startedAt.getTime(), parseBackupKey(b)?.startedAt.getTime()];
  if (ta !== undefined && tb !== undefined && ta !== tb) return tb - ta;
  if (ta !== undefined && tb === undefined) return -1;
  if (ta === undefined && tb !== undefined) return 1;
  return b.localeCompare(a);
}

export const manifestKey = (dumpKey: string) => `${dumpKey}${MANIFEST_SUFFIX}`;
export const globalsKey = (dumpKey: string) => `${dumpKey}.globals.sql`;
export const healthStateKey = (target: string) => `${statePrefix(target)}health.json`;
/** The latest restore drill's record (health's restore_drill check reads it). */
export const drillRecordKey = (target: string) => `${statePrefix(target)}restore-drill.json`;
/** Every drill's record, kept: `state/<target>/drills/<yyyymmddThhmmss.sssZ>.json`, in time order. */
export const drillHistoryPrefix = (target: string) => `${statePrefix(target)}drills/`;
export function drillHistoryKey(target: string, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '');
  return `${drillHistoryPrefix(target)}${stamp}.json`;
}

const count = z.number().int().nonnegative();

const tableRowsSchema = z.object({
  schema: z.string(),
  name: z.string(),
  rowEstimate: z.number(),
  rowCount: count.optional(),
  /** backup.excludeTableData matched it: the backup holds the table, none of its rows. */
  dataExcluded: z.literal(true).optional(),
});

/** backup.excludeSchemas/excludeTables/excludeTableData, as pg_dump was given them. */
const dumpExcludesSchema = z.object({
  schemas: z.array(z.string()).readonly(),
  tables: z.array(z.string()).readonly(),
  tableData: z.array(z.string()).readonly(),
});
export type DumpExcludes = z.infer<typeof dumpExcludesSchema>;

/** One verified copy of a backup in another bucket (backup.copies). */
export const backupCopySchema = z.object({
  bucket: z.string().min(1),
  region: z.string().min(1),
  account: z.string().optional(),
  /** The dump's sha256 read back from the destination, equal to the manifest's. */
  sha256: z.string(),
  verifiedAt: isoTime,
  /** Keys copied, the dump first (the copy's manifest is written last, as in the primary). */
  keys: z.array(z.string()),
});

/** One file of a directory-format backup, stored at `<key>/<name>`. */
const backupFileSchema = z.object({ name: z.string().min(1), bytes: count, sha256: z.string() });
export type BackupFile = z.infer<typeof backupFileSchema>;

/**
 * A backup's manifest at `manifestKey(key)`: written last, after verification; a backup exists
 * only if its manifest exists. Loose: fields a newer pgmaint adds survive a read by this one.
 */
export const backupManifestSchema = z
  .object({
    formatVersion: z.literal(1),
    target: z.string(),
    database: z.string(),
    /** Key of the dump object; the manifest sits at `<key>.manifest.json`. */
    key: z.string().min(1),
    globalsKey: z.string().optional(),
    /** Why the globals (roles, tablespaces) were not saved, when they were not. */
    globalsSkipped: z.string().optional(),
    startedAt: isoTime,
    finishedAt: isoTime,
    durationMs: count,
    bytes: count,
    sha256: z.string(),
    serverVersion: z.string(),
    serverVersionNum: z.number().int(),
    pgDumpVersion: z.string(),
    /** Custom-format archive version from the header, e.g. "1.14.0". */
    archiveVersion: z.string(),
    compression: z.string(),
    databaseSizeBytes: count,
    /** Row counts per table: estimates always, exact counts taken in the dump's snapshot when enabled. */
    tables: z.array(tableRowsSchema),
    rowCountsExact: z.boolean(),
    /**
     * Each table counted ONLY itself, extension configuration tables included. Absent in backups of
     * earlier pgmaint versions, which counted inheritance children into their parents and left
     * extension tables out: their restores count the same way.
     */
    rowCountsOnly: z.literal(true).optional(),
    /** backup.objectLock: every object of the backup is locked until then (S3 Object Lock). */
    lockedUntil: isoTime.optional(),
    lockMode: z.enum(['GOVERNANCE', 'COMPLIANCE']).optional(),
    /** Verified copies in other buckets (backup.copies); absent = none were asked for. */
    copies: z.array(backupCopySchema).optional(),
    /**
     * "directory": `key` is a prefix holding pg_dump's directory-format files (`<key>/toc.dat`, …),
     * listed in `files`; `bytes` is their sum and `sha256` the hash of `sha256sum`'s listing of
     * them. Absent: one custom-format archive at `key`.
     */
    format: z.enum(['custom', 'directory']).optional(),
    files: z.array(backupFileSchema).readonly().optional(),
    /** pg_dump --jobs of a directory-format backup. */
    jobs: z.number().int().positive().optional(),
    /**
     * What pg_dump was told to leave out; `tables` then lists only what the backup holds (tables
     * whose data was left out marked `dataExcluded`). Absent: nothing was left out.
     */
    excludes: dumpExcludesSchema.optional(),
  })
  .loose();
export type BackupManifest = z.infer<typeof backupManifestSchema>;
export type BackupCopy = z.infer<typeof backupCopySchema>;

const checkStatus = z.enum(['ok', 'warning', 'critical', 'unknown', 'skipped']);

/** What health remembers about a target between runs, at `healthStateKey(target)`. */
export const healthStateSchema = z.object({
  formatVersion: z.literal(1),
  updatedAt: isoTime,
  checks: z.record(z.string(), z.object({ status: checkStatus, since: isoTime })),
  /** Small per-check memories (e.g. since when a replication slot is inactive). */
  memory: z.record(z.string(), z.unknown()),
});
export type HealthState = z.infer<typeof healthStateSchema>;

/**
 * What the restore drill writes after each run, at `drillHistoryKey(target, startedAt)` and as the
 * latest at `drillRecordKey(target)`; health and the report read them. `durationMs` is the wall
 * time from the drill's start to a checked database (or to its failure). Fields marked optional
 * are absent in records of earlier pgmaint versions.
 */
export const drillRecordSchema = z.object({
  startedAt: isoTime.optional(),
  finishedAt: isoTime,
  /** passed: checked within the RTO (or none set); rto-exceeded: checked, but slower than the RTO. */
  status: z.enum(['passed', 'failed', 'rto-exceeded']),
  backupKey: z.string().nullable(),
  /** How the backup was chosen (restore.drill.pick). */
  pick: z.enum(['latest', 'random']).optional(),
  durationMs: count,
  /** restore.drill.rto as configured, and in milliseconds; absent = no objective set. */
  rto: z.string().optional(),
  rtoMs: count.optional(),
  mismatches: z.array(z.object({ table: z.string(), expected: count.nullable(), actual: count.nullable() })),
  /** Why a drill failed before it could compare anything. */
  error: z.string().optional(),
});
export type DrillRecord = z.infer<typeof drillRecordSchema>;

/** A stored object that is not what its key says it holds. */
export class StoredObjectError extends JobError {}

/**
 * Parses a stored object with its schema; a body that is not JSON or does not fit is an error
 * naming the object and what is wrong with it.
 */
export function parseStored<T>(schema: z.ZodType<T>, location: string, key: string, body: Buffer): T {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new StoredObjectError(`${location}/${key} is not JSON: ${errorMessage(error)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new StoredObjectError(
      `${location}/${key} is not what this version of pgmaint stores there (${problems.join('; ')}); ` +
        'it was written by another program or a newer pgmaint, or edited by hand',
    );
  }
  return parsed.data;
}

/** Serializes an object for the store the way every writer does. */
export const storedJson = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
