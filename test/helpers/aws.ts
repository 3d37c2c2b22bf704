import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { ConnectionSettings } from '../../functions/shared/credentials';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Stores connection settings as an RDS-style secret, the shape pgmaint reads when deployed. */
export async function createRdsSecret(
  settings: ConnectionSettings,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const client = new SecretsManagerClient({});
  const name = uniqueName('pgmaint-test/db');
  const value = {
    engine: 'postgres',
    username: settings.user,
    password: settings.password,
    host: settings.host,
    port: settings.port,
    dbname: settings.database,
    ...overrides,
  };
  const created = await client.send(
    new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }),
  );
  return created.ARN ?? name;
}

export async function createBucket(): Promise<string> {
  const name = uniqueName('pgmaint-test');
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export interface Inbox {
  readonly topicArn: string;
  /** Every message published to the topic so far (waits briefly for delivery). */
  messages(options?: {
    expect?: number;
    timeoutMs?: number;
  }): Promise<Array<{ subject: string; message: string }>>;
}

/** An SNS topic with an SQS queue subscribed, so a test can read exactly what was published. */
export async function createTopicInbox(): Promise<Inbox> {
  const sns = new SNSClient({});
  const sqs = new SQSClient({});
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('pgmaint-alerts') })))
    .TopicArn as string;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('pgmaint-inbox') })))
    .QueueUrl as string;
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attributes.Attributes?.QueueArn }),
  );
  const received: Array<{ subject: string; message: string }> = [];
  return {
    topicArn,
    async messages({ expect = 0, timeoutMs = 3000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const drain = async () => {
        for (;;) {
          const batch = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          );
          const messages = batch.Messages ?? [];
          for (const message of messages) {
            const envelope = JSON.parse(message.Body ?? '{}') as { Subject?: string; Message?: string };
            received.push({ subject: envelope.Subject ?? '', message: envelope.Message ?? '' });
          }
          if (messages.length === 0) return;
        }
      };
      // Poll until the expected count arrives (or time runs out), then wait a little longer so a
      // test asserting "exactly one" would see a duplicate.
      await drain();
      while (received.length < Math.max(expect, 1) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await drain();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      await drain();
      return [...received];
    },
  };
}

/** An object's bytes from the emulator's S3 (empty when it has no body). */
export async function readObject(bucket: string, key: string): Promise<Buffer> {
  const response = await new S3Client({ forcePathStyle: true }).send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  return Buffer.from((await response.Body?.transformToByteArray()) ?? []);
}

/**
 * What a bucket holds, to compare before and after a run that must leave nothing behind: each
 * object as `key:size:etag`, sorted, and the keys of multipart uploads never completed.
 */
export async function bucketState(
  bucket: string,
): Promise<{ objects: string[]; incompleteUploads: string[] }> {
  const s3 = new S3Client({ forcePathStyle: true });
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  return {
    objects: objects.map((o) => `${o.Key}:${o.Size}:${o.ETag}`).sort(),
    incompleteUploads: uploads.map((u) => u.Key ?? ''),
  };
}
