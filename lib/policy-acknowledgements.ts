import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag findings (AwsSolutions and Serverless packs) pgmaint accepts, each with the reason a
 * reviewer needs. Everything else the packs check passes; `npm test` synthesizes the app with
 * both packs and fails on any finding not listed here.
 */
export const ACKNOWLEDGED_FINDINGS: ReadonlyArray<{ id: string; reason: string }> = [
  {
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'AWSLambdaBasicExecutionRole only lets each function write CloudWatch logs; a hand-written copy would grant the same',
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: "Data-key actions on pgmaint's one customer-managed key (the resource is that key's ARN)",
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason: "Re-encrypt actions on pgmaint's one customer-managed key (the resource is that key's ARN)",
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray tracing (PutTraceSegments, PutTelemetryRecords) has no resource-level permissions',
  },
  {
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'The backup bucket is private, KMS-encrypted and versioned; object access is audited with CloudTrail data events where the account enables them, without a second bucket for access logs',
  },
  {
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason:
      "This queue is itself the dead-letter queue of the EventBridge Scheduler schedules (set on the schedules' targets, not as a redrive policy); it has an alarm on its depth",
  },
  {
    id: 'Serverless::Serverless-SQSRedrivePolicy',
    reason:
      'The queue is the schedules\u2019 dead-letter queue; a dead-letter queue of a dead-letter queue would never be read',
  },
  {
    id: 'Serverless::Serverless-LambdaDLQ',
    reason:
      'Runs Lambda gave up on go to an on-failure destination instead: the job functions\u2019 to the failure-alert function (one FAILED alert with the event and the error), and its own to the alert topic (the raw record); a DLQ would hold the same events unread',
  },
  {
    id: 'Serverless::Serverless-SNSRedrivePolicy',
    reason:
      'The only subscriptions are the operators\u2019 email addresses; undeliverable alert emails are retried by SNS and have no consumer to redrive to',
  },
];

/** What the scoped wildcards point at: the bucket, the targets' prefixes, the functions. */
export interface ScopedResources {
  readonly bucketArn: string;
  readonly targets: readonly string[];
  readonly functionArns: readonly string[];
}

export function acknowledgePgmaintFindings(scope: IConstruct, resources: ScopedResources): void {
  const findings = [...ACKNOWLEDGED_FINDINGS];
  const bucket = findingReference(scope, resources.bucketArn);
  for (const target of resources.targets) {
    for (const prefix of [`${target}/*`, `state/${target}/*`]) {
      findings.push({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucket}/${prefix}]`,
        reason: `Object actions only under ${prefix} in the backup bucket: each function reaches only its targets' backups and state`,
      });
    }
  }
  for (const finding of findings) Validations.of(scope).acknowledge(finding);
  for (const arn of resources.functionArns) {
    Validations.of(scope).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${findingReference(scope, arn)}:*]`,
      reason: "EventBridge Scheduler's role may invoke only pgmaint's own function and its versions",
    });
  }
}

/** How cdk-nag prints a reference: `<LogicalId.Arn>` for an attribute of a resource in the stack. */
export function findingReference(scope: IConstruct, value: string): string {
  if (!Token.isUnresolved(value)) return value;
  const resolved = Stack.of(scope).resolve(value) as Record<string, unknown>;
  const getAtt = resolved['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = resolved['Fn::Join'] as [string, unknown[]] | undefined;
  if (join)
    return join[1]
      .map((part) =>
        typeof part === 'string' ? part : `<${Object.values(part as Record<string, string>)[0]}>`,
      )
      .join(join[0]);
  return String(value);
}
