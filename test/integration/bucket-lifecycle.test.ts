import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { createBucket } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';

/** `validate` reads the lifecycle of the bucket a config brings (the stack cannot: see lib/pgmaint.ts). */
describe('validate: a brought bucket without an abort-incomplete-uploads rule', () => {
  const targets = {
    prod: { url: 'postgres://pgmaint@db.example/prod' },
    staging: { url: 'postgres://pgmaint@db.example/staging' },
  };
  const validate = async (bucket: string) => {
    return runCliJson<{ valid: boolean; warnings: string[] }>([
      'validate',
      '--config',
      writeConfig({ backupBucket: bucket, targets }),
      '--json',
    ]);
  };
  const rules = async (bucket: string, rules: Array<{ prefix?: string; abort: boolean }>) =>
    s3Client().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: rules.map((rule, i) => ({
            ID: `rule-${i}`,
            Status: 'Enabled',
            Filter: { Prefix: rule.prefix ?? '' },
            ...(rule.abort
              ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }
              : { Expiration: { Days: 365 } }),
          })),
        },
      }),
    );

  it('warns when the bucket has no lifecycle at all, still valid', async () => {
    const bucket = await createBucket();
    const result = await validate(bucket);
    expect(result.valid).toBe(true);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain(
      `backupBucket "${bucket}" has no lifecycle rule that aborts incomplete multipart uploads (for prod/, staging/)`,
    );
    const text = await runCli(['validate', '--config', writeConfig({ backupBucket: bucket, targets })]);
    expect(text.stdout).toContain('warning: backupBucket');
  });

  it('warns for the targets a prefixed rule leaves out, and only for a rule that aborts uploads', async () => {
    const bucket = await createBucket();
    await rules(bucket, [{ prefix: 'staging/', abort: true }, { abort: false }]);
    const result = await validate(bucket);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('(for prod/)');
  });

  it('says nothing when a rule covers the whole bucket', async () => {
    const bucket = await createBucket();
    await rules(bucket, [{ abort: true }]);
    expect((await validate(bucket)).warnings).toEqual([]);
  });

  it('says the check could not be made when AWS cannot be reached, and stays valid', async () => {
    const bucket = await createBucket();
    const emulator = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'; // the SDK reads it from the process
    const result = await runCliJson<{ warnings: string[] }>([
      'validate',
      '--config',
      writeConfig({ backupBucket: bucket, targets }),
      '--json',
    ]).finally(() => {
      process.env.AWS_ENDPOINT_URL = emulator;
    });
    expect(result.warnings[0]).toMatch(/^could not read the lifecycle rules of ".*"/);
  });
});
