import { createHash } from 'node:crypto';
import { keepReasons, type RetentionPolicy } from '../backup/prune-backups';
import { type BackupManifest, listBackups, resolveBackup } from '../shared/backup-catalog';
import { JobError } from '../shared/errors';
import type { ObjectStore } from '../shared/store';

export type DrillPick = 'latest' | 'random';

export interface DrillPickInput {
  readonly pick: DrillPick;
  /** A target with several databases: the one whose backups are drilled. */
  readonly database?: string | undefined;
  /** Makes "random" repeatable: the same seed (the run id) picks the same backup. */
  readonly seed: string;
  readonly policy: RetentionPolicy;
  readonly now: Date;
  readonly timeZone: string;
  readonly warn: (message: string) => void;
}

/**
 * The backup a drill restores: the newest verified one, or ("random") any verified backup that
 * retention keeps, so every backup a restore might one day need gets proved, not only the newest.
 * Only backups with a manifest are verified; a dump without one is never a candidate.
 */
export async function drillBackup(
  store: ObjectStore,
  target: string,
  input: DrillPickInput,
): Promise<BackupManifest> {
  if (input.pick === 'latest') return resolveBackup(store, target, 'latest', input.database);
  const backups = await listBackups(store, target, input.warn, input.database);
  const reasons = keepReasons(backups, input.policy, input.now, input.timeZone);
  const kept = backups.filter((b) => (reasons.get(b.key)?.length ?? 0) > 0);
  const picked = kept[seededIndex(input.seed, kept.length)];
  if (!picked) throw new JobError(`target "${target}" has no verified backup in ${store.location} to drill`);
  return picked;
}

/** A uniform index below `length` from a seed's SHA-256. */
export function seededIndex(seed: string, length: number): number {
  if (length === 0) return 0;
  return createHash('sha256').update(seed).digest().readUInt32BE(0) % length;
}
