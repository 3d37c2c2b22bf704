import { s3Client } from '../shared/aws';
import type { PgmaintConfig } from '../shared/config/schema';
import { errorMessage } from '../shared/errors';
import { openStore } from '../shared/store';

export interface LockCheck {
  /** Targets asking for backup.objectLock. */
  readonly targets: readonly string[];
  /** true: the store locks objects; false: it cannot (a config error); undefined: not checked. */
  readonly enabled?: boolean;
  /** Why it was not checked, or what is wrong. */
  readonly note?: string;
}

/**
 * `validate`'s check of backup.objectLock against the bucket itself, where it can reach AWS.
 * A bucket the stack creates is not checked (the stack creates it with Object Lock); not being
 * able to ask (no credentials, no network) is a note, not a failure: backup checks again.
 */
export async function checkObjectLock(config: PgmaintConfig, env: NodeJS.ProcessEnv): Promise<LockCheck> {
  const targets = Object.entries(config.targets)
    .filter(([, t]) => t.backup?.objectLock)
    .map(([name]) => name);
  if (targets.length === 0 || !config.backupBucket) return { targets };
  const store = openStore(config.backupBucket, () => s3Client(env));
  try {
    const enabled = await store.objectLockEnabled();
    return enabled
      ? { targets, enabled }
      : {
          targets,
          enabled,
          note: `backup.objectLock (${targets.join(', ')}): ${store.location} cannot lock objects; use a bucket created with Object Lock, or leave backupBucket out so the stack creates one`,
        };
  } catch (error) {
    return { targets, note: `could not check Object Lock on ${store.location}: ${errorMessage(error)}` };
  }
}
