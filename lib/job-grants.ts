import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { JobManifest } from '../functions/shared/manifest';
import { backupPrefix, statePrefix } from '../functions/shared/store/layout';
import type { ConfigObjects } from './config-objects';

/** One entry of backup.copies, as it appears in the job's config slice. */
interface CopyGrant {
  readonly bucket: string;
  readonly region: string;
  readonly kmsKey?: string;
}

/** What one job may touch, wherever it runs (its Lambda function or its Fargate task). */
export interface JobAccess {
  /** The job's declaration: store access. */
  readonly manifest: JobManifest;
  /** Where the job's config object is. */
  readonly configObjects: ConfigObjects;
  /** This job's slice of the config, for the grants it decides (backup.copies' buckets and keys). */
  readonly config: Record<string, unknown>;
  readonly bucket: s3.IBucket;
  /** The key of a bucket pgmaint did not create. @default - the bucket's own `encryptionKey`, if any */
  readonly bucketKey?: kms.IKey;
  readonly alertTopic: sns.ITopic;
  /** The key of a topic pgmaint did not create. @default - the topic's own key grant, if any */
  readonly alertTopicKey?: kms.IKey;
  /** The secrets of the targets the job serves, by target name. */
  readonly secrets: Readonly<Record<string, secretsmanager.ISecret>>;
}

/**
 * Exactly the access one job needs: its targets' secrets, the alert topic, its own config object,
 * its prefixes in the bucket (per the manifest's store access), backup.copies and Object Lock.
 * The job's Lambda role and its Fargate task role both get it from here, so they cannot drift.
 */
export function grantJobAccess(grantee: iam.IGrantable, access: JobAccess): void {
  for (const secret of Object.values(access.secrets)) secret.grantRead(grantee);
  access.alertTopic.grantPublish(grantee);
  access.alertTopicKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey*');
  const key = access.bucketKey ?? access.bucket.encryptionKey;
  access.configObjects.grantRead(access.manifest.job, grantee, key);
  grantBucket(grantee, access, Object.keys(access.secrets), key);
}

function grantBucket(
  grantee: iam.IGrantable,
  access: JobAccess,
  targets: readonly string[],
  key: kms.IKey | undefined,
): void {
  const { bucket } = access;
  const add = (statement: iam.PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  const settings = access.manifest.store;
  const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`);
  const backupPrefixes = targets.map(backupPrefix);
  const statePrefixes = targets.map(statePrefix);
  const listPrefixes = [
    ...(settings.backups !== 'none' ? backupPrefixes : []),
    ...(settings.state ? statePrefixes : []),
  ];
  if (listPrefixes.length === 0) return;
  add(
    new iam.PolicyStatement({
      sid: 'ListOwnPrefixes',
      actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': listPrefixes.flatMap((p) => [p, `${p}*`]) } },
    }),
  );
  const read = ['s3:GetObject', 's3:GetObjectAttributes'];
  const write = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'];
  if (settings.backups !== 'none') {
    add(
      new iam.PolicyStatement({
        sid: settings.backups === 'write' ? 'ReadWriteBackups' : 'ReadBackups',
        actions: settings.backups === 'write' ? [...read, ...write] : read,
        resources: backupPrefixes.map(objects),
      }),
    );
  }
  if (settings.backups === 'write') grantObjectLock(add, bucket, backupPrefixes);
  // Health reads only the primary's manifests (they record the copies).
  if (settings.backups !== 'none' && access.manifest.job !== 'health')
    grantCopies(add, Stack.of(bucket).partition, access.config, settings.backups);
  if (settings.state) {
    add(
      new iam.PolicyStatement({
        sid: 'ReadWriteState',
        actions: [...read, 's3:PutObject'],
        resources: statePrefixes.map(objects),
      }),
    );
  }
  // A bucket encrypted with a customer-managed key needs the key too.
  if (key) {
    if (settings.backups === 'write' || settings.state) key.grantEncryptDecrypt(grantee);
    else key.grantDecrypt(grantee);
  }
}

type AddStatement = (statement: iam.PolicyStatement) => void;

/**
 * backup.copies: the backup job writes (and reads back, to verify) its targets' prefixes in each
 * destination bucket, with the destination's KMS key; restore reads them, to restore from a copy.
 */
function grantCopies(
  add: AddStatement,
  partition: string,
  config: Record<string, unknown>,
  access: 'read' | 'write',
): void {
  const targets = (config.targets ?? {}) as Record<string, { backup?: { copies?: CopyGrant[] } }>;
  for (const [target, settings] of Object.entries(targets)) {
    for (const copy of settings.backup?.copies ?? []) {
      const bucketArn = `arn:${partition}:s3:::${copy.bucket}`;
      const id = `${target}-${copy.region}`.replace(/[^A-Za-z0-9]/g, '');
      add(
        new iam.PolicyStatement({
          sid: `Copy${access === 'write' ? 'Write' : 'Read'}${id}`,
          actions:
            access === 'write'
              ? ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']
              : ['s3:GetObject'],
          resources: [`${bucketArn}/${backupPrefix(target)}*`],
        }),
      );
      add(
        new iam.PolicyStatement({
          sid: `CopyList${id}`,
          actions: ['s3:ListBucket'],
          resources: [bucketArn],
          conditions: { StringLike: { 's3:prefix': [backupPrefix(target), `${backupPrefix(target)}*`] } },
        }),
      );
      if (copy.kmsKey) {
        add(
          new iam.PolicyStatement({
            sid: `CopyKey${id}`,
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
function grantObjectLock(add: AddStatement, bucket: s3.IBucket, backupPrefixes: readonly string[]): void {
  const objects = backupPrefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`));
  add(
    new iam.PolicyStatement({
      sid: 'ObjectLockOfBackups',
      actions: ['s3:GetBucketObjectLockConfiguration', 's3:ListBucketVersions'],
      resources: [bucket.bucketArn],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'LockBackupsOnWriteAndPurgeExpired',
      actions: ['s3:PutObjectRetention', 's3:GetObjectRetention', 's3:DeleteObjectVersion'],
      resources: objects,
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: 'NeverBypassObjectLock',
      effect: iam.Effect.DENY,
      actions: ['s3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration'],
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
    }),
  );
}
