import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from './aws';
import { errorMessage } from './errors';

/** A lifecycle rule as far as aborting incomplete uploads goes (S3's API and CloudFormation spell it differently). */
export interface AbortRule {
  readonly enabled: boolean;
  /** DaysAfterInitiation of AbortIncompleteMultipartUpload; undefined when the rule has none. */
  readonly abortAfterDays: number | undefined;
  /** The rule's key prefix ('' = the whole bucket). */
  readonly prefix: string;
}

/** The prefixes (e.g. `prod/`) that no enabled abort-incomplete-uploads rule covers. */
export function uncoveredPrefixes(rules: readonly AbortRule[], prefixes: readonly string[]): string[] {
  const covering = rules.filter((r) => r.enabled && r.abortAfterDays !== undefined);
  return prefixes.filter((prefix) => !covering.some((rule) => prefix.startsWith(rule.prefix)));
}

export function missingRuleMessage(bucket: string, uncovered: readonly string[]): string {
  return (
    `backupBucket "${bucket}" has no lifecycle rule that aborts incomplete multipart uploads` +
    ` (for ${uncovered.join(', ')}): a backup killed mid-upload leaves its parts, billed as storage, until` +
    ` its target's next backup aborts them (after a day), or for good if that target never backs up again.` +
    ` Add a rule with AbortIncompleteMultipartUpload { DaysAfterInitiation: 1 } to the bucket's lifecycle` +
    ' (put-bucket-lifecycle-configuration replaces every existing rule: include them)'
  );
}

export type LifecycleCheck =
  | { readonly status: 'ok' }
  | { readonly status: 'missing' | 'unknown'; readonly message: string };

/** Reads the bucket's lifecycle and says whether every target's prefix has an abort rule. */
export async function checkAbortRule(
  client: S3Client,
  bucket: string,
  prefixes: readonly string[],
  abortSignal?: AbortSignal,
): Promise<LifecycleCheck> {
  const { GetBucketLifecycleConfigurationCommand } = sdk.s3();
  let rules: AbortRule[];
  try {
    const response = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }), {
      abortSignal,
    });
    rules = (response.Rules ?? []).map((rule) => ({
      enabled: rule.Status === 'Enabled',
      abortAfterDays: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
      prefix: rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix ?? '',
    }));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NoSuchLifecycleConfiguration') rules = [];
    else
      return {
        status: 'unknown',
        message: `could not read the lifecycle rules of "${bucket}" (${name === 'AbortError' ? 'no answer from AWS in time' : errorMessage(error)}); check that it aborts incomplete multipart uploads`,
      };
  }
  const uncovered = uncoveredPrefixes(rules, prefixes);
  return uncovered.length === 0
    ? { status: 'ok' }
    : { status: 'missing', message: missingRuleMessage(bucket, uncovered) };
}
