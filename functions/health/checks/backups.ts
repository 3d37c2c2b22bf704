import type { BackupManifest } from '../../shared/backup-catalog';
import { formatBytes, formatDuration } from '../../shared/units';
import type { CheckInput, HealthCheck, Measurement } from '../check';
import { round } from './numbers';

/** The verified backups of the target, or why they cannot be judged. */
async function backupsOf({ store, target, targetName }: CheckInput): Promise<BackupManifest[] | string> {
  if (!store) return 'no backup store configured (backupBucket)';
  // The catalog (and the store layout's schemas) loads only for a target with a store.
  const { listBackups } = await import('../../shared/backup-catalog');
  const backups = await listBackups(store, targetName);
  if (backups.length === 0 && !target.backup)
    return `target "${targetName}" has no backup section and no backup`;
  return backups;
}

/** `backup_freshness`: age of the newest verified backup of the target. */
export const backupFreshnessCheck: HealthCheck = {
  name: 'backup_freshness',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '25 hours', critical: '48 hours' },
  async run(input): Promise<Measurement> {
    const backups = await backupsOf(input);
    if (typeof backups === 'string') return { skipped: backups };
    const recommendation =
      'Check the backup job: its last runs (CloudWatch logs, FAILED alerts), its schedule, and that it can reach the database and the bucket. Run `pgmaint backup --target` by hand once it is fixed.';
    const newest = backups[0];
    if (!newest)
      return {
        value: null,
        message: `no verified backup of ${input.targetName} in ${input.store?.location}`,
        atLeast: 'critical',
        details: { backups: 0 },
        recommendation,
      };
    const ageSeconds = (input.now().getTime() - new Date(newest.finishedAt).getTime()) / 1000;
    return {
      value: round(ageSeconds),
      message: `newest verified backup finished ${formatDuration(ageSeconds * 1000)} ago (${formatBytes(newest.bytes)}, ${newest.key})`,
      details: {
        backups: backups.length,
        key: newest.key,
        finishedAt: newest.finishedAt,
        bytes: newest.bytes,
      },
      recommendation,
    };
  },
};

/** `backup_size_change`: a backup much smaller than the one before usually means data went missing. */
export const backupSizeChangeCheck: HealthCheck = {
  name: 'backup_size_change',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '50%', critical: null },
  async run(input): Promise<Measurement> {
    const backups = await backupsOf(input);
    if (typeof backups === 'string') return { skipped: backups };
    const [newest, previous] = backups;
    if (!newest || !previous) return { skipped: `needs two verified backups, found ${backups.length}` };
    const shrunk = previous.bytes > 0 ? (100 * (previous.bytes - newest.bytes)) / previous.bytes : 0;
    const change = round(-shrunk);
    return {
      value: round(Math.max(shrunk, 0)),
      message: `newest backup is ${formatBytes(newest.bytes)}, ${change >= 0 ? `${change}% larger` : `${-change}% smaller`} than the one before (${formatBytes(previous.bytes)})`,
      details: {
        newest: { key: newest.key, bytes: newest.bytes },
        previous: { key: previous.key, bytes: previous.bytes },
        changePercent: change,
      },
      recommendation:
        'Find out what disappeared before the old backups expire: compare the row counts in the two manifests (tables[].rowEstimate), and check for a mass delete, a dropped table or a retention rule that went too far.',
    };
  },
};
