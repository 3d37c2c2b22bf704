import type { S3Client } from '@aws-sdk/client-s3';
import { checkAbortRule } from '../shared/bucket-lifecycle';
import type { PgmaintConfig } from '../shared/config/schema';

/** validate must not hang on a machine that cannot reach AWS: it says the check was not made. */
const CHECK_TIMEOUT_MS = 5_000;

/**
 * What `validate` can only learn from AWS: whether the bucket the config brings (the stack creates
 * its own with the rule) aborts incomplete uploads for every target's prefix.
 */
export async function bucketWarnings(config: PgmaintConfig, s3: () => S3Client): Promise<string[]> {
  const bucket = config.backupBucket;
  if (!bucket || bucket.startsWith('file://')) return [];
  const prefixes = Object.keys(config.targets).map((target) => `${target}/`);
  const check = await checkAbortRule(s3(), bucket, prefixes, AbortSignal.timeout(CHECK_TIMEOUT_MS));
  return check.status === 'ok' ? [] : [check.message];
}
