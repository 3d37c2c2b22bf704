import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { optionalEnv } from './env';

/**
 * AWS clients built once per process. The SDK's default credential chain and AWS_ENDPOINT_URL
 * apply; with an endpoint set (a local emulator) S3 needs path-style addressing.
 */
export function s3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ forcePathStyle: optionalEnv('AWS_ENDPOINT_URL', env) !== undefined });
}

export function secretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}

/** A topic lives in one region; taking it from the ARN lets the CLI run from anywhere. */
export function snsClient(topicArn: string): SNSClient {
  const region = topicArn.split(':')[3];
  return new SNSClient(region ? { region } : {});
}
