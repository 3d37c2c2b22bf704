import { errorMessage, JobError } from '../shared/errors';
import type { JobContext } from '../shared/job';
import type { ObjectStore } from '../shared/store';
import { type BackupCopy, type BackupManifest, manifestKey, storedJson } from '../shared/store/layout';
import { type CopyDestination, copyBackup } from './copy-backup';

/**
 * backup.copies, after the backup is verified, stored and pruned: each destination in turn; the
 * manifest is written again with the copies that were verified, so it says where they are. A
 * copy that fails fails the run (one alert naming each), but never the backup, which is stored.
 */
export async function copyToDestinations(
  context: JobContext,
  store: ObjectStore,
  manifest: BackupManifest,
  destinations: readonly CopyDestination[],
): Promise<BackupCopy[]> {
  if (destinations.length === 0) return [];
  if (!store.location.startsWith('s3://'))
    throw new JobError(`backup.copies needs an S3 backupBucket, not ${store.location}; the backup is stored`);
  const sourceBucket = store.location.slice('s3://'.length);
  const copies: BackupCopy[] = [];
  const failures: string[] = [];
  for (const destination of destinations) {
    try {
      copies.push(await copyBackup(sourceBucket, manifest, destination, context.now));
    } catch (error) {
      failures.push(errorMessage(error));
    }
  }
  if (copies.length > 0)
    await store.put(manifestKey(manifest.key), storedJson({ ...manifest, copies }), 'application/json');
  if (failures.length > 0)
    throw new JobError(
      `the backup ${manifest.key} is verified and stored${copies.length > 0 ? ` (and copied to ${copies.map((c) => c.region).join(', ')})` : ''}, but ${failures.join('; ')}`,
    );
  return copies;
}
