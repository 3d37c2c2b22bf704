import { errorMessage, JobError, RequestRefusedError } from './errors';
import type { ObjectStore, StoredObject } from './store';
import {
  type BackupManifest,
  backupKey,
  backupManifestSchema,
  backupPrefix,
  MANIFEST_SUFFIX,
  manifestKey,
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
export const directoryBackupKey = (target: string, startedAt: Date) =>
  backupKey(target, startedAt).replace(/\.dump$/, '.dir');
export const backupFileKey = (key: string, name: string) => `${key}/${name}`;

/** Reads one manifest, by its key: an error naming the key when it is not a manifest. */
export const readManifest = (store: ObjectStore, key: string, body: Buffer): BackupManifest =>
  parseStored(backupManifestSchema, store.location, key, body);

/**
 * Verified backups of a target, newest first (keys sort by time within a target). A manifest that
 * does not parse is skipped with a warning, not an error: one damaged object must not stop every
 * later backup (backup lists the earlier ones first) nor hide the others from health and
 * `pgmaint backups`. Skipped, it is neither a backup nor an orphan: pruning leaves it alone.
 */
export async function listBackups(
  store: ObjectStore,
  target: string,
  warn: (message: string) => void = (message) => console.warn(message),
): Promise<BackupManifest[]> {
  const objects = await store.list(backupPrefix(target));
  const manifests = objects
    .filter((o) => o.key.endsWith(MANIFEST_SUFFIX))
    .sort((a, b) => b.key.localeCompare(a.key));
  // A month of daily backups is 30 reads: one after the other they add up before every backup.
  const bodies: Array<Buffer | undefined> = new Array(manifests.length);
  let next = 0;
  const reader = async () => {
    while (next < manifests.length) {
      const i = next++;
      bodies[i] = await store.get((manifests[i] as StoredObject).key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_READS_AT_ONCE, manifests.length) }, reader));
  const result: BackupManifest[] = [];
  manifests.forEach((object, i) => {
    const body = bodies[i];
    if (!body) return; // deleted between list and get
    try {
      result.push(readManifest(store, object.key, body));
    } catch (error) {
      warn(`skipped: ${errorMessage(error)}`);
    }
  });
  return result;
}

const MANIFEST_READS_AT_ONCE = 8;

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
    const newest = (await store.list(backupPrefix(target)))
      .filter((o) => o.key.endsWith(MANIFEST_SUFFIX))
      .sort((a, b) => b.key.localeCompare(a.key))[0];
    const body = newest && (await store.get(newest.key));
    if (!newest || !body)
      throw new JobError(`target "${target}" has no verified backup in ${store.location}`);
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
  return readManifest(store, manifestKey(key), body);
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
