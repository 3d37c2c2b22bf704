import { errorMessage, JobError, RequestRefusedError } from './errors';
import type { ObjectStore } from './store';
import {
  type BackupManifest,
  backupKey,
  backupManifestSchema,
  backupPrefix,
  databasePrefix,
  MANIFEST_SUFFIX,
  manifestKey,
  newestKeyFirst,
  parseBackupKey,
  parseStored,
} from './store/layout';

export {
  type BackupFile,
  type BackupManifest,
  backupKey,
  globalsKey,
  MANIFEST_SUFFIX,
  manifestKey,
} from './store/layout';

/** A directory-format backup's prefix: the custom-format key with `.dir` for `.dump`. */
export const directoryBackupKey = (target: string, startedAt: Date, database?: string) =>
  backupKey(target, startedAt, database).replace(/\.dump$/, '.dir');

/**
 * Which backups retention counts together: each database of a target with `databases` is its own
 * series (keepAtLeast 3 keeps three of each); a one-database target's backups (and those a target
 * made before it named `databases`) are one series, "".
 */
export const backupSeries = (backup: Pick<BackupManifest, 'key'>): string =>
  parseBackupKey(backup.key)?.database ?? '';

/** Backups grouped by series, each newest first as given. */
export function bySeries(backups: readonly BackupManifest[]): Map<string, BackupManifest[]> {
  const groups = new Map<string, BackupManifest[]>();
  for (const backup of backups) {
    const series = backupSeries(backup);
    groups.set(series, [...(groups.get(series) ?? []), backup]);
  }
  return groups;
}
export const backupFileKey = (key: string, name: string) => `${key}/${name}`;

/** Reads one manifest, by its key: an error naming the key when it is not a manifest. */
export const readManifest = (store: ObjectStore, key: string, body: Buffer): BackupManifest =>
  parseStored(backupManifestSchema, store.location, key, body);

/**
 * Verified backups of a target (of every database of a target with `databases`), newest first by
 * the start time in their keys; with `database`, only that database's. A manifest that
 * does not parse is skipped with a warning, not an error: one damaged object must not stop every
 * later backup (backup lists the earlier ones first) nor hide the others from health and
 * `pgmaint backups`. Skipped, it is neither a backup nor an orphan: pruning leaves it alone.
 */
export async function listBackups(
  store: ObjectStore,
  target: string,
  warn: (message: string) => void = (message) => console.warn(message),
  database?: string,
): Promise<BackupManifest[]> {
  const prefix = database === undefined ? backupPrefix(target) : databasePrefix(target, database);
  const manifests = await manifestObjects(store, prefix);
  const result: BackupManifest[] = [];
  for (const object of manifests) {
    const body = await store.get(object.key);
    if (!body) continue; // deleted between list and get
    try {
      result.push(readManifest(store, object.key, body));
    } catch (error) {
      warn(`skipped: ${errorMessage(error)}`);
    }
  }
  return result;
}

/** Manifest objects under a prefix, newest backup first. */
async function manifestObjects(store: ObjectStore, prefix: string) {
  const objects = await store.list(prefix);
  return objects
    .filter((o) => o.key.endsWith(MANIFEST_SUFFIX))
    .sort((a, b) =>
      newestKeyFirst(a.key.slice(0, -MANIFEST_SUFFIX.length), b.key.slice(0, -MANIFEST_SUFFIX.length)),
    );
}

/**
 * "latest" (the newest verified backup), or a backup named in any form pgmaint prints: the dump
 * key, its URL (`s3://bucket/key`, `file:///dir/key`) or its manifest's key. Its manifest must exist.
 * `database` (a target with `databases`): the newest backup of that database, and a named backup
 * must be one of it.
 */
export async function resolveBackup(
  store: ObjectStore,
  target: string,
  which: string,
  database?: string,
): Promise<BackupManifest> {
  if (which === 'latest') {
    const prefix = database === undefined ? backupPrefix(target) : databasePrefix(target, database);
    const newest = (await manifestObjects(store, prefix))[0];
    const body = newest && (await store.get(newest.key));
    if (!newest || !body)
      throw new JobError(
        `target "${target}" has no verified backup${database === undefined ? '' : ` of database "${database}"`} in ${store.location}`,
      );
    return readManifest(store, newest.key, body);
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
  const manifest = readManifest(store, manifestKey(key), body);
  if (database !== undefined && manifest.database !== database)
    throw new RequestRefusedError(
      `backup ${store.location}/${key} is a backup of database "${manifest.database}", not "${database}"; ${listHint}`,
    );
  return manifest;
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
