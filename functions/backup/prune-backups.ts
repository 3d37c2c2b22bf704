import { type BackupManifest, backupFileKey, globalsKey, manifestKey } from '../shared/backup-catalog';
import type { ObjectStore } from '../shared/store';
import { type Period, periodIndex } from './backup-calendar';

export interface RetentionPolicy {
  readonly retentionDays: number;
  readonly keepAtLeast: number;
  readonly keepDaily?: number | undefined;
  readonly keepWeekly?: number | undefined;
  readonly keepMonthly?: number | undefined;
  readonly keepYearly?: number | undefined;
}

/** The rule that keeps a backup; a backup no rule keeps is deleted. */
export type KeepRule =
  | 'keepAtLeast'
  | 'retentionDays'
  | 'keepDaily'
  | 'keepWeekly'
  | 'keepMonthly'
  | 'keepYearly'
  /** backup.objectLock: the store will not delete it before its lock expires. */
  | 'objectLock';

const DAY_MS = 86_400_000;

const CALENDAR_RULES: ReadonlyArray<
  readonly [Exclude<KeepRule, 'keepAtLeast' | 'retentionDays' | 'objectLock'>, Period]
> = [
  ['keepDaily', 'day'],
  ['keepWeekly', 'week'],
  ['keepMonthly', 'month'],
  ['keepYearly', 'year'],
];

/**
 * Why each verified backup is kept (grandfather-father-son): the newest keepAtLeast (a broken
 * schedule must never age out the last good copies), everything younger than retentionDays, and
 * for keepDaily/keepWeekly/keepMonthly/keepYearly N the first backup of each of the last N days,
 * ISO weeks, months or years, counting the current one, on the target's clock. A backup is kept
 * if any rule keeps it. `backups` is newest first; the result has an entry for each, in order.
 */
export function keepReasons(
  backups: readonly BackupManifest[],
  policy: RetentionPolicy,
  now: Date,
  timeZone = 'UTC',
): Map<string, KeepRule[]> {
  const reasons = new Map<string, KeepRule[]>(backups.map((b) => [b.key, []]));
  const keep = (backup: BackupManifest, rule: KeepRule) => reasons.get(backup.key)?.push(rule);
  for (const backup of backups.slice(0, policy.keepAtLeast)) keep(backup, 'keepAtLeast');
  const cutoff = now.getTime() - policy.retentionDays * DAY_MS;
  for (const backup of backups) if (Date.parse(backup.finishedAt) >= cutoff) keep(backup, 'retentionDays');
  for (const [rule, period] of CALENDAR_RULES) {
    const count = policy[rule];
    if (!count) continue;
    const current = periodIndex(now, period, timeZone);
    const firstOfPeriod = new Map<number, BackupManifest>();
    for (const backup of backups) {
      const index = periodIndex(new Date(backup.startedAt), period, timeZone);
      // Newest first: the last one seen in a period is its oldest.
      if (index <= current && index > current - count) firstOfPeriod.set(index, backup);
    }
    for (const backup of firstOfPeriod.values()) keep(backup, rule);
  }
  // Not a policy but a fact: pruning never asks the store for what it would refuse.
  for (const backup of backups)
    if (backup.lockedUntil && Date.parse(backup.lockedUntil) > now.getTime()) keep(backup, 'objectLock');
  return reasons;
}

/** Which verified backups to delete: those no rule of the policy keeps. */
export function backupsToPrune(
  backups: readonly BackupManifest[],
  policy: RetentionPolicy,
  now: Date,
  timeZone = 'UTC',
): BackupManifest[] {
  const reasons = keepReasons(backups, policy, now, timeZone);
  return backups.filter((b) => reasons.get(b.key)?.length === 0);
}

/**
 * Deletes backups: the manifest first, so a backup stops existing in one step and a listing
 * never shows a backup whose dump is already gone; then the dump and its globals. A backup that
 * was locked is purged (every version: on a versioned bucket a plain delete would only hide its
 * locked versions behind delete markers, still stored and billed); one the store still holds
 * locked (its lock was extended, or clocks disagree) is left whole and returned in `locked`.
 */
export async function deleteBackups(
  store: ObjectStore,
  backups: readonly BackupManifest[],
): Promise<{ deleted: string[]; locked: string[] }> {
  const plain = backups.filter((b) => !b.lockedUntil);
  if (plain.length > 0) {
    await store.delete(plain.map((b) => manifestKey(b.key)));
    await store.delete(plain.flatMap((b) => [...objectKeys(b), globalsKey(b.key)]));
  }
  const deleted = plain.map((b) => b.key);
  const locked: string[] = [];
  for (const backup of backups.filter((b) => b.lockedUntil)) {
    const manifest = await store.purge([manifestKey(backup.key)]);
    if (manifest.locked.length > 0) {
      locked.push(backup.key);
      continue;
    }
    const rest = await store.purge([...objectKeys(backup), globalsKey(backup.key)]);
    // The manifest is gone, so the backup is: a dump still locked is an orphan, removed later.
    deleted.push(backup.key);
    if (rest.locked.length > 0) locked.push(...rest.locked);
  }
  return { deleted, locked };
}

/** The dump's objects: the archive, or each file of a directory-format backup. */
function objectKeys(backup: BackupManifest): string[] {
  if (backup.format !== 'directory') return [backup.key];
  return (backup.files ?? []).map((f) => backupFileKey(backup.key, f.name));
}

/**
 * Dumps without a manifest are not backups: left by a run that died between upload and
 * manifest (or, for a directory-format backup, files under a `.dir/` prefix whose run failed
 * and could not delete them). Once a day old (no run is still writing them) they are removed.
 */
export async function orphanDumps(store: ObjectStore, target: string, now: Date): Promise<string[]> {
  const objects = await store.list(`${target}/`);
  const keys = new Set(objects.map((o) => o.key));
  const old = (o: { lastModified: Date }) => now.getTime() - o.lastModified.getTime() > DAY_MS;
  const withGlobals = (key: string) => [...(keys.has(globalsKey(key)) ? [globalsKey(key)] : [])];
  const dumps = objects
    .filter((o) => o.key.endsWith('.dump') && !keys.has(manifestKey(o.key)) && old(o))
    .flatMap((o) => [o.key, ...withGlobals(o.key)]);
  const prefixes = new Map<string, { keys: string[]; newest: number }>();
  for (const o of objects) {
    const match = /^(.*\.dir)\/[^/]+$/.exec(o.key);
    if (!match?.[1] || keys.has(manifestKey(match[1]))) continue;
    const entry = prefixes.get(match[1]) ?? { keys: [], newest: 0 };
    entry.keys.push(o.key);
    entry.newest = Math.max(entry.newest, o.lastModified.getTime());
    prefixes.set(match[1], entry);
  }
  const directories = [...prefixes]
    .filter(([, entry]) => old({ lastModified: new Date(entry.newest) }))
    .flatMap(([prefix, entry]) => [...entry.keys, ...withGlobals(prefix)]);
  return [...dumps, ...directories];
}
