import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import { Pgmaint } from '../../lib/pgmaint';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { testTempDir } from '../helpers/temp-dirs';

const env = { account: '123456789012', region: 'eu-west-2' };
const BUCKET_KEY = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-2222-3333-4444-555555555555';
const TOPIC_KEY = 'arn:aws:kms:eu-west-2:123456789012:key/66666666-7777-8888-9999-000000000000';

const config = parseConfig({
  architecture: 'arm64',
  tags: { team: 'data-platform', 'cost-center': '4711' },
  backupBucket: 'acme-db-backups',
  backupBucketKeyArn: BUCKET_KEY,
  alerts: { topicArn: 'arn:aws:sns:eu-west-2:123456789012:ops-alerts', topicKeyArn: TOPIC_KEY },
  targets: {
    prod: {
      secret: 'titan/prod',
      manageSecret: { host: 'titan.cluster-abc.eu-west-2.rds.amazonaws.com', dbname: 'titan' },
      backup: { schedule: 'cron(0 2 * * ? *)' },
      retention: { schedule: 'cron(0 3 * * ? *)' },
    },
  },
});

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: { Service?: string };
  Condition?: Record<string, Record<string, unknown>>;
};

describe('security: keys, key policy, scheduler role, tags, arm64', () => {
  let template: Template;
  let outdir: string;
  beforeAll(() => {
    outdir = testTempDir('security-');
    const app = new App({ outdir });
    template = Template.fromStack(new PgmaintStack(app, 'Sec', { config, env }));
    app.synth();
  });

  const statementsOf = (logicalIdPattern: RegExp) =>
    Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => logicalIdPattern.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
  const keyStatements = (statements: Statement[], keyArn: string) =>
    statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn));

  it("grants the imported bucket's key to the functions that use the bucket, by their access", () => {
    const backup = keyStatements(statementsOf(/PgmaintBackup/), BUCKET_KEY);
    expect(backup.flatMap((s) => [s.Action].flat())).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']),
    );
    const restore = keyStatements(statementsOf(/PgmaintRestore/), BUCKET_KEY);
    expect(restore.flatMap((s) => [s.Action].flat())).toContain('kms:Decrypt');
    // Retention touches no backups: it only decrypts its own config object.
    expect(keyStatements(statementsOf(/PgmaintRetention/), BUCKET_KEY)).toEqual([
      expect.objectContaining({ Action: 'kms:Decrypt' }),
    ]);
  });

  it("grants the imported topic's key to every function that publishes alerts", () => {
    for (const fn of ['Backup', 'Restore', 'Retention', 'Reindex', 'Health', 'FailureAlerts']) {
      const actions = keyStatements(statementsOf(new RegExp(`Pgmaint${fn}`)), TOPIC_KEY).flatMap((s) =>
        [s.Action].flat(),
      );
      expect(actions, fn).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    }
  });

  it("limits the key policy's service principals to this account's alarms", () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    const statements = key?.Properties.KeyPolicy.Statement as Statement[];
    const services = statements.filter((s) => s.Principal?.Service);
    expect(services.length).toBeGreaterThan(0);
    for (const statement of services) {
      expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toBe('123456789012');
      expect(statement.Condition?.ArnLike?.['aws:SourceArn']).toEqual(expect.anything());
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-2:123456789012:alarm:*'],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it("gives the schedules a role only this account's schedule group may assume, with the dead-letter queue's key", () => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': '123456789012',
                  'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('PgmaintSchedules'), 'Arn'] },
                },
              },
            }),
          ],
        },
      },
    });
    const [roleId] = Object.keys(roles);
    expect(roleId).toBeDefined();
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }),
    });
    const kms = statementsOf(/PgmaintSchedulerRole/).filter((s) =>
      [s.Action].flat().includes('kms:GenerateDataKey*'),
    );
    expect(JSON.stringify(kms)).toContain('PgmaintKey');
  });

  it("tags every taggable resource with the deployment and the config's tags, and each job's and target's own", () => {
    const common = Match.arrayWith([
      { Key: 'cost-center', Value: '4711' },
      { Key: 'pgmaint:deployment', Value: 'Sec/Pgmaint' },
      { Key: 'team', Value: 'data-platform' },
    ]);
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::IAM::Role',
      'AWS::Logs::LogGroup',
      'AWS::CloudWatch::Alarm',
      'AWS::KMS::Key',
      'AWS::SQS::Queue',
      'AWS::SecretsManager::Secret',
      'AWS::Scheduler::ScheduleGroup',
    ])
      template.allResourcesProperties(type, { Tags: common });
    // Nothing taggable left untagged: every resource with Tags carries pgmaint's.
    for (const [id, resource] of Object.entries(
      template.toJSON().Resources as Record<string, { Properties?: { Tags?: unknown } }>,
    ))
      if (resource.Properties?.Tags !== undefined)
        expect(JSON.stringify(resource.Properties.Tags), id).toContain('pgmaint:deployment');
    for (const job of JOBS)
      template.hasResourceProperties('AWS::Lambda::Function', {
        ImageConfig: { Command: [`functions/${job}/handler.handler`] },
        Tags: Match.arrayWith([{ Key: 'pgmaint:job', Value: job }]),
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'JobSucceeded',
      Tags: Match.arrayWith([
        { Key: 'pgmaint:job', Value: 'backup' },
        { Key: 'pgmaint:target', Value: 'prod' },
      ]),
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'titan/prod',
      Tags: Match.arrayWith([{ Key: 'pgmaint:target', Value: 'prod' }]),
    });
  });

  it("runs every function of pgmaint's image on arm64 (Graviton) with an image built for it", () => {
    // CDK's BucketDeployment handler (Python, once per deploy, writes the config objects) is not one.
    const images = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } }),
    );
    expect(images).toHaveLength(JOBS.length + 1);
    for (const fn of images) expect(fn.Properties.Architectures).toEqual(['arm64']);
    const assets = JSON.parse(readFileSync(join(outdir, 'Sec.assets.json'), 'utf8'));
    const platforms = Object.values(
      assets.dockerImages as Record<string, { source: { platform?: string } }>,
    ).map((image) => image.source.platform);
    expect(platforms.length).toBeGreaterThan(0);
    expect(new Set(platforms)).toEqual(new Set(['linux/arm64']));
  });

  it('builds for x86_64 by default, whatever machine synthesizes', () => {
    const app = new App({ outdir: testTempDir('x86-') });
    const plain = parseConfig({ targets: { prod: { secret: 'titan/prod' } } });
    const stack = new PgmaintStack(app, 'X86', { config: plain, env });
    const images = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { PackageType: 'Image' },
    });
    for (const fn of Object.values(images)) expect(fn.Properties.Architectures).toEqual(['x86_64']);
    const assets = JSON.parse(readFileSync(join(app.outdir, 'X86.assets.json'), 'utf8'));
    for (const image of Object.values(
      assets.dockerImages as Record<string, { source: { platform?: string } }>,
    ))
      expect(image.source.platform).toBe('linux/amd64');
  });

  it('refuses a key for a bucket or topic pgmaint creates itself, and reserved tag keys', () => {
    const own = parseConfig({
      backupBucketKeyArn: BUCKET_KEY,
      alerts: { topicKeyArn: TOPIC_KEY },
      targets: { prod: { secret: 's' } },
    });
    expect(
      () => new Pgmaint(new Stack(new App({ outdir: testTempDir('cdk.out-') })), 'P', { config: own }),
    ).toThrow(
      /backupBucketKeyArn: only for a bucket pgmaint does not create[\s\S]*alerts\.topicKeyArn: only for a topic/,
    );
    expect(() => parseConfig({ tags: { 'pgmaint:job': 'x' }, targets: { prod: { secret: 's' } } })).toThrow(
      /tags\.pgmaint:job.*reserved|reserved/,
    );
    expect(() =>
      parseConfig({ backupBucketKeyArn: 'alias/backups', targets: { prod: { secret: 's' } } }),
    ).toThrow(/backupBucketKeyArn: expected a KMS key ARN/);
  });
});

describe('security: backup.objectLock', () => {
  let template: Template;
  beforeAll(() => {
    const locked = parseConfig({
      targets: {
        prod: {
          secret: 'titan/prod',
          backup: { retentionDays: 30, objectLock: { mode: 'COMPLIANCE', days: 30 } },
        },
      },
    });
    template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'Locked', { config: locked, env }),
    );
  });

  it('creates the backup bucket with Object Lock (and versioning)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('lets no role shorten, lift or bypass a lock', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Statement & { Effect: string }>,
    );
    const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    for (const action of ['s3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration', 's3:*'])
      expect(allowed).not.toContain(action);
    const backupDenies = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => /PgmaintBackup/.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Statement & { Effect: string }>)
      .filter((s) => s.Effect === 'Deny');
    expect(backupDenies.flatMap((s) => [s.Action].flat())).toEqual(
      expect.arrayContaining(['s3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration']),
    );
    // Setting a retention is granted only to the writer, only on its backups' prefixes. (CDK's
    // deployment handler, which writes the config objects, gets grantReadWrite's PutObjectRetention
    // too; without BypassGovernanceRetention it can lengthen a lock, never shorten one.)
    const retention = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !/CustomCDKBucketDeployment/.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Statement & { Effect: string }>)
      .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('s3:PutObjectRetention'));
    expect(retention).toHaveLength(1);
    expect(JSON.stringify(retention[0]?.Resource)).toContain('/prod/*');
  });
});

describe('security: backup.copies', () => {
  const COPY_KEY = 'arn:aws:kms:eu-central-1:210987654321:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  let statementsOf: (pattern: RegExp) => Statement[];
  beforeAll(() => {
    const copied = parseConfig({
      targets: {
        prod: {
          secret: 'titan/prod',
          backup: {
            copies: [
              { bucket: 'acme-dr-copies', region: 'eu-central-1', account: '210987654321', kmsKey: COPY_KEY },
            ],
            jobs: 1,
          },
        },
      },
    });
    const template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'Copies', { config: copied, env }),
    );
    statementsOf = (pattern) =>
      Object.entries(template.findResources('AWS::IAM::Policy'))
        .filter(([id]) => pattern.test(id))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
  });
  const onCopies = (statements: Statement[]) =>
    statements.filter(
      (s) =>
        JSON.stringify(s.Resource).includes('acme-dr-copies') ||
        JSON.stringify(s.Resource).includes(COPY_KEY),
    );

  it("lets backup write and read back its target's prefix in the copy bucket, with the copy's key", () => {
    const backup = onCopies(statementsOf(/PgmaintBackup/));
    const objects = backup.find((s) => JSON.stringify(s.Resource).includes('acme-dr-copies/prod/*'));
    expect([objects?.Action].flat()).toEqual(expect.arrayContaining(['s3:PutObject', 's3:GetObject']));
    expect([objects?.Action].flat()).not.toContain('s3:DeleteObject');
    const key = backup.find((s) => JSON.stringify(s.Resource) === JSON.stringify(COPY_KEY));
    expect([key?.Action].flat()).toEqual(
      expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey*', 'kms:Decrypt']),
    );
  });

  it('lets restore only read the copies, and gives health none', () => {
    const restore = onCopies(statementsOf(/PgmaintRestore/));
    expect(restore.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'kms:Decrypt',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(onCopies(statementsOf(/PgmaintHealth/))).toEqual([]);
    expect(onCopies(statementsOf(/PgmaintRetention|PgmaintReindex/))).toEqual([]);
  });
});
