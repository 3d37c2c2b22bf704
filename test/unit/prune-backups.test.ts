import { describe, expect, it } from 'vitest';
import { backupsToPrune } from '../../functions/backup/prune-backups';
import type { BackupManifest } from '../../functions/shared/backup-catalog';

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
});
