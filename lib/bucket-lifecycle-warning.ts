import { Annotations, Aspects, type IAspect, Resource, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { type AbortRule, missingRuleMessage, uncoveredPrefixes } from '../functions/shared/bucket-lifecycle';

const WARNING_ID = 'pgmaint:bucketAbortIncompleteUploads';

/**
 * A backup killed mid-upload leaves parts that S3 bills until something aborts them. pgmaint's
 * own bucket has a lifecycle rule for it; a bucket it is given may not, and the stack says so.
 * An imported bucket's lifecycle cannot be read at synth (CloudFormation knows only its name):
 * the warning says what to check, and `pgmaint validate`, which reads it from AWS, says if it is missing.
 * A bucket defined in the same app is checked for real, once the app is complete.
 */
export function warnWithoutAbortRule(
  scope: IConstruct,
  bucket: s3.IBucket,
  targets: readonly string[],
): void {
  const prefixes = targets.map((target) => `${target}/`);
  if (!Resource.isOwnedResource(bucket)) {
    Annotations.of(scope).addWarningV2(
      WARNING_ID,
      `the backup bucket "${bucket.node.id}" is imported, so its lifecycle rules cannot be read at synth: make sure one aborts incomplete multipart uploads (AbortIncompleteMultipartUpload, 1 day) for ${prefixes.join(', ')}; \`pgmaint validate\` checks it against AWS. Without it a backup killed mid-upload leaves its parts until the target's next backup aborts them`,
    );
    return;
  }
  Aspects.of(bucket).add(new AbortRuleCheck(bucket, prefixes));
}

class AbortRuleCheck implements IAspect {
  constructor(
    private readonly bucket: s3.IBucket,
    private readonly prefixes: readonly string[],
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof s3.CfnBucket)) return;
    const resolved = Stack.of(node).resolve(node.lifecycleConfiguration) as
      | { rules?: Array<s3.CfnBucket.RuleProperty> }
      | undefined;
    const rules: AbortRule[] = (resolved?.rules ?? []).map((rule) => {
      const abort = rule.abortIncompleteMultipartUpload as
        | s3.CfnBucket.AbortIncompleteMultipartUploadProperty
        | undefined;
      return {
        enabled: rule.status === 'Enabled',
        abortAfterDays: abort?.daysAfterInitiation,
        prefix: rule.prefix ?? '',
      };
    });
    const uncovered = uncoveredPrefixes(rules, this.prefixes);
    if (uncovered.length > 0)
      Annotations.of(node).addWarningV2(WARNING_ID, missingRuleMessage(this.bucket.node.path, uncovered));
  }
}
