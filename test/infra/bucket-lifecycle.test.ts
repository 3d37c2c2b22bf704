import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { Pgmaint } from '../../lib/pgmaint';
import { testTempDir } from '../helpers/temp-dirs';

const targets = { prod: { secret: 'titan/prod' }, staging: { secret: 'titan/staging' } };

/** The stack's warnings about incomplete multipart uploads, after a synth. */
function abortWarnings(
  configure: (stack: Stack) => ConstructorParameters<typeof Pgmaint>[2],
  after: (pgmaint: Pgmaint) => void = () => {},
): string[] {
  const stack = new Stack(new App({ outdir: testTempDir('cdk.out-') }), 'Test', {
    env: { account: '123456789012', region: 'eu-west-2' },
  });
  after(new Pgmaint(stack, 'Pgmaint', configure(stack)));
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('incomplete multipart uploads'))
    .map((w) => String(w.entry.data));
}

describe('the backup bucket and incomplete multipart uploads', () => {
  it('says nothing about the bucket it creates (which has the rule)', () => {
    expect(abortWarnings(() => ({ config: parseConfig({ targets }) }))).toEqual([]);
  });

  it('warns at synth that an imported bucket needs the rule, naming the prefixes and `pgmaint validate`', () => {
    const warnings = abortWarnings(() => ({
      config: parseConfig({ backupBucket: 'acme-backups', targets }),
    }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is imported, so its lifecycle rules cannot be read at synth/);
    expect(warnings[0]).toContain('prod/, staging/');
    expect(warnings[0]).toContain('`pgmaint validate` checks it against AWS');
  });

  it('checks a bucket of the same app for real: warns without the rule, not with it', () => {
    const without = abortWarnings((stack) => ({
      config: parseConfig({ targets }),
      bucket: new s3.Bucket(stack, 'Mine', {
        lifecycleRules: [{ prefix: 'staging/', abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      }),
    }));
    expect(without).toHaveLength(1);
    expect(without[0]).toContain('(for prod/)');
    const withRule = abortWarnings(
      (stack) => ({ config: parseConfig({ targets }), bucket: new s3.Bucket(stack, 'Mine') }),
      // Added after the bucket was handed over: the check runs once the app is complete.
      (pgmaint) =>
        (pgmaint.bucket as s3.Bucket).addLifecycleRule({
          abortIncompleteMultipartUploadAfter: Duration.days(2),
        }),
    );
    expect(withRule).toEqual([]);
  });
});
