import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import { testEvents } from '../../lib/console-test-events';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { testTempDir } from '../helpers/temp-dirs';

const env = { account: '123456789012', region: 'eu-west-2' };
const cdkJsonConfig = () => parseConfig(require('../../cdk.json').context.pgmaint);

const operationsConfig = parseConfig({
  alerts: { emails: ['ops@example.com'] },
  network: {
    vpcId: 'vpc-0abc1234',
    availabilityZones: ['eu-west-2a', 'eu-west-2b'],
    privateSubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
    privateSubnetRouteTableIds: ['rtb-0ddd4444', 'rtb-0eee5555'],
    vpcCidrBlock: '10.20.0.0/16',
    securityGroupIds: ['sg-0ccc3333'],
    createEndpoints: true,
  },
  targets: {
    prod: {
      secret: 'titan/prod',
      manageSecret: { host: 'prod.cluster.eu-west-2.rds.amazonaws.com', dbname: 'titan' },
      timezone: 'Europe/London',
      backup: { schedule: 'cron(0 2 * * ? *)' },
      health: { schedule: 'rate(15 minutes)' },
      restore: { drill: { schedule: 'cron(0 5 ? * SAT *)', rto: '2 hours' } },
    },
    // Weekly: the backup function also serves prod's daily schedule.
    staging: { secret: 'titan/staging', backup: { schedule: 'cron(0 3 ? * SUN *)', retentionDays: 7 } },
  },
});

describe('operations: alarms, dashboard, test events, secrets, networking, encryption', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'Ops', {
        config: operationsConfig,
        env,
      }),
    );
  });

  it('alarms on throttles, near-timeout and undelivered failure records for every job function, to the alert topic', () => {
    const topic = { Ref: Match.stringLikeRegexp('PgmaintAlerts') };
    for (const metric of ['Throttles', 'Duration', 'DestinationDeliveryFailures']) {
      const alarms = template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          MetricName: metric,
          Namespace: 'AWS/Lambda',
          AlarmActions: [topic],
          TreatMissingData: 'notBreaching',
        },
      });
      expect(Object.keys(alarms)).toHaveLength(JOBS.length);
    }
    // 90% of the backup function's 15-minute timeout.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Threshold: 810_000,
      Statistic: 'Maximum',
    });
    // A failed try that a retry repairs must page nobody: no per-function Errors alarm on the jobs,
    // only on the function that sends the failure alerts.
    const errors = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Errors' } });
    expect(Object.keys(errors)).toHaveLength(1);
    expect(JSON.stringify(errors)).toContain('FailureAlerts');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
    });
  });

  it("alarms per target and job on no successful run, with the window from that target's own schedule", () => {
    const noSuccess = (job: string, target: string) =>
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          Namespace: 'pgmaint',
          MetricName: 'JobSucceeded',
          Dimensions: Match.arrayWith([
            { Name: 'job', Value: job },
            { Name: 'target', Value: target },
          ]),
        },
      });
    // prod's daily backup: 36 hourly periods without a success, although staging's backup on the
    // same function runs only weekly.
    const prodBackup = Object.values(noSuccess('backup', 'prod'));
    expect(prodBackup).toHaveLength(1);
    expect(prodBackup[0]?.Properties).toMatchObject({
      Period: 3600,
      EvaluationPeriods: 36,
      DatapointsToAlarm: 36,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: expect.stringMatching(/PgmaintAlerts/) }],
      Dimensions: expect.arrayContaining([{ Name: 'service', Value: 'pgmaint' }]),
    });
    // Health every 15 minutes: one 23-minute period.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'JobSucceeded',
      Dimensions: Match.arrayWith([
        { Name: 'job', Value: 'health' },
        { Name: 'target', Value: 'prod' },
      ]),
      Period: 1380,
      EvaluationPeriods: 1,
    });
    // Weekly: more than CloudWatch's 7-day evaluation can hold with a margin, so none (health's
    // backup_freshness watches it).
    expect(Object.keys(noSuccess('backup', 'staging'))).toHaveLength(0);
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { Namespace: 'pgmaint', MetricName: 'JobSucceeded' },
      2,
    );
  });

  it("warns when a drill within its RTO used 80% of it, per target with an RTO; a breach is the drill's FAILED alert, not another alarm", () => {
    const nearRto = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'pgmaint', MetricName: 'DrillRtoUsedPercent' },
    });
    // prod's drill has an RTO; staging has no drill.
    expect(Object.values(nearRto)).toHaveLength(1);
    const topic = [{ Ref: expect.stringMatching(/PgmaintAlerts/) }];
    expect(Object.values(nearRto)[0]?.Properties).toMatchObject({
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'pgmaint' },
        { Name: 'job', Value: 'restore' },
        { Name: 'target', Value: 'prod' },
      ]),
      Statistic: 'Maximum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // Drills are days apart: the state holds until the next one.
      TreatMissingData: 'ignore',
      AlarmActions: topic,
      OKActions: topic,
      AlarmDescription: expect.stringContaining('RTO (2 hours)'),
    });
    for (const duplicate of ['DrillRtoExceeded', 'DrillRecoveryMs', 'RestoreDrillPassed'])
      template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: duplicate }, 0);
  });

  it('retries failed scheduled runs of the idempotent jobs twice, never a restore, and alerts once through the failure-alert function', () => {
    const failureAlertsArn = Match.objectLike({
      'Fn::Join': Match.arrayWith([
        Match.arrayWith([Match.stringLikeRegexp(':function:Ops-Pgmaint-FailureAlerts')]),
      ]),
    });
    const invokeConfig = (job: string) => {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) =>
        JSON.stringify(f).includes(`functions/${job}/handler.handler`),
      );
      const configs = template.findResources('AWS::Lambda::EventInvokeConfig', {
        Properties: { FunctionName: { Ref: fn?.[0] } },
      });
      expect(Object.keys(configs)).toHaveLength(1);
      return Object.values(configs)[0]?.Properties;
    };
    // Lambda tries again after about 1 and 2 more minutes; the event lives long enough for every
    // attempt to start even when each earlier one ran to the 15-minute timeout.
    for (const job of ['backup', 'retention', 'reindex'])
      expect(invokeConfig(job)).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 43 * 60 });
    // Health: a 2-minute timeout, so every retry starts before the next 15-minute run.
    expect(invokeConfig('health')).toMatchObject({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 17 * 60,
    });
    expect(invokeConfig('restore')).toMatchObject({ MaximumRetryAttempts: 0 });
    const configs = template.findResources('AWS::Lambda::EventInvokeConfig', {
      Properties: { DestinationConfig: { OnFailure: { Destination: failureAlertsArn } } },
    });
    expect(Object.keys(configs)).toHaveLength(JOBS.length);
    // The job functions leave the failure alert to the destination, which knows each function's job.
    const jobFunctions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ PGMAINT_FAILURE_ALERTS: 'destination' }) } },
    });
    expect(Object.keys(jobFunctions)).toHaveLength(JOBS.length);
    template.hasResourceProperties('AWS::Lambda::Function', {
      ImageConfig: { Command: ['functions/failure-alert/handler.handler'] },
      FunctionName: Match.stringLikeRegexp('^Ops-Pgmaint-FailureAlerts'),
      Environment: {
        Variables: Match.objectLike({
          PGMAINT_JOB_FUNCTIONS: {
            'Fn::Join': [
              ',',
              Match.arrayWith([{ 'Fn::Join': ['', ['backup=', { Ref: Match.anyValue() }]] }]),
            ],
          },
        }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'SendFailureRecords',
            Action: 'lambda:InvokeFunction',
            Resource: failureAlertsArn,
          }),
        ]),
      },
    });
    // The schedules still retry an invoke call that fails, and park the event after that.
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        DeadLetterConfig: Match.anyValue(),
      }),
    });
  });

  it('builds one dashboard with backups, health, retention, reindex and errors per job', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0]);
    for (const needle of [
      'BackupBytes',
      'BackupDurationMs',
      'HealthCheckStatus',
      'cache_hit_ratio',
      'xid_wraparound',
      'RowsDeleted',
      'BytesReclaimed',
      'errors per job',
      '## prod',
      '## staging',
    ])
      expect(body).toContain(needle);
  });

  it('publishes shareable console test events for each function', () => {
    template.hasResourceProperties('AWS::EventSchemas::Registry', {
      RegistryName: 'lambda-testevent-schemas',
    });
    const schemas = template.findResources('AWS::EventSchemas::Schema', {
      Properties: { RegistryName: 'lambda-testevent-schemas', Type: 'OpenApi3' },
    });
    expect(Object.keys(schemas)).toHaveLength(JOBS.length);
    const events = testEvents(operationsConfig);
    expect(events.backup['prod-backup-now']).toEqual({ target: 'prod' });
    expect(events.health['staging-health-now']).toEqual({ target: 'staging' });
    expect(events.retention['prod-retention-dry-run']).toEqual({ target: 'prod', dryRun: true });
    expect(events.reindex['prod-reindex-dry-run']).toEqual({ target: 'prod', dryRun: true });
    expect(events.restore['prod-restore-latest-into-new-database']).toEqual({
      target: 'prod',
      backup: 'latest',
    });
    expect(events.restore['refresh-staging-from-prod']).toEqual({
      target: 'staging',
      from: 'prod',
      backup: 'latest',
    });
    const contents = Object.values(schemas).map((s) =>
      JSON.parse((s as { Properties: { Content: string } }).Properties.Content),
    );
    expect(contents.some((c) => c.components.examples['refresh-staging-from-prod'])).toBe(true);
  });

  it('creates a managed secret rotated every 90 days by the hosted PostgreSQL rotation; imports the others', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'titan/prod',
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      HostedRotationLambda: Match.objectLike({ RotationType: 'PostgreSQLSingleUser' }),
      RotationRules: { ScheduleExpression: 'rate(90 days)' },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('runs in the given VPC with the S3 gateway and Secrets Manager / SNS interface endpoints', () => {
    // The job functions; the failure-alert function reaches only SNS, from outside the VPC.
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { VpcConfig: { SubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'], SecurityGroupIds: ['sg-0ccc3333'] } },
      JOBS.length,
    );
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.anyValue(),
    });
    const interfaces = template.findResources('AWS::EC2::VPCEndpoint', {
      Properties: { VpcEndpointType: 'Interface' },
    });
    const services = JSON.stringify(Object.values(interfaces));
    expect(services).toContain('secretsmanager');
    expect(services).toContain('sns');
  });

  it('encrypts with a rotating customer-managed key: bucket (versioned, SSL only, private), topic, queue; logs retained', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
    template.resourceCountIs('AWS::Logs::LogGroup', JOBS.length + 1); // + the failure-alert function
  });
});

describe('policy checks on the synthesized app (cdk.json config)', () => {
  it("passes cdk-nag's AwsSolutions and Serverless packs; every acknowledged finding carries a reason", () => {
    const app = new App({ outdir: testTempDir('nag-') });
    new PgmaintStack(app, 'Nag', { config: cdkJsonConfig(), env });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('fails cdk-nag when a finding is not acknowledged (the check can fail)', () => {
    const app = new App({ outdir: testTempDir('nag-') });
    const stack = new PgmaintStack(app, 'NagBad', { config: cdkJsonConfig(), env });
    const { Queue } = require('aws-cdk-lib/aws-sqs');
    new Queue(stack, 'Unencrypted', {
      encryption: require('aws-cdk-lib/aws-sqs').QueueEncryption.UNENCRYPTED,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  it('passes cfn-lint', () => {
    const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (available.error) {
      // Not a silent skip: the machine has no cfn-lint, say so loudly unless explicitly allowed.
      if (process.env.PGMAINT_ALLOW_NO_CFN_LINT === '1') return;
      throw new Error('cfn-lint is not installed (pip install cfn-lint), or set PGMAINT_ALLOW_NO_CFN_LINT=1');
    }
    const app = new App({ outdir: testTempDir('lint-') });
    const stack = new PgmaintStack(app, 'Lint', { config: cdkJsonConfig(), env });
    const path = join(testTempDir('template-'), 'template.json');
    writeFileSync(path, JSON.stringify(Template.fromStack(stack).toJSON()));
    // W3005: CDK states a role dependency explicitly next to the GetAtt that implies it; harmless.
    const out = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', path], { encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(typeof execFileSync).toBe('function');
  }, 120_000);
});
