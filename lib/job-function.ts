import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { JobManifest } from '../functions/shared/manifest';
import { backupPrefix, statePrefix } from '../functions/shared/store/layout';
import type { ConfigObjects } from './config-objects';
import { lambdaSizing, maxEventAge } from './job-settings';

/** One entry of backup.copies, as it appears in the function's config slice. */
interface CopyGrant {
  readonly bucket: string;
  readonly region: string;
  readonly kmsKey?: string;
}

export interface JobFunctionProps {
  /** The job's declaration: sizing, store access, description. */
  readonly manifest: JobManifest;
  /** The image every job shares; each function only changes the handler command. */
  readonly code: (handler: string, architecture: lambda.Architecture) => lambda.DockerImageCode;
  /** @default lambda.Architecture.X86_64 */
  readonly architecture?: lambda.Architecture;
  /** Where this job's config object is: the function gets the pointer and read access to it. */
  readonly configObjects: ConfigObjects;
  /** This job's slice of the config, for the grants it decides (backup.copies' buckets and keys). */
  readonly config: Record<string, unknown>;
  readonly bucket: s3.IBucket;
  /** The key of a bucket pgmaint did not create. @default - the bucket's own `encryptionKey`, if any */
  readonly bucketKey?: kms.IKey;
  readonly alertTopic: sns.ITopic;
  /** The key of a topic pgmaint did not create. @default - the topic's own key grant, if any */
  readonly alertTopicKey?: kms.IKey;
  /** The secrets of the targets this function serves, by target name (read unless the manifest says `connects: false`). */
  readonly secrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /** Networking, for databases that are not publicly reachable. @default - no VPC */
  readonly vpc?: lambda.FunctionProps['vpc'];
  /** @default - the VPC's private subnets when a VPC is given */
  readonly vpcSubnets?: lambda.FunctionProps['vpcSubnets'];
  /** @default - a new security group when a VPC is given */
  readonly securityGroups?: lambda.FunctionProps['securityGroups'];
  /**
   * Where Lambda sends a scheduled run it gave up on (after the last retry). When set, this
   * destination sends the run's one failure alert and the function itself publishes none.
   * @default - nowhere; the function alerts on every failed attempt
   */
  readonly onFailure?: lambda.IDestination;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One job's Lambda function with exactly the access the job needs: its targets' secrets, its
 * prefixes in the bucket, the alert topic.
 */
export class JobFunction extends Construct {
  readonly function: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: JobFunctionProps) {
    super(scope, id);
    const { manifest } = props;
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      code: props.code(`functions/${manifest.job}/handler.handler`, architecture),
      description: `pgmaint ${manifest.job}: ${manifest.description}`,
      architecture,
      ...lambdaSizing(manifest),
      // A failed run is tried again after about 1 and 3 minutes (a network blip, a database
      // restart); the job's advisory lock refuses a try while an earlier run still works.
      retryAttempts: manifest.lambda.retryAttempts,
      maxEventAge: maxEventAge(manifest),
      onFailure: props.onFailure,
      // A trace shows where a slow run spent its time (secret fetch, connect, dump, upload).
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.vpc ? props.securityGroups : undefined,
      environment: {
        ...props.configObjects.environment(manifest.job),
        PGMAINT_BACKUP_BUCKET: props.bucket.bucketName,
        PGMAINT_ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        POWERTOOLS_SERVICE_NAME: 'pgmaint',
        POWERTOOLS_METRICS_NAMESPACE: 'pgmaint',
        ...(props.onFailure ? { PGMAINT_FAILURE_ALERTS: 'destination' } : {}),
      },
    });
    // A job that reads only the store (the report) gets no database credentials.
    if (manifest.connects !== false)
      for (const secret of Object.values(props.secrets)) secret.grantRead(this.function);
    props.alertTopic.grantPublish(this.function);
    props.alertTopicKey?.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey*');
    // The function must not start with a pointer to an object the deployment has not written yet.
    this.function.node.addDependency(props.configObjects.deployment);
    props.configObjects.grantRead(manifest.job, this.function, props.bucketKey ?? props.bucket.encryptionKey);
    this.grantBucket(props, Object.keys(props.secrets));
  }

  private grantBucket(props: JobFunctionProps, targets: readonly string[]): void {
    const { bucket } = props;
    const settings = props.manifest.store;
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const backupPrefixes = targets.map(backupPrefix);
    const statePrefixes = targets.map(statePrefix);
    const listPrefixes = [
      ...(settings.backups !== 'none' ? backupPrefixes : []),
      ...(settings.state ? statePrefixes : []),
    ];
    if (listPrefixes.length === 0) return;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListOwnPrefixes',
        actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': listPrefixes.flatMap((p) => [p, `${p}*`]) } },
      }),
    );
    const read = ['s3:GetObject', 's3:GetObjectAttributes'];
    const write = [
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:DeleteObject',
    ];
    if (settings.backups !== 'none') {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: settings.backups === 'write' ? 'ReadWriteBackups' : 'ReadBackups',
          actions: settings.backups === 'write' ? [...read, ...write] : read,
          resources: backupPrefixes.map(objects),
        }),
      );
    }
    if (settings.backups === 'write') this.grantObjectLock(bucket, backupPrefixes);
    // Health and the report read only the primary's manifests (they record the copies).
    if (settings.backups !== 'none' && props.manifest.job !== 'health' && props.manifest.job !== 'report')
      this.grantCopies(props.config, settings.backups);
    if (settings.state) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: settings.state === 'read' ? 'ReadState' : 'ReadWriteState',
          actions: settings.state === 'read' ? read : [...read, 's3:PutObject'],
          resources: statePrefixes.map(objects),
        }),
      );
    }
    // A bucket encrypted with a customer-managed key needs the key too.
    const key = props.bucketKey ?? bucket.encryptionKey;
    if (key) {
      if (settings.backups === 'write' || settings.state === true) key.grantEncryptDecrypt(this.function);
      else key.grantDecrypt(this.function);
    }
  }

  /**
   * backup.copies: the backup job writes (and reads back, to verify) its targets' prefixes in each
   * destination bucket, with the destination's KMS key; restore reads them, to restore from a copy.
   */
  private grantCopies(config: Record<string, unknown>, access: 'read' | 'write'): void {
    const targets = (config.targets ?? {}) as Record<string, { backup?: { copies?: CopyGrant[] } }>;
    for (const [target, settings] of Object.entries(targets)) {
      for (const copy of settings.backup?.copies ?? []) {
        const bucketArn = `arn:${Stack.of(this).partition}:s3:::${copy.bucket}`;
        const id = `${target}-${copy.region}`;
        this.function.addToRolePolicy(
          new iam.PolicyStatement({
            sid: `Copy${access === 'write' ? 'Write' : 'Read'}${id.replace(/[^A-Za-z0-9]/g, '')}`,
            actions:
              access === 'write'
                ? ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']
                : ['s3:GetObject'],
            resources: [`${bucketArn}/${backupPrefix(target)}*`],
          }),
        );
        this.function.addToRolePolicy(
          new iam.PolicyStatement({
            sid: `CopyList${id.replace(/[^A-Za-z0-9]/g, '')}`,
            actions: ['s3:ListBucket'],
            resources: [bucketArn],
            conditions: { StringLike: { 's3:prefix': [backupPrefix(target), `${backupPrefix(target)}*`] } },
          }),
        );
        if (copy.kmsKey) {
          this.function.addToRolePolicy(
            new iam.PolicyStatement({
              sid: `CopyKey${id.replace(/[^A-Za-z0-9]/g, '')}`,
              actions:
                access === 'write'
                  ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']
                  : ['kms:Decrypt'],
              resources: [copy.kmsKey],
            }),
          );
        }
      }
    }
  }

  /**
   * backup.objectLock: the writer may check the bucket has Object Lock, set a retention as it
   * writes (S3 asks for s3:PutObjectRetention for that), and remove the versions of expired
   * backups. It can never shorten or lift a lock: without s3:BypassGovernanceRetention (denied
   * outright, whatever else is attached to the role) a retention can only be lengthened.
   */
  private grantObjectLock(bucket: s3.IBucket, backupPrefixes: readonly string[]): void {
    const objects = backupPrefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`));
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ObjectLockOfBackups',
        actions: ['s3:GetBucketObjectLockConfiguration', 's3:ListBucketVersions'],
        resources: [bucket.bucketArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LockBackupsOnWriteAndPurgeExpired',
        actions: ['s3:PutObjectRetention', 's3:GetObjectRetention', 's3:DeleteObjectVersion'],
        resources: objects,
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'NeverBypassObjectLock',
        effect: iam.Effect.DENY,
        actions: ['s3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration'],
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
  }
}
