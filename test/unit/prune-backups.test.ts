import { describe, expect, it } from 'vitest';
import { backupsToPrune, orphanDumps } from '../../functions/backup/prune-backups';
import { type BackupManifest, backupKey, manifestKey } from '../../functions/shared/backup-catalog';
import type { ObjectStore, StoredObject } from '../../functions/shared/store';

/** A daily backup at 02:00 UTC for `days` days up to `now`, newest first. */
function dailyBackups(now: Date, days: number): BackupManifest[] {
  return Array.from({ length: days }, (_, i) => {
    const at = new Date(now.getTime() - i * 86_400_000);
    const iso = at.toISOString();
    return { key: `prod/${iso}.dump`, startedAt: iso, finishedAt: iso } as BackupManifest;
  });
}

describe('backupsToPrune', () => {
  const now = new Date('2026-11-23T02:30:00Z');

  it('deletes what is older than retentionDays, keeping the rest', () => {
    const backups = dailyBackups(now, 40);
    const pruned = backupsToPrune(backups, { retentionDays: 30, keepAtLeast: 3 }, now);
    expect(pruned.map((b) => b.key)).toEqual(backups.slice(31).map((b) => b.key));
  });

  it('never drops below keepAtLeast, however old the backups are', () => {
    const old = dailyBackups(new Date('2025-01-10T02:00:00Z'), 5);
    const pruned = backupsToPrune(old, { retentionDays: 7, keepAtLeast: 3 }, now);
    expect(pruned.map((b) => b.key)).toEqual(old.slice(3).map((b) => b.key));
  });

  it('keepMonthly keeps the first backup of each of the last N months', () => {
    const backups = dailyBackups(now, 120);
    const pruned = backupsToPrune(backups, { retentionDays: 7, keepAtLeast: 3, keepMonthly: 3 }, now);
    const kept = backups.filter((b) => !pruned.includes(b)).map((b) => b.startedAt.slice(0, 10));
    expect(kept).toContain('2026-11-01');
    expect(kept).toContain('2026-10-01');
    expect(kept).toContain('2026-09-01');
    expect(kept).not.toContain('2026-08-01');
    // 16th–23rd (the 16th sits exactly on the cutoff) + the 1st of Nov, Oct and Sep.
    expect(kept).toHaveLength(8 + 3);
  });

  it('an empty store prunes nothing', () => {
    expect(backupsToPrune([], { retentionDays: 1, keepAtLeast: 1 }, now)).toEqual([]);
  });

  // The clock is injected: the same cases hold whatever day the suite runs on.
  it.each([
    ['2027-01-01T00:10:00Z', ['2027-01-01', '2026-12-01', '2026-11-01'], '2026-10-01'],
    ['2027-01-31T23:50:00Z', ['2027-01-01', '2026-12-01', '2026-11-01'], '2026-10-01'],
    ['2028-02-29T23:30:00Z', ['2028-02-01', '2028-01-01', '2027-12-01'], '2027-11-01'],
    ['2027-03-28T00:59:00Z', ['2027-03-01', '2027-02-01', '2027-01-01'], '2026-12-01'],
    ['2027-06-01T00:05:00Z', ['2027-06-01', '2027-05-01', '2027-04-01'], '2027-03-01'],
  ])('keepMonthly at %s keeps the first backup of this month and the two before', (at, kept, gone) => {
    const now = new Date(at);
    // Daily backups at 00:01 UTC, so one exists on the 1st of every month, today's included.
    const newest = new Date(`${at.slice(0, 10)}T00:01:00Z`);
    const backups = dailyBackups(newest, 200);
    const pruned = new Set(
      backupsToPrune(backups, { retentionDays: 7, keepAtLeast: 1, keepMonthly: 3 }, now),
    );
    const keptDays = backups.filter((b) => !pruned.has(b)).map((b) => b.startedAt.slice(0, 10));
    for (const day of kept) expect(keptDays).toContain(day);
    expect(keptDays).not.toContain(gone);
    // Seven days back from now, plus the three firsts (this month's may be one of the seven).
    const recent = backups.filter((b) => now.getTime() - Date.parse(b.finishedAt) <= 7 * 86_400_000);
    expect(keptDays).toHaveLength(new Set([...recent.map((b) => b.startedAt.slice(0, 10)), ...kept]).size);
  });

  it.each([
    ['2027-01-01T00:10:00Z', 'prod/2027/01/01/prod-20270101T001000Z.dump'],
    ['2026-12-31T23:59:59.999Z', 'prod/2026/12/31/prod-20261231T235959Z.dump'],
    ['2028-02-29T23:30:00Z', 'prod/2028/02/29/prod-20280229T233000Z.dump'],
    ['2027-10-31T00:59:00Z', 'prod/2027/10/31/prod-20271031T005900Z.dump'],
  ])('a backup started at %s is stored under its UTC date: %s', (at, key) => {
    expect(backupKey('prod', new Date(at))).toBe(key);
  });

  it('backup keys sort in time order across month and year ends, so "latest" is the newest', () => {
    const starts = [
      '2026-12-31T23:59:59Z',
      '2027-01-01T00:00:01Z',
      '2027-01-31T23:50:00Z',
      '2027-02-01T00:05:00Z',
    ];
    const keys = starts.map((at) => backupKey('prod', new Date(at)));
    expect([...keys].sort()).toEqual(keys);
  });

  it('removes a dump without a manifest only once it is a day old, by the injected clock', async () => {
    const now = new Date('2027-03-01T00:10:00Z');
    const object = (key: string, hoursOld: number): StoredObject => ({
      key,
      size: 1,
      lastModified: new Date(now.getTime() - hoursOld * 3_600_000),
    });
    const verified = backupKey('prod', new Date('2027-02-27T00:00:00Z'));
    const oldOrphan = backupKey('prod', new Date('2027-02-28T00:00:00Z'));
    const newOrphan = backupKey('prod', new Date('2027-02-28T23:00:00Z'));
    const objects = [
      object(verified, 48),
      object(manifestKey(verified), 48),
      object(oldOrphan, 24.5),
      object(`${oldOrphan}.globals.sql`, 24.5),
      object(newOrphan, 1),
    ];
    const store = { list: async () => objects } as unknown as ObjectStore;
    expect(await orphanDumps(store, 'prod', now)).toEqual([oldOrphan, `${oldOrphan}.globals.sql`]);
  });
});
