import { formatDuration } from '../../shared/units';
import type { HealthCheck, Measurement } from '../check';
import { round } from './numbers';

/**
 * `backup_copies`: every copy asked for (backup.copies) holds the newest verified backup. The
 * value is the worst lag: how much older than the newest backup the newest one copied to a
 * region is. A copy that lags at all warns; a region with no copy at all is critical.
 */
export const backupCopiesCheck: HealthCheck = {
  name: 'backup_copies',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '1 minute', critical: null },
  async run({ store, target, targetName }): Promise<Measurement> {
    const wanted = target.backup?.copies ?? [];
    if (wanted.length === 0) return { skipped: 'no backup copies configured (backup.copies)' };
    if (!store) return { skipped: 'no backup store configured (backupBucket)' };
    const { listBackups } = await import('../../shared/backup-catalog');
    const backups = await listBackups(store, targetName);
    const newest = backups[0];
    if (!newest) return { skipped: `no verified backup of ${targetName} yet` };
    const lags = wanted.map((copy) => {
      const copied = backups.find((b) =>
        b.copies?.some((c) => c.region === copy.region && c.bucket === copy.bucket),
      );
      return {
        region: copy.region,
        bucket: copy.bucket,
        key: copied?.key ?? null,
        lagSeconds: copied ? (Date.parse(newest.finishedAt) - Date.parse(copied.finishedAt)) / 1000 : null,
      };
    });
    const missing = lags.filter((l) => l.lagSeconds === null);
    const lagging = lags.filter((l) => (l.lagSeconds ?? 0) > 0);
    const worst = Math.max(0, ...lags.map((l) => l.lagSeconds ?? 0));
    const message =
      missing.length === 0 && lagging.length === 0
        ? `newest backup ${newest.key} has its ${wanted.length} verified cop${wanted.length === 1 ? 'y' : 'ies'} (${wanted.map((c) => c.region).join(', ')})`
        : [
            ...missing.map((l) => `no verified copy in ${l.region} (s3://${l.bucket})`),
            ...lagging.map(
              (l) =>
                `the copy in ${l.region} lags the newest backup by ${formatDuration((l.lagSeconds ?? 0) * 1000)} (${l.key})`,
            ),
          ].join('; ');
    return {
      value: round(worst),
      message,
      details: { newest: newest.key, copies: lags },
      // Lagging at all is a warning (the thresholds can raise it with the lag); never copied, critical.
      ...(missing.length > 0
        ? { atLeast: 'critical' as const }
        : lagging.length > 0
          ? { atLeast: 'warning' as const }
          : {}),
      recommendation:
        "Read the backup job's last FAILED alert: it names the copy that failed (destination bucket permissions, its KMS key, the region). Once fixed, the next backup copies again.",
    };
  },
};
