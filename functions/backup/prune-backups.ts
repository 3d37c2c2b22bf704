import { type BackupManifest, globalsKey, manifestKey } from '../shared/backup-catalog';
import type { ObjectStore } from '../shared/store';

export interface RetentionPolicy {
  readonly retentionDays: number;
  readonly keepAtLeast: number;
  readonly keepMonthly?: number | undefined;
}

const DAY_MS = 86_400_000;

/**
 * Which verified backups to delete: older than retentionDays, except the newest keepAtLeast
 * (a broken schedule must never age out the last good copies) and, with keepMonthly, the first
 * backup of each of the last N calendar months (UTC). `backups` is newest first.
 */
export function backupsToPrune(
  backups: readonly BackupManifest[],
  policy: RetentionPolicy,
  now: Date,
): BackupManifest[] {
  const cutoff = now.getTime() - policy.retentionDays * DAY_MS;
  const keep = new Set<string>(backups.slice(0, policy.keepAtLeast).map((b) => b.key));
  for (const backup of backups) if (Date.parse(backup.finishedAt) >= cutoff) keep.add(backup.key);
  if (policy.keepMonthly) {
    const months = new Set<string>();
    for (let i = 0; i < policy.keepMonthly; i++) {
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
      months.add(month.toISOString().slice(0, 7));
    }
    const firstOfMonth = new Map<string, BackupManifest>();
    for (const backup of backups) {
      const month = backup.startedAt.slice(0, 7);
      if (months.has(month)) firstOfMonth.set(month, backup); // newest first: the last set is the oldest
    }
    for (const backup of firstOfMonth.values()) keep.add(backup.key);
  }
  return backups.filter((b) => !keep.has(b.key));
}

/**
 * Deletes backups: the manifest first, so a backup stops existing in one step and a listing
 * never shows a backup whose dump is already gone; then the dump and its globals.
 */
export async function deleteBackups(store: ObjectStore, backups: readonly BackupManifest[]): Promise<void> {
  if (backups.length === 0) return;
  await store.delete(backups.map((b) => manifestKey(b.key)));
  await store.delete(backups.flatMap((b) => [b.key, globalsKey(b.key)]));
}

/**
 * Dumps without a manifest are not backups: left by a run that died between upload and
 * manifest. Once a day old (no run is still writing them) they are removed.
 */
export async function orphanDumps(store: ObjectStore, target: string, now: Date): Promise<string[]> {
  const objects = await store.list(`${target}/`);
  const keys = new Set(objects.map((o) => o.key));
  return objects
    .filter(
      (o) =>
        o.key.endsWith('.dump') &&
        !keys.has(manifestKey(o.key)) &&
        now.getTime() - o.lastModified.getTime() > DAY_MS,
    )
    .flatMap((o) => [o.key, ...(keys.has(globalsKey(o.key)) ? [globalsKey(o.key)] : [])]);
}
