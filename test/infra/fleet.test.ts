import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { deployedConfigObjects } from '../helpers/config-objects';
import { runsTask, scheduleInput } from '../helpers/schedule-input';
import { testTempDir } from '../helpers/temp-dirs';

const TARGETS = 50;

/** CloudFormation's limit of resources in one stack. */
const CLOUDFORMATION_RESOURCE_LIMIT = 500;
/** Targets whose backups (and restore drills) run on Fargate. */
const ON_FARGATE = 10;

/**
 * A fleet: 50 targets in a VPC, each backed up, with retention rules and health thresholds of its
 * own; the first ten back up (and drill restores) on Fargate, one of them on a bigger task.
 */
const fleet = parseConfig({
  alerts: { emails: ['ops@example.com'] },
  network: {
    vpcId: 'vpc-0abc1234',
    availabilityZones: ['eu-west-2a', 'eu-west-2b'],
    privateSubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
    securityGroupIds: ['sg-0ccc3333'],
  },
  targets: Object.fromEntries(
    Array.from({ length: TARGETS }, (_, i) => [
      `shop-${String(i).padStart(2, '0')}`,
      {
        secret: `fleet/shop-${i}`,
        timezone: 'Europe/Berlin',
        backup: {
          schedule: 'cron(0 2 * * ? *)',
          retentionDays: 14,
          ...(i < ON_FARGATE ? { runOn: 'fargate' } : {}),
          ...(i === 0 ? { fargate: { cpu: 4096, memoryMiB: 8192, ephemeralStorageGiB: 200 } } : {}),
        },
        ...(i < ON_FARGATE
          ? { restore: { drill: { schedule: 'cron(0 5 ? * SAT *)' }, runOn: 'fargate' } }
          : {}),
        retention: {
          schedule: 'cron(30 2 * * ? *)',
          rules: [
            { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
            { table: 'sessions', column: 'last_seen_at', olderThan: '30 days' },
            { table: 'public.events', column: 'occurred_at', olderThan: '365 days' },
          ],
        },
        health: {
          schedule: 'rate(15 minutes)',
          thresholds: {
            connections: { warning: 50, critical: '95%' },
            backup_freshness: { warning: '26 hours', critical: '50 hours' },
            long_running_queries: { warning: '5 minutes', critical: '30 minutes' },
          },
        },
      },
    ]),
  ),
});

describe('a fleet of 50 targets', () => {
  let template: Template;
  let outdir: string;
  beforeAll(() => {
    const app = new App({ outdir: testTempDir('cdk.out-') });
    const stack = new PgmaintStack(app, 'Fleet', {
      config: fleet,
      env: { account: '123456789012', region: 'eu-west-2' },
    });
    template = Template.fromStack(stack);
    outdir = app.outdir;
  });

  it('synthesizes, far past what 4 KB of environment could hold', () => {
    const objects = deployedConfigObjects(template, outdir);
    const retention = objects['retention.json'] ?? '';
    const health = objects['health.json'] ?? '';
    expect(Buffer.byteLength(retention)).toBeGreaterThan(4096);
    expect(Buffer.byteLength(health)).toBeGreaterThan(4096);
    expect(Object.keys(JSON.parse(retention).targets)).toHaveLength(TARGETS);
    // What each function reads back validates as a config, with the same schema as everywhere.
    for (const job of JOBS) expect(() => parseConfig(JSON.parse(objects[`${job}.json`] ?? ''))).not.toThrow();
  });

  it(`stays under CloudFormation's ${CLOUDFORMATION_RESOURCE_LIMIT} resources with ${ON_FARGATE} targets on Fargate: one task definition per job`, () => {
    const count = Object.keys(template.toJSON().Resources).length;
    expect(count).toBeLessThan(CLOUDFORMATION_RESOURCE_LIMIT);
    template.resourceCountIs('AWS::ECS::TaskDefinition', JOBS.length);
    const onFargate = Object.values(template.findResources('AWS::Scheduler::Schedule'))
      .filter(runsTask)
      .map(
        (s) =>
          scheduleInput(s.Properties.Target) as {
            overrides: { containerOverrides: [{ command: string[] }] };
          },
      );
    expect(onFargate).toHaveLength(2 * ON_FARGATE);
    expect(onFargate.map((r) => r.overrides.containerOverrides[0].command[2])).toContain('shop-09');
    const big = onFargate.find((r) => r.overrides.containerOverrides[0].command[2] === 'shop-00');
    expect(big?.overrides).toMatchObject({
      cpu: '4096',
      memory: '8192',
      ephemeralStorage: { sizeInGiB: 200 },
    });
  });

  it('points every job function at its own config object, and lets it read only that one', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      JSON.stringify(f.Properties.ImageConfig ?? {}).includes('/handler.handler'),
    );
    const jobsWithPointer = functions
      .map((f) => f.Properties.Environment?.Variables)
      .filter((v) => v?.PGMAINT_CONFIG_S3)
      .map((v) => /\.pgmaint\/config\/(\w+)\.json/.exec(JSON.stringify(v.PGMAINT_CONFIG_S3))?.[1]);
    expect(jobsWithPointer.sort()).toEqual([...JOBS].sort());
    for (const f of functions)
      expect(JSON.stringify(f.Properties.Environment)).not.toContain('PGMAINT_CONFIG"');
    // 50 targets' grants overflow a role's inline policy: CDK moves the rest to managed policies.
    const policies = [
      ...Object.values(template.findResources('AWS::IAM::Policy')),
      ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
    ];
    const reads = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => s.Sid === 'ReadOwnConfig');
    // Each job's function and its Fargate task.
    expect(reads).toHaveLength(2 * JOBS.length);
    for (const statement of reads) {
      expect(statement.Action).toBe('s3:GetObject');
      expect(JSON.stringify(statement.Resource)).toMatch(/\/\.pgmaint\/config\/\w+\.json"/);
    }
  });
});
