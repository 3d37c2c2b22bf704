import { fileStore, type ObjectStore } from '../../functions/shared/store';
import { type BackupManifest, backupKey, manifestKey, storedJson } from '../../functions/shared/store/layout';
import { testTempDir } from './temp-dirs';

/**
 * The manifest of a verified backup of `target` that started at `startedAt`, as the backup job
 * writes it: a minute long, 2 kB. With `database`, the backup of that database of a target with
 * `databases` (its own series, its name in the key); without, a one-database target's, of "app".
 */
export function verifiedManifest(
  target: string,
  startedAt: Date,
  { database, ...extra }: Partial<BackupManifest> = {},
): BackupManifest {
  return {
    formatVersion: 1,
    target,
    database: database ?? 'app',
    key: backupKey(target, startedAt, database),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + 60_000).toISOString(),
    durationMs: 60_000,
    bytes: 2048,
    sha256: 'ab',
    serverVersion: '15.4',
    serverVersionNum: 150004,
    pgDumpVersion: '15.4',
    archiveVersion: '1.14.0',
    compression: 'gzip:6',
    databaseSizeBytes: 100,
    tables: [],
    rowCountsExact: true,
    ...extra,
  };
}

/** A store in a directory of its own, holding `manifests`; removed with the test file's temp root. */
export async function storeWith(manifests: readonly BackupManifest[] = []): Promise<ObjectStore> {
  const store = fileStore(testTempDir('store-'));
  for (const manifest of manifests) await store.put(manifestKey(manifest.key), storedJson(manifest));
  return store;
}
