import type { BackupConfig } from '../shared/config/schema';
import { RefusedError } from '../shared/errors';
import type { ObjectLock, ObjectStore } from '../shared/store';

const DAY_MS = 86_400_000;

/**
 * The lock every object of this backup gets (backup.objectLock): `days` from the backup's start.
 * Checked before anything is dumped: a bucket without Object Lock would store the backup
 * unlocked, which is exactly what the setting exists to prevent.
 */
export async function objectLockFor(
  store: ObjectStore,
  policy: BackupConfig,
  started: Date,
): Promise<ObjectLock | undefined> {
  const wanted = policy.objectLock;
  if (!wanted) return undefined;
  if (!(await store.objectLockEnabled())) {
    throw new RefusedError(
      `backup.objectLock is set but ${store.location} cannot lock objects: ${
        store.location.startsWith('s3://')
          ? 'the bucket was created without Object Lock (it can only be enabled on an existing bucket by AWS support or, for a versioned bucket, with PutObjectLockConfiguration); use a bucket with Object Lock, or let the stack create one'
          : 'only an S3 bucket with Object Lock can; remove objectLock for a local store'
      }; nothing was dumped`,
    );
  }
  return { mode: wanted.mode, until: new Date(started.getTime() + wanted.days * DAY_MS) };
}

/** The store, writing every object with the lock. */
export function withLock(store: ObjectStore, lock: ObjectLock | undefined): ObjectStore {
  if (!lock) return store;
  return {
    ...store,
    put: (key, body, contentType) => store.put(key, body, contentType, lock),
    putStream: (key, body, contentType) => store.putStream(key, body, contentType, lock),
  };
}
