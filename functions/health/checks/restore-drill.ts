import { errorMessage } from '../../shared/errors';
import { formatDuration } from '../../shared/units';
import type { HealthCheck, Measurement } from '../check';
import { round } from './numbers';

/** What the restore drill writes at `state/<target>/restore-drill.json` after each run. */
export interface RestoreDrillState {
  readonly finishedAt: string;
  readonly status: 'passed' | 'failed';
  readonly backupKey: string | null;
  readonly durationMs: number;
  readonly mismatches: unknown;
  /** Why a drill failed before it could compare anything. */
  readonly error?: string;
}

export const restoreDrillKey = (target: string) => `state/${target}/restore-drill.json`;

/** `restore_drill`: a backup is only as good as the last restore that proved it. */
export const restoreDrillCheck: HealthCheck = {
  name: 'restore_drill',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '8 days', critical: null },
  async run({ store, targetName, now }): Promise<Measurement> {
    if (!store) return { skipped: 'no backup store configured (backupBucket)' };
    const body = await store.get(restoreDrillKey(targetName));
    if (!body) return { skipped: `no restore drill has run for ${targetName} yet` };
    let drill: RestoreDrillState;
    try {
      drill = JSON.parse(body.toString('utf8')) as RestoreDrillState;
    } catch (error) {
      throw new Error(`${store.location}/${restoreDrillKey(targetName)} is not JSON: ${errorMessage(error)}`);
    }
    const finished = new Date(drill.finishedAt);
    if (Number.isNaN(finished.getTime()) || (drill.status !== 'passed' && drill.status !== 'failed'))
      throw new Error(`${restoreDrillKey(targetName)} lacks a valid finishedAt and status`);
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
