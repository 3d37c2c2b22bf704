import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { optionalEnv } from './env';

/**
 * The AWS SDK's modules, each loaded the first time a run talks to that service. Loading them
 * costs more than a whole health check, and a CLI run against a local database (a `url` target,
 * a file:// store or none, no topic) talks to none of them: `pgmaint health` is started by
 * Nagios every few minutes. Import SDK types with `import type`, values only through here;
 * test/unit/cli-loading.test.ts catches a module that loads one eagerly.
 */
export const sdk = {
  ecs: () => require('@aws-sdk/client-ecs') as typeof import('@aws-sdk/client-ecs'),
  s3: () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'),
  secretsManager: () =>
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
  sns: () => require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns'),
  storage: () => require('@aws-sdk/lib-storage') as typeof import('@aws-sdk/lib-storage'),
};

/**
 * AWS clients built once per process. The SDK's default credential chain and AWS_ENDPOINT_URL
 * apply; with an endpoint set (a local emulator) S3 needs path-style addressing.
 *
 * S3 checksums only where S3 requires one (DeleteObjects, Object Lock's SHA-256 on every part):
 * every upload body is a buffer the request signature covers (SigV4's x-amz-content-sha256, which
 * S3 recomputes and rejects on mismatch), so the SDK's default CRC32 on top checked the same bytes
 * a second time, with CPU the dump beside it needs. The archive itself is proven by the manifest's
 * SHA-256 and the verifier's read.
 */
export function s3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new (sdk.s3().S3Client)({
    forcePathStyle: optionalEnv('AWS_ENDPOINT_URL', env) !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

export function secretsClient(): SecretsManagerClient {
  return new (sdk.secretsManager().SecretsManagerClient)({});
}

/** A topic lives in one region; taking it from the ARN lets the CLI run from anywhere. */
export function snsClient(topicArn: string): SNSClient {
  const region = topicArn.split(':')[3];
  return new (sdk.sns().SNSClient)(region ? { region } : {});
}
