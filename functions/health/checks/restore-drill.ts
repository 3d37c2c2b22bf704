import { formatDuration } from '../../shared/units';
import type { HealthCheck, Measurement } from '../check';
import { round } from './numbers';

/** `restore_drill`: a backup is only as good as the last restore that proved it. */
export const restoreDrillCheck: HealthCheck = {
  name: 'restore_drill',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '8 days', critical: null },
  async run({ store, targetName, now }): Promise<Measurement> {
    if (!store) return { skipped: 'no backup store configured (backupBucket)' };
    const { drillRecordKey, drillRecordSchema, parseStored } = await import('../../shared/store/layout');
    const key = drillRecordKey(targetName);
    const body = await store.get(key);
    if (!body) return { skipped: `no restore drill has run for ${targetName} yet` };
    // Not parsing is an error naming the key: the check then says it cannot tell (unknown).
    const drill = parseStored(drillRecordSchema, store.location, key, body);
    const finished = new Date(drill.finishedAt);
    const ageSeconds = (now().getTime() - finished.getTime()) / 1000;
    const failed = drill.status === 'failed';
    return {
      value: round(ageSeconds),
      message: `last restore drill ${drill.status} ${formatDuration(ageSeconds * 1000)} ago (${drill.backupKey ?? 'no backup'}, took ${formatDuration(drill.durationMs)})${drill.error ? `: ${drill.error}` : ''}`,
      details: { ...drill },
      atLeast: failed ? 'critical' : 'ok',
      recommendation: failed
        ? 'The last restore drill failed: read its mismatches, restore that backup by hand into a scratch database to see what is wrong, and fix the backup before you need it.'
        : 'Restore drills have stopped: check the drill schedule (restore.drillSchedule) and its last runs.',
    };
  },
};
