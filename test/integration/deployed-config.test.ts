import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { createBucket, createRdsSecret } from '../helpers/aws';
import { deployedConfigObjects } from '../helpers/config-objects';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ranHere } from '../helpers/handler-result';
import { testTempDir } from '../helpers/temp-dirs';

/**
 * The health function as the stack deploys it: the config object the BucketDeployment writes and
 * the environment the function gets, with the bucket's reference replaced by the emulator's bucket.
 */
function deployedHealthFunction(config: unknown, bucket: string) {
  const app = new App({ outdir: testTempDir('cdk.out-') });
  const stack = new PgmaintStack(app, 'Deployed', {
    config: parseConfig(config),
    env: { account: '123456789012', region: 'us-east-1' },
  });
  const template = Template.fromStack(stack);
  const health = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
    JSON.stringify(f).includes('functions/health/handler.handler'),
  );
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map((part) => (typeof part === 'string' ? part : bucket)).join(join[0]);
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  };
  const variables = health?.Properties.Environment.Variables as Record<string, unknown>;
  const env: Record<string, string> = {};
  for (const name of ['PGMAINT_CONFIG_S3', 'PGMAINT_CONFIG_SHA256', 'PGMAINT_FAILURE_ALERTS'])
    if (variables[name] !== undefined) env[name] = resolve(variables[name]);
  env.PGMAINT_BACKUP_BUCKET = bucket;
  return { env, object: deployedConfigObjects(template, app.outdir)['health.json'] ?? '' };
}

describe('a deployed function reads its config from its object in the bucket', () => {
  let db: TestDatabase;
  let bucket: string;
  let secret: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    db = await createTestDatabase('deployed_config');
    bucket = await createBucket();
    secret = await createRdsSecret(db.settings);
  }, 120_000);
  afterAll(async () => db?.drop());
  afterEach(() => {
    process.env = { ...saved };
  });

  async function coldStart(env: Record<string, string>) {
    delete process.env.PGMAINT_CONFIG;
    Object.assign(process.env, env);
    vi.resetModules();
    return (await import('../../functions/health/handler')).handler;
  }

  const put = (key: string, body: string) =>
    new S3Client({ forcePathStyle: true }).send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
    );

  it('runs with the config the deployment wrote, read once per warm container', async () => {
    const { env, object } = deployedHealthFunction(
      { targets: { prod: { secret, health: { schedule: 'rate(15 minutes)', metrics: false } } } },
      bucket,
    );
    expect(env.PGMAINT_CONFIG_S3).toBe(`s3://${bucket}/.pgmaint/config/health.json`);
    await put('.pgmaint/config/health.json', object);
    const handler = await coldStart(env);
    const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 60_000 };
    const first = ranHere(await handler({ target: 'prod' }, context));
    expect(first.target).toBe('prod');
    expect(first.checks.find((c) => c.name === 'connection')?.status).toBe('ok');
    // The object changes; the warm container keeps the config it read at its start.
    await put('.pgmaint/config/health.json', '{ not json');
    const second = ranHere(await handler({ target: 'prod' }, { ...context, awsRequestId: 'r2' }));
    expect(second.checks.find((c) => c.name === 'connection')?.status).toBe('ok');
  }, 120_000);

  it('refuses an object that is not the one the deployment wrote', async () => {
    const { env } = deployedHealthFunction({ targets: { prod: { secret, health: {} } } }, bucket);
    await put('.pgmaint/config/health.json', JSON.stringify({ targets: { other: { secret } } }));
    const handler = await coldStart(env);
    await expect(handler({ target: 'prod' }, { awsRequestId: 'r3' })).rejects.toThrow(
      /SHA-256 differs\); redeploy the stack/,
    );
  });

  it('reports every problem of an invalid config at once, each with its path', async () => {
    const { env } = deployedHealthFunction({ targets: { prod: { secret, health: {} } } }, bucket);
    const body = JSON.stringify({ targets: { a: { secret, timezone: 'BST' }, b: {} } });
    await put('.pgmaint/config/health.json', body);
    const handler = await coldStart({ ...env, PGMAINT_CONFIG_SHA256: '' });
    const error = await handler({ target: 'a' }, { awsRequestId: 'r4' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/targets\.a\.timezone[\s\S]*targets\.b/);
    expect(String(error)).toContain(`s3://${bucket}/.pgmaint/config/health.json`);
  });

  it('says which object it could not read', async () => {
    const { env } = deployedHealthFunction({ targets: { prod: { secret, health: {} } } }, bucket);
    const handler = await coldStart({
      ...env,
      PGMAINT_CONFIG_S3: `s3://${bucket}/.pgmaint/config/missing.json`,
    });
    await expect(handler({ target: 'prod' }, { awsRequestId: 'r5' })).rejects.toThrow(
      /cannot read s3:\/\/.*missing\.json/,
    );
  });
});
