import { describe, expect, it } from 'vitest';
import {
  backupsToPrune,
  keepReasons,
  orphanDumps,
  type RetentionPolicy,
} from '../../functions/backup/prune-backups';
import { type BackupManifest, backupKey, manifestKey } from '../../functions/shared/backup-catalog';
import type { ObjectStore, StoredObject } from '../../functions/shared/store';
import { londonDate, londonTime } from '../helpers/london-time';

/** A daily backup at 02:00 UTC for `days` days up to `now`, newest first. */
function dailyBackups(now: Date, days: number): BackupManifest[] {
  return Array.from({ length: days }, (_, i) => manifestAt(new Date(now.getTime() - i * 86_400_000)));
}

function manifestAt(at: Date): BackupManifest {
  const iso = at.toISOString();
  return { key: `prod/${iso}.dump`, startedAt: iso, finishedAt: iso } as BackupManifest;
}

const londonDay = (b: BackupManifest) => londonDate(b.startedAt);

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

  it.each([
    // [rule, N, now, the backups kept besides retentionDays/keepAtLeast]
    ['keepDaily', 3, '2027-01-10T12:00:00Z', ['2027-01-08', '2027-01-09', '2027-01-10']],
    // 2027-01-10 is a Sunday: its ISO week began Monday 4 January.
    ['keepWeekly', 2, '2027-01-10T12:00:00Z', ['2026-12-28', '2027-01-04']],
    ['keepYearly', 2, '2027-01-10T12:00:00Z', ['2026-01-01', '2027-01-01']],
  ] as const)('%s %i keeps the first backup of each of the last N periods', (rule, count, at, expected) => {
    const clock = new Date(at);
    const backups = dailyBackups(new Date('2027-01-10T02:00:00Z'), 500);
    const policy: RetentionPolicy = { retentionDays: 1, keepAtLeast: 1, [rule]: count };
    const reasons = keepReasons(backups, policy, clock);
    const keptByRule = backups
      .filter((b) => reasons.get(b.key)?.includes(rule))
      .map((b) => b.startedAt.slice(0, 10))
      .sort();
    expect(keptByRule).toEqual(expected);
  });

  it('counts periods on the target clock: a 00:30 backup on 1 July in London is June in UTC', () => {
    const julyFirst = manifestAt(londonTime(2027, 7, 1, 0, 30)); // 2027-06-30T23:30Z
    const julySecond = manifestAt(londonTime(2027, 7, 2, 0, 30));
    const backups = [julySecond, julyFirst];
    const clock = new Date('2027-07-20T00:00:00Z');
    const policy = { retentionDays: 1, keepAtLeast: 1, keepMonthly: 1 };
    expect(keepReasons(backups, policy, clock, 'Europe/London').get(julyFirst.key)).toEqual(['keepMonthly']);
    // In UTC, 1 July's backup belongs to June, outside the last one month: 2 July's is July's first.
    expect(keepReasons(backups, policy, clock, 'UTC').get(julySecond.key)).toEqual([
      'keepAtLeast',
      'keepMonthly',
    ]);
  });

  it('over fourteen months of nightly 00:30 London backups, pruning after each, keeps exactly the GFS set', () => {
    const policy: RetentionPolicy = {
      retentionDays: 7,
      keepAtLeast: 3,
      keepWeekly: 4,
      keepMonthly: 12,
      keepYearly: 5,
    };
    let stored: BackupManifest[] = [];
    let clock = new Date(0);
    // 2027-01-01 to 2028-03-01: two clock changes and a leap day, a backup every night.
    for (let day = Date.UTC(2027, 0, 1); day <= Date.UTC(2028, 2, 1); day += 86_400_000) {
      const date = new Date(day);
      const at = londonTime(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 0, 30);
      clock = new Date(at.getTime() + 20 * 60_000);
      stored = [manifestAt(at), ...stored];
      const pruned = new Set(backupsToPrune(stored, policy, clock, 'Europe/London'));
      stored = stored.filter((b) => !pruned.has(b));
    }
    const kept = stored.map(londonDay).sort();
    expect(kept).toEqual(
      [
        // keepYearly: the first backup of 2027 (2028's is also January's)
        '2027-01-01',
        // keepMonthly 12: April 2027 to March 2028 (March 2027 just fell out)
        ...['04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2027-${m}-01`),
        '2028-01-01',
        '2028-02-01',
        // keepWeekly 4: the Mondays of the last four ISO weeks (28 February's is also retentionDays')
        '2028-02-07',
        '2028-02-14',
        '2028-02-21',
        // retentionDays 7 (finished within 7 days of 1 March 00:50): 24 February to 1 March
        '2028-02-24',
        '2028-02-25',
        '2028-02-26',
        '2028-02-27',
        '2028-02-28',
        '2028-02-29',
        '2028-03-01',
      ].sort(),
    );
    const reasons = keepReasons(stored, policy, clock, 'Europe/London');
    const byDay = new Map(stored.map((b) => [londonDay(b), reasons.get(b.key)]));
    expect(byDay.get('2027-01-01')).toEqual(['keepYearly']);
    expect(byDay.get('2028-01-01')).toEqual(['keepMonthly', 'keepYearly']);
    expect(byDay.get('2028-02-28')).toEqual(['keepAtLeast', 'retentionDays', 'keepWeekly']);
    // A Wednesday: its week's first backup is Monday's.
    expect(byDay.get('2028-03-01')).toEqual(['keepAtLeast', 'retentionDays', 'keepMonthly']);
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
    ['2027-01-01T00:10:00Z', 'prod/2027/01/01/prod-20270101T001000000Z.dump'],
    ['2026-12-31T23:59:59.999Z', 'prod/2026/12/31/prod-20261231T235959999Z.dump'],
    ['2028-02-29T23:30:00Z', 'prod/2028/02/29/prod-20280229T233000000Z.dump'],
    ['2027-10-31T00:59:00Z', 'prod/2027/10/31/prod-20271031T005900000Z.dump'],
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
