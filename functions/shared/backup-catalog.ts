import { JobError, RequestRefusedError } from './errors';
import type { ObjectStore } from './store';
import type { TableRows } from './table-rows';

/**
 * The contract between backup (which writes), restore and drills (which read) and health's
 * backup_freshness: where a backup's objects live and what its manifest says. A backup exists
 * only if its manifest exists: the manifest is written last, after verification.
 */
export interface BackupManifest {
  readonly formatVersion: 1;
  readonly target: string;
  readonly database: string;
  /** Key of the dump object; the manifest sits at `<key>.manifest.json`. */
  readonly key: string;
  readonly globalsKey?: string;
  /** Why the globals (roles, tablespaces) were not saved, when they were not. */
  readonly globalsSkipped?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly serverVersion: string;
  readonly serverVersionNum: number;
  readonly pgDumpVersion: string;
  /** Custom-format archive version from the header, e.g. "1.14.0". */
  readonly archiveVersion: string;
  readonly compression: string;
  readonly databaseSizeBytes: number;
  /** Row counts per table: estimates always, exact counts taken in the dump's snapshot when enabled. */
  readonly tables: readonly TableRows[];
  readonly rowCountsExact: boolean;
  /**
   * Each table counted ONLY itself, extension configuration tables included. Absent in backups of
   * earlier pgmaint versions, which counted inheritance children into their parents and left
   * extension tables out: their restores count the same way.
   */
  readonly rowCountsOnly?: true;
  /**
   * "directory": `key` is a prefix holding pg_dump's directory-format files (`<key>/toc.dat`, …),
   * listed in `files`; `bytes` is their sum and `sha256` the hash of `sha256sum`'s listing of
   * them. Absent: one custom-format archive at `key`.
   */
  readonly format?: 'custom' | 'directory';
  readonly files?: readonly BackupFile[];
  /** pg_dump --jobs of a directory-format backup. */
  readonly jobs?: number;
}

/** One file of a directory-format backup, stored at `<key>/<name>`. */
export interface BackupFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

const MANIFEST_SUFFIX = '.manifest.json';

/** `<target>/<yyyy>/<mm>/<dd>/<target>-<yyyymmddThhmmssZ>.dump`, in UTC. */
export function backupKey(target: string, startedAt: Date): string {
  const iso = startedAt.toISOString();
  const [date = '', time = ''] = iso.split('T');
  const [yyyy, mm, dd] = date.split('-');
  const stamp = `${date.replace(/-/g, '')}T${time.slice(0, 8).replace(/:/g, '')}Z`;
  return `${target}/${yyyy}/${mm}/${dd}/${target}-${stamp}.dump`;
}

/** A directory-format backup's prefix: the custom-format key with `.dir` for `.dump`. */
export const directoryBackupKey = (target: string, startedAt: Date) =>
  backupKey(target, startedAt).replace(/\.dump$/, '.dir');
export const backupFileKey = (key: string, name: string) => `${key}/${name}`;

export const manifestKey = (dumpKey: string) => `${dumpKey}${MANIFEST_SUFFIX}`;
export const globalsKey = (dumpKey: string) => `${dumpKey}.globals.sql`;

/** Verified backups of a target, newest first (keys sort by time within a target). */
export async function listBackups(store: ObjectStore, target: string): Promise<BackupManifest[]> {
  const objects = await store.list(`${target}/`);
  const manifests = objects
    .filter((o) => o.key.endsWith(MANIFEST_SUFFIX))
    .sort((a, b) => b.key.localeCompare(a.key));
  const result: BackupManifest[] = [];
  for (const object of manifests) {
    const body = await store.get(object.key);
    if (!body) continue; // deleted between list and get
    result.push(JSON.parse(body.toString('utf8')) as BackupManifest);
  }
  return result;
}

/**
 * "latest" (the newest verified backup), or a backup named in any form pgmaint prints: the dump
 * key, its URL (`s3://bucket/key`, `file:///dir/key`) or its manifest's key. Its manifest must exist.
 */
export async function resolveBackup(
  store: ObjectStore,
  target: string,
  which: string,
): Promise<BackupManifest> {
  if (which === 'latest') {
    const newest = (await store.list(`${target}/`))
      .filter((o) => o.key.endsWith(MANIFEST_SUFFIX))
      .sort((a, b) => b.key.localeCompare(a.key))[0];
    const body = newest && (await store.get(newest.key));
    if (!body) throw new JobError(`target "${target}" has no verified backup in ${store.location}`);
    return JSON.parse(body.toString('utf8')) as BackupManifest;
  }
  const listHint = `list the verified backups with \`pgmaint backups --target ${target}\``;
  const key = dumpKeyOf(store, which);
  if (typeof key !== 'string') throw new RequestRefusedError(`${key.problem}; ${listHint}`);
  const body = await store.get(manifestKey(key));
  if (!body) {
    const dumpOnly = (await store.list(key)).some((o) => o.key === key);
    throw new RequestRefusedError(
      dumpOnly
        ? `backup ${store.location}/${key} has no manifest: it is not a verified backup (it did not finish, or failed verification); ${listHint}`
        : `backup ${store.location}/${key} not found; ${listHint}`,
    );
  }
  return JSON.parse(body.toString('utf8')) as BackupManifest;
}

/** The dump key a backup reference names, or why it cannot name one in this store. */
export function dumpKeyOf(store: Pick<ObjectStore, 'location'>, which: string): string | { problem: string } {
  let key = which.trim();
  const url = /^(s3|file):\/\//.exec(key);
  if (url) {
    const prefix = `${store.location}/`;
    if (!key.startsWith(prefix)) {
      return {
        problem: `"${which}" is not in this config's backup store (${store.location}); give a key in it, or "latest"`,
      };
    }
    key = key.slice(prefix.length);
  }
  key = key.replace(/^\/+/, '');
  if (key.endsWith(MANIFEST_SUFFIX)) key = key.slice(0, -MANIFEST_SUFFIX.length);
  if (key === '' || key.split('/').includes('..')) return { problem: `"${which}" names no backup` };
  return key;
}
