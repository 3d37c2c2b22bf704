import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOBS, type JobName, type PgmaintConfig } from '../functions/shared/config/schema';
import { pgmaintImage } from './image';
import { ENV_OVERHEAD_BYTES, JobFunction, LAMBDA_ENV_LIMIT_BYTES } from './job-function';
import { configSlice, JOB_SETTINGS, scheduledInvocations } from './job-settings';

export interface PgmaintProps {
  /** The validated pgmaint config (see functions/shared/config/load.ts `parseConfig`). */
  readonly config: PgmaintConfig;
  /**
   * Where backups and job state go.
   * @default - the bucket named by `config.backupBucket`, or a new encrypted, private bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * Where failure and health alerts go.
   * @default - the topic `config.alerts.topicArn`, or a new topic with `config.alerts.emails` subscribed
   */
  readonly alertTopic?: sns.ITopic;
  /**
   * Each target's database secret, by target name.
   * @default - imported from each target's `secret` (a name or an ARN)
   */
  readonly secrets?: Readonly<Record<string, secretsmanager.ISecret>>;
  /**
   * The container image code for a handler command.
   * @default - built at deploy time from lib/image/Dockerfile (synth needs no Docker)
   */
  readonly code?: (handler: string) => lambda.DockerImageCode;
  /** A VPC for databases that are not publicly reachable. @default - functions run outside any VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - one new security group per function */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * pgmaint on AWS: one Lambda function per job, EventBridge Scheduler schedules per target in each
 * target's time zone, the backup bucket, the alert topic, least-privilege access to each.
 */
export class Pgmaint extends Construct {
  readonly bucket: s3.IBucket;
  readonly alertTopic: sns.ITopic;
  readonly functions: Readonly<Record<JobName, lambda.IFunction>>;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Events that failed every retry land here. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PgmaintProps) {
    super(scope, id);
    validateProps(props);
    const { config } = props;

    this.bucket = props.bucket ?? this.createOrImportBucket(config);
    this.alertTopic = props.alertTopic ?? this.createOrImportTopic(config);
    const secrets = props.secrets ?? importSecrets(this, config);
    const code = props.code ?? pgmaintImage;

    const functions: Partial<Record<JobName, lambda.IFunction>> = {};
    for (const job of JOBS) {
      const settings = JOB_SETTINGS[job];
      functions[job] = new JobFunction(this, titleCase(job), {
        settings,
        code,
        config: configSlice(config, settings),
        bucket: this.bucket,
        alertTopic: this.alertTopic,
        secrets,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        securityGroups: props.securityGroups,
      }).function;
    }
    this.functions = functions as Record<JobName, lambda.IFunction>;

    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {});
    for (const invocation of scheduledInvocations(config)) {
      new scheduler.Schedule(this, `${invocation.target}-${invocation.name}`, {
        scheduleGroup: this.scheduleGroup,
        description: `pgmaint ${invocation.name} for ${invocation.target}`,
        schedule: scheduler.ScheduleExpression.expression(
          invocation.expression,
          TimeZone.of(invocation.timezone),
        ),
        target: new targets.LambdaInvoke(this.functions[invocation.job], {
          input: scheduler.ScheduleTargetInput.fromObject(invocation.input),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: this.deadLetterQueue,
        }),
      });
    }
  }

  private createOrImportBucket(config: PgmaintConfig): s3.IBucket {
    if (config.backupBucket) return s3.Bucket.fromBucketName(this, 'Backups', config.backupBucket);
    return new s3.Bucket(this, 'Backups', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      // Backups outlive the stack: deleting the stack must never delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
  }

  private createOrImportTopic(config: PgmaintConfig): sns.ITopic {
    if (config.alerts.topicArn) return sns.Topic.fromTopicArn(this, 'Alerts', config.alerts.topicArn);
    const topic = new sns.Topic(this, 'Alerts', { displayName: 'pgmaint alerts', enforceSSL: true });
    for (const email of config.alerts.emails)
      topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}

function importSecrets(scope: Construct, config: PgmaintConfig): Record<string, secretsmanager.ISecret> {
  const secrets: Record<string, secretsmanager.ISecret> = {};
  for (const [name, target] of Object.entries(config.targets)) {
    const id = target.secret ?? '';
    const construct = `Secret-${name}`;
    if (!id.startsWith('arn:')) secrets[name] = secretsmanager.Secret.fromSecretNameV2(scope, construct, id);
    // A complete ARN ends in "-" plus six random characters; a partial one does not.
    else if (/-[A-Za-z0-9]{6}$/.test(id))
      secrets[name] = secretsmanager.Secret.fromSecretCompleteArn(scope, construct, id);
    else secrets[name] = secretsmanager.Secret.fromSecretPartialArn(scope, construct, id);
  }
  return secrets;
}

/** Every problem with the props at once, so one synth shows them all. */
function validateProps(props: PgmaintProps): void {
  const problems: string[] = [];
  const { config } = props;
  for (const [name, target] of Object.entries(config.targets)) {
    if (target.url !== undefined) {
      problems.push(
        `targets.${name}.url: deployed targets take their credentials from Secrets Manager; use "secret" instead`,
      );
    }
    if (target.secret === undefined && props.secrets?.[name] === undefined) {
      problems.push(`targets.${name}.secret: required when deploying`);
    }
  }
  if (config.backupBucket?.startsWith('file://') && !props.bucket) {
    problems.push(
      'backupBucket: a file:// store is for local runs; give an S3 bucket name or leave it out to create one',
    );
  }
  for (const job of JOBS) {
    const bytes =
      Buffer.byteLength(JSON.stringify(configSlice(config, JOB_SETTINGS[job]))) + ENV_OVERHEAD_BYTES;
    if (bytes > LAMBDA_ENV_LIMIT_BYTES) {
      problems.push(
        `the ${job} function's config is ${bytes} bytes with its other settings, over Lambda's 4 KB environment limit; split targets across stacks`,
      );
    }
  }
  if (problems.length > 0)
    throw new Error(`pgmaint: invalid props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function titleCase(job: string): string {
  return job.charAt(0).toUpperCase() + job.slice(1);
}
