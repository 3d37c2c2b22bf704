import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import { Pgmaint } from '../../lib/pgmaint';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { deployedConfigObjects } from '../helpers/config-objects';
import { testTempDir } from '../helpers/temp-dirs';

const config = parseConfig({
  alerts: { emails: ['ops@example.com'] },
  targets: {
    prod: {
      secret: 'titan/prod',
      timezone: 'Europe/London',
      backup: { schedule: 'cron(0 2 * * ? *)', retentionDays: 30 },
      retention: {
        schedule: 'cron(15 2 * * ? *)',
        rules: [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days' }],
      },
      reindex: { schedule: 'cron(0 4 ? * SUN#1 *)' },
      health: { schedule: 'rate(15 minutes)' },
      restore: { drill: { schedule: 'cron(0 5 ? * SAT *)' } },
      report: { schedule: 'cron(0 8 ? * MON *)' },
    },
    staging: {
      secret: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:titan/staging-AbCdEf',
      backup: { schedule: 'cron(0 3 * * ? *)', retentionDays: 7 },
    },
  },
});

describe('PgmaintStack', () => {
  let template: Template;
  let outdir: string;
  beforeAll(() => {
    const app = new App({ outdir: testTempDir('cdk.out-') });
    template = Template.fromStack(
      new PgmaintStack(app, 'Test', { config, env: { account: '123456789012', region: 'eu-west-2' } }),
    );
    outdir = app.outdir;
  });

  it('creates one container-image function per job, each with its own handler command', () => {
    // + the failure-alert function and the BucketDeployment's handler that writes the config objects
    template.resourceCountIs('AWS::Lambda::Function', JOBS.length + 2);
    for (const job of JOBS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        PackageType: 'Image',
        ImageConfig: { Command: [`functions/${job}/handler.handler`] },
      });
      // The command names a module that exists in the image's functions/ tree.
      expect(existsSync(join(__dirname, '..', '..', 'functions', job, 'handler.ts'))).toBe(true);
    }
  });

  it('schedules each target and job in the target time zone with {"target": name}', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 7);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 4 ? * SUN#1 *)',
      ScheduleExpressionTimezone: 'Europe/London',
      Target: Match.objectLike({
        Input: '{"target":"prod"}',
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: Match.objectLike({ Input: '{"target":"staging"}' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 5 ? * SAT *)',
      Target: Match.objectLike({ Input: '{"target":"prod","drill":true}' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/London',
      Target: Match.objectLike({ Input: '{"target":"prod","publish":true}' }),
    });
  });

  it('creates a private, encrypted bucket that outlives the stack, and the alert topic with e-mail', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it("lets each function read only its targets' secrets", () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const secretResources = Object.values(policies).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
        .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((s) => JSON.stringify(s.Resource)),
    );
    expect(secretResources.length).toBeGreaterThan(0);
    for (const resource of secretResources) {
      expect(resource).toMatch(/titan\/prod-\?\?\?\?\?\?|titan\/staging-AbCdEf/);
      expect(resource).not.toContain('"*"');
    }
  });

  it('gives the report function (it reads the store alone) no database secret', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const report = Object.values(functions).find((f) =>
      JSON.stringify(f).includes('functions/report/handler.handler'),
    );
    const role = report?.Properties.Role['Fn::GetAtt'][0];
    expect(role).toBeDefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(`"${role}"`),
    );
    expect(policies.length).toBeGreaterThan(0);
    const actions = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect(actions).toContain('sns:Publish');
    expect(actions).toContain('s3:GetObject');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
  });

  it("scopes bucket access to the targets' prefixes: retention and reindex get none, health reads", () => {
    const statements = (sid: string) =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
        (
          policy.Properties.PolicyDocument.Statement as Array<{
            Sid?: string;
            Action: string[];
            Resource: unknown;
          }>
        ).filter((s) => s.Sid === sid),
      );
    const write = statements('ReadWriteBackups');
    expect(write).toHaveLength(1);
    expect(JSON.stringify(write[0]?.Resource)).toContain('/prod/*');
    expect(write[0]?.Action).toContain('s3:AbortMultipartUpload');
    expect(statements('ReadBackups')).toHaveLength(3); // restore, health and report
    expect(statements('ReadWriteState')).toHaveLength(2); // restore and health
    expect(statements('ReadState')).toHaveLength(1); // the report
    expect(statements('ReadState')[0]?.Action).not.toContain('s3:PutObject');
    for (const statement of [...statements('ReadBackups'), ...statements('ReadWriteState')]) {
      expect(statement.Action).not.toContain('s3:DeleteObject');
    }
  });

  it('lets functions publish only to the alert topic', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: Match.stringLikeRegexp('Alerts') } }),
        ]),
      },
    });
  });

  it('passes each function only its slice of the config, through its own object in the bucket', () => {
    const objects = deployedConfigObjects(template, outdir);
    const functions = template.findResources('AWS::Lambda::Function');
    const reindex = Object.values(functions).find((f) =>
      JSON.stringify(f).includes('functions/reindex/handler.handler'),
    );
    const variables = reindex?.Properties.Environment.Variables;
    expect(variables.PGMAINT_CONFIG).toBeUndefined();
    expect(JSON.stringify(variables.PGMAINT_CONFIG_S3)).toContain('/.pgmaint/config/reindex.json');
    const text = objects['reindex.json'] ?? '';
    expect(createHash('sha256').update(text).digest('hex')).toBe(variables.PGMAINT_CONFIG_SHA256);
    const slice = JSON.parse(text);
    expect(Object.keys(slice.targets.prod).sort()).toEqual(['reindex', 'secret', 'timezone']);
  });
});

describe('Pgmaint props validation', () => {
  it('rejects url targets and file:// stores, reporting every problem at once', () => {
    const bad = parseConfig({
      backupBucket: 'file:///tmp/backups',
      targets: { local: { url: 'postgres://u:p@localhost/db' }, other: { url: 'postgres://h/db' } },
    });
    expect(
      () => new Pgmaint(new Stack(new App({ outdir: testTempDir('cdk.out-') })), 'P', { config: bad }),
    ).toThrow(
      /targets\.local\.url: deployed targets take their credentials from Secrets Manager[\s\S]*targets\.other\.url[\s\S]*backupBucket: a file:\/\/ store is for local runs/,
    );
  });
});
