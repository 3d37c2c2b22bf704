import { JobError } from './errors';
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

/** "latest" (the newest verified backup) or an exact dump key; its manifest must exist. */
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
  const body = await store.get(manifestKey(which));
  if (!body)
    throw new JobError(`backup "${which}" has no manifest in ${store.location}: it is not a verified backup`);
  return JSON.parse(body.toString('utf8')) as BackupManifest;
}
