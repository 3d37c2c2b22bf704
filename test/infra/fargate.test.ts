import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_MANIFESTS } from '../../functions/manifests';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import { FARGATE_ENV } from '../../functions/shared/fargate-task';
import { Pgmaint } from '../../lib/pgmaint';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { runsTask, scheduleInput, templateText } from '../helpers/schedule-input';
import { testTempDir } from '../helpers/temp-dirs';

const env = { account: '123456789012', region: 'eu-west-2' };

const config = parseConfig({
  alerts: { emails: ['ops@example.com'] },
  network: {
    vpcId: 'vpc-0abc1234',
    availabilityZones: ['eu-west-2a', 'eu-west-2b'],
    privateSubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
    securityGroupIds: ['sg-0ccc3333'],
  },
  targets: {
    // A big database: backup and restore drills on Fargate, backup on a bigger task than the default.
    big: {
      secret: 'titan/big',
      backup: {
        schedule: 'cron(0 2 * * ? *)',
        runOn: 'fargate',
        fargate: { cpu: 4096, memoryMiB: 8192, ephemeralStorageGiB: 150 },
      },
      restore: { drill: { schedule: 'cron(0 5 ? * SAT *)' }, runOn: 'fargate' },
      health: { schedule: 'rate(15 minutes)' },
    },
    small: { secret: 'titan/small', backup: { schedule: 'cron(0 3 * * ? *)', runOn: 'lambda' } },
  },
});

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
/** The template's resources, typed as findResources types them. */
type Resources = ReturnType<Template['findResources']>;

describe('Fargate: cluster, task definitions, schedules, hand-off, task-stopped alert', () => {
  let template: Template;
  let resources: Resources;
  beforeAll(() => {
    template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'Fg', { config, env }),
    );
    resources = template.toJSON().Resources;
  });
  const idOf = (type: string, pattern: RegExp) => {
    const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
    expect(ids, `${type} ${pattern}`).toHaveLength(1);
    return ids[0] as string;
  };
  const statementsOfRole = (roleId: string) =>
    Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  const taskDefinitionOf = (job: string) => {
    const [entry] = Object.entries(template.findResources('AWS::ECS::TaskDefinition')).filter(([, t]) =>
      JSON.stringify(t.Properties.ContainerDefinitions[0].Command).includes(`"${job}"`),
    );
    expect(entry, job).toBeDefined();
    return { id: entry?.[0] as string, props: entry?.[1].Properties };
  };

  it('creates one cluster, without Container Insights by default, named in the outputs', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasOutput('FargateCluster', {
      Value: { Ref: idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/) },
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
    });
  });

  it("defines one task per job: the functions' image run as the CLI, manifest sizing, the job's log group", () => {
    template.resourceCountIs('AWS::ECS::TaskDefinition', JOBS.length);
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      JSON.stringify(f.Properties.ImageConfig ?? {}).includes('/handler.handler'),
    );
    const functionImage = functions[0]?.Properties.Code.ImageUri;
    expect(functionImage).toBeDefined();
    for (const job of JOBS) {
      const { props } = taskDefinitionOf(job);
      const sizing = JOB_MANIFESTS[job].fargate;
      expect(props).toMatchObject({
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: String(sizing.cpu),
        Memory: String(sizing.memoryMiB),
        EphemeralStorage: { SizeInGiB: sizing.ephemeralStorageGiB },
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      });
      const [container] = props.ContainerDefinitions;
      // The same image asset as the functions: one build, one repository tag.
      expect(container.Image).toEqual(functionImage);
      expect(container.EntryPoint).toEqual(['node', '/var/task/bin/pgmaint.js']);
      expect(container.Command[0]).toBe(job);
      // The job's own log group: the one its function writes to.
      const fn = functions.find(
        (f) => f.Properties.ImageConfig.Command[0] === `functions/${job}/handler.handler`,
      );
      expect(container.LogConfiguration).toMatchObject({
        LogDriver: 'awslogs',
        Options: {
          'awslogs-group': fn?.Properties.LoggingConfig.LogGroup,
          'awslogs-stream-prefix': 'fargate',
        },
      });
      const vars = Object.fromEntries(
        (container.Environment as Array<{ Name: string; Value: unknown }>).map((v) => [v.Name, v.Value]),
      );
      // The same config pointer as the function, and EMF metrics into that log group.
      expect(vars.PGMAINT_CONFIG_S3).toEqual(fn?.Properties.Environment.Variables.PGMAINT_CONFIG_S3);
      expect(vars.PGMAINT_CONFIG_SHA256).toEqual(fn?.Properties.Environment.Variables.PGMAINT_CONFIG_SHA256);
      expect(vars).toMatchObject({ PGMAINT_METRICS: 'emf', POWERTOOLS_METRICS_NAMESPACE: 'pgmaint' });
    }
  });

  it("gives each task role exactly its job's Lambda grants, and the execution role only image pull and logs", () => {
    const lambdaOnly = new Set([
      'SendFailureRecords',
      'RunOwnFargateTask',
      'TagOwnFargateTasks',
      'PassOwnFargateTaskRoles',
    ]);
    for (const job of JOBS) {
      const { props } = taskDefinitionOf(job);
      const taskRole = props.TaskRoleArn['Fn::GetAtt'][0] as string;
      const executionRole = props.ExecutionRoleArn['Fn::GetAtt'][0] as string;
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (f) => f.Properties.ImageConfig?.Command?.[0] === `functions/${job}/handler.handler`,
      );
      const functionRole = fn?.Properties.Role['Fn::GetAtt'][0] as string;
      const functionGrants = statementsOfRole(functionRole).filter(
        (s) => !lambdaOnly.has(s.Sid ?? '') && ![s.Action].flat().some((a) => a.startsWith('xray:')),
      );
      expect(functionGrants.length, job).toBeGreaterThan(3);
      expect(statementsOfRole(taskRole), job).toEqual(functionGrants);
      const execution = statementsOfRole(executionRole).flatMap((s) => [s.Action].flat());
      expect(execution.sort(), job).toEqual([
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
      // Both roles are for ECS tasks only.
      for (const role of [taskRole, executionRole])
        expect(resources[role]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
        ]);
    }
  });

  it('schedules runOn "fargate" as the whole RunTask request: private subnets, the security groups, no public IP, command and size as overrides', () => {
    const backup = taskDefinitionOf('backup');
    const cluster = `<${idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/)}.Arn>`;
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    const nightly = schedules.find((s) => s.Properties.ScheduleExpression === 'cron(0 2 * * ? *)');
    // Scheduler's universal target: its Input is the RunTask request, as the ECS API reference names it.
    expect(runsTask(nightly)).toBe(true);
    expect(nightly?.Properties.Target).toMatchObject({
      RoleArn: expect.anything(),
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: expect.anything(),
    });
    expect(nightly?.Properties.Target.EcsParameters).toBeUndefined();
    expect(scheduleInput(nightly?.Properties.Target)).toEqual({
      cluster,
      taskDefinition: `<${backup.id}>`,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'],
          securityGroups: ['sg-0ccc3333'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: 'pgmaint', command: ['backup', '--target', 'big'] }],
        cpu: '4096',
        memory: '8192',
        ephemeralStorage: { sizeInGiB: 150 },
      },
      startedBy: 'pgmaint-backup-big',
      tags: [
        { key: 'pgmaint:job', value: 'backup' },
        { key: 'pgmaint:target', value: 'big' },
        { key: 'pgmaint:requested-by', value: 'schedule' },
      ],
    });
    // The drill's event travels whole; the default size needs no override.
    const drill = schedules.find((s) => s.Properties.ScheduleExpression === 'cron(0 5 ? * SAT *)');
    expect(scheduleInput(drill?.Properties.Target)).toMatchObject({
      taskDefinition: `<${taskDefinitionOf('restore').id}>`,
      overrides: {
        containerOverrides: [
          { name: 'pgmaint', command: ['restore', '--target', 'big', '--event', '{"drill":true}'] },
        ],
      },
    });
    expect(Object.keys(scheduleInput(drill?.Properties.Target).overrides as object)).toEqual([
      'containerOverrides',
    ]);
    // "lambda" and "auto" (health's default) stay Lambda schedules.
    const onLambda = schedules.filter((s) => !runsTask(s));
    expect(onLambda.map((s) => s.Properties.Target.Input).sort()).toEqual([
      '{"target":"big"}',
      '{"target":"small"}',
    ]);
    for (const s of onLambda) expect(JSON.stringify(s.Properties.Target.Arn)).toContain('Function');
  });

  it("lets the schedules' role run only the scheduled tasks, passing only their roles to ECS", () => {
    const statements = statementsOfRole(idOf('AWS::IAM::Role', /PgmaintSchedulerRole/));
    const runTask = statements.filter((s) => [s.Action].flat().includes('ecs:RunTask'));
    expect(runTask.map((s) => s.Resource)).toEqual(
      expect.arrayContaining([
        { Ref: taskDefinitionOf('backup').id },
        { Ref: taskDefinitionOf('restore').id },
      ]),
    );
    expect(runTask).toHaveLength(2);
    // The request tags each task: TagResource on the cluster's tasks, only as part of RunTask.
    const tagging = statements.filter((s) => [s.Action].flat().includes('ecs:TagResource'));
    expect(tagging.length).toBeGreaterThan(0);
    for (const tag of tagging) {
      expect(templateText(tag.Resource)).toMatch(
        /:ecs:eu-west-2:123456789012:task\/<PgmaintFargateCluster\w+>\/\*$/,
      );
      expect(tag.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RunTask' } });
    }
    for (const pass of statements.filter((s) => [s.Action].flat().includes('iam:PassRole'))) {
      expect(JSON.stringify(pass.Resource)).not.toContain('*');
      expect(pass.Condition).toEqual({ StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    }
  });

  it('lets each job function hand a run to its own task: FARGATE_ENV, RunTask on that task in that cluster, PassRole of its two roles', () => {
    const cluster = { 'Fn::GetAtt': [idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/), 'Arn'] };
    for (const job of JOBS) {
      const task = taskDefinitionOf(job);
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (f) => f.Properties.ImageConfig?.Command?.[0] === `functions/${job}/handler.handler`,
      );
      expect(fn?.Properties.Environment.Variables, job).toMatchObject({
        [FARGATE_ENV.cluster]: cluster,
        [FARGATE_ENV.taskDefinition]: { Ref: task.id },
        [FARGATE_ENV.container]: 'pgmaint',
        [FARGATE_ENV.subnets]: 'subnet-0aaa1111,subnet-0bbb2222',
        [FARGATE_ENV.securityGroups]: 'sg-0ccc3333',
        [FARGATE_ENV.assignPublicIp]: 'DISABLED',
      });
      const statements = statementsOfRole(fn?.Properties.Role['Fn::GetAtt'][0]);
      expect(statements.filter((s) => [s.Action].flat().includes('ecs:RunTask'))).toEqual([
        {
          Sid: 'RunOwnFargateTask',
          Action: 'ecs:RunTask',
          Effect: 'Allow',
          Resource: { Ref: task.id },
          Condition: { ArnEquals: { 'ecs:cluster': cluster } },
        },
      ]);
      expect(statements.filter((s) => [s.Action].flat().includes('ecs:TagResource'))).toEqual([
        {
          Sid: 'TagOwnFargateTasks',
          Action: 'ecs:TagResource',
          Effect: 'Allow',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ecs:eu-west-2:123456789012:task/',
                { Ref: idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/) },
                '/*',
              ],
            ],
          },
          Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
        },
      ]);
      expect(statements.filter((s) => [s.Action].flat().includes('iam:PassRole'))).toEqual([
        {
          Sid: 'PassOwnFargateTaskRoles',
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: [
            { 'Fn::GetAtt': [task.props.TaskRoleArn['Fn::GetAtt'][0], 'Arn'] },
            { 'Fn::GetAtt': [task.props.ExecutionRoleArn['Fn::GetAtt'][0], 'Arn'] },
          ],
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ]);
    }
  });

  it("alerts the topic when a task of this cluster stops non-zero or by ECS's doing, with job, target and reason", () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.['detail-type']?.[0] === 'ECS Task State Change',
    );
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [{ 'Fn::GetAtt': [idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/), 'Arn'] }],
        lastStatus: ['STOPPED'],
        $or: [
          { containers: { exitCode: [{ 'anything-but': [0, 1, 2] }] } },
          { stopCode: [{ 'anything-but': 'EssentialContainerExited' }] },
        ],
      },
    });
    const [target] = rule?.Properties.Targets ?? [];
    expect(target.Arn).toEqual({ Ref: idOf('AWS::SNS::Topic', /PgmaintAlerts/) });
    const paths = target.InputTransformer.InputPathsMap as Record<string, string>;
    expect(Object.values(paths)).toEqual(
      expect.arrayContaining([
        '$.detail.overrides.containerOverrides[0].command[0]',
        '$.detail.overrides.containerOverrides[0].command[2]',
        '$.detail.stoppedReason',
        '$.detail.stopCode',
        '$.detail.containers[0].exitCode',
      ]),
    );
    const byPath = Object.fromEntries(Object.entries(paths).map(([name, path]) => [path, `<${name}>`]));
    expect(target.InputTransformer.InputTemplate).toContain(
      `pgmaint ${byPath['$.detail.overrides.containerOverrides[0].command[0]']} ${byPath['$.detail.overrides.containerOverrides[0].command[2]']}: FAILED on Fargate, the task stopped: ${byPath['$.detail.stoppedReason']}`,
    );
    // EventBridge publishes with its own role: the topic and its key, nothing else.
    const publisher = target.RoleArn['Fn::GetAtt'][0] as string;
    expect(statementsOfRole(publisher).flatMap((s) => [s.Action].flat())).toEqual([
      'sns:Publish',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    ]);
  });

  it('keeps the "no successful run" alarm on JobSucceeded for a Fargate-scheduled target, the metric its task emits', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'pgmaint',
      MetricName: 'JobSucceeded',
      Dimensions: Match.arrayWith([
        { Name: 'job', Value: 'backup' },
        { Name: 'target', Value: 'big' },
      ]),
      TreatMissingData: 'breaching',
    });
  });
});

describe('Fargate: arm64, a public IP when asked, no hand-off where every target says lambda', () => {
  let template: Template;
  beforeAll(() => {
    const publicConfig = parseConfig({
      architecture: 'arm64',
      network: {
        vpcId: 'vpc-0abc1234',
        availabilityZones: ['eu-west-2a'],
        privateSubnetIds: ['subnet-0aaa1111'],
        assignPublicIp: true,
      },
      targets: {
        prod: {
          secret: 'titan/prod',
          backup: { schedule: 'cron(0 2 * * ? *)', runOn: 'fargate' },
          retention: { schedule: 'cron(0 3 * * ? *)', runOn: 'lambda' },
        },
      },
    });
    template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'FgPublic', {
        config: publicConfig,
        env,
      }),
    );
  });

  it('runs the tasks on ARM64 and gives them a public IP; the security group is the function’s own', () => {
    template.allResourcesProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    const [schedule] = Object.values(
      template.findResources('AWS::Scheduler::Schedule', {
        Properties: { ScheduleExpression: 'cron(0 2 * * ? *)' },
      }),
    );
    const request = scheduleInput(schedule?.Properties.Target) as {
      networkConfiguration: { awsvpcConfiguration: { assignPublicIp: string; securityGroups: string[] } };
    };
    const vpc = request.networkConfiguration.awsvpcConfiguration;
    expect(vpc.assignPublicIp).toBe('ENABLED');
    const backupFunction = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.ImageConfig?.Command?.[0] === 'functions/backup/handler.handler',
    );
    expect(vpc.securityGroups).toEqual(
      backupFunction?.Properties.VpcConfig.SecurityGroupIds.map(templateText),
    );
    // No default security group of the VPC: the function's own group (created by pgmaint).
    expect(JSON.stringify(vpc.securityGroups)).toMatch(/PgmaintBackupFunctionSecurityGroup/);
  });

  it('gives no hand-off to a job every target runs on Lambda', () => {
    const retention = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.ImageConfig?.Command?.[0] === 'functions/retention/handler.handler',
    );
    expect(retention?.Properties.Environment.Variables[FARGATE_ENV.cluster]).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(
      /"Sid":"RunOwnFargateTask"[^\]]*PgmaintRetentionTask/,
    );
  });
});

describe('Fargate: what cannot be deployed', () => {
  it('refuses runOn "fargate" without a network, and a size Fargate does not run, naming target and job', () => {
    const parsed = parseConfig({
      targets: {
        prod: { secret: 's', backup: { runOn: 'fargate' } },
        stage: { secret: 's' },
      },
    });
    // A config built in code reaches the stack without parseConfig, which refuses the same size.
    const stage = { ...parsed.targets.stage, restore: { fargate: { cpu: 4096, memoryMiB: 4096 } } };
    const bad = { ...parsed, targets: { ...parsed.targets, stage } } as typeof parsed;
    expect(() => parseConfig({ targets: { stage: { secret: 's', restore: stage.restore } } })).toThrow(
      'targets.stage.restore.fargate: Fargate runs cpu 4096 with memoryMiB 8192 to 30720 in steps of 1024, not 4096',
    );
    expect(
      () => new Pgmaint(new Stack(new App({ outdir: testTempDir('cdk.out-') })), 'P', { config: bad }),
    ).toThrow(
      /targets\.prod\.backup\.runOn: "fargate" needs subnets to run the task in: add "network"[\s\S]*targets\.stage\.restore\.fargate: Fargate runs cpu 4096 with memoryMiB 8192 to 30720 in steps of 1024, not 4096/,
    );
  });

  it('creates no cluster or task without a VPC: every run stays on Lambda', () => {
    const plain = parseConfig({
      targets: { prod: { secret: 's', backup: { schedule: 'cron(0 2 * * ? *)' } } },
    });
    const stack = new Stack(new App({ outdir: testTempDir('cdk.out-') }), 'Plain', { env });
    new Pgmaint(stack, 'P', { config: plain });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECS::Cluster', 0);
    template.resourceCountIs('AWS::ECS::TaskDefinition', 0);
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain(
      FARGATE_ENV.cluster,
    );
  });
});

describe('Fargate: policy checks', () => {
  it("passes cdk-nag's AwsSolutions and Serverless packs and cfn-lint with tasks on Fargate", () => {
    const app = new App({ outdir: testTempDir('fg-nag-') });
    const stack = new PgmaintStack(app, 'FgNag', { config, env });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).not.toThrow();
    const path = join(testTempDir('fg-template-'), 'template.json');
    writeFileSync(path, JSON.stringify(Template.fromStack(stack).toJSON()));
    // W3005 as in operations.test.ts.
    const out = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', path], { encoding: 'utf8' });
    if (out.error) throw new Error('cfn-lint is not installed (pip install cfn-lint)');
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  }, 180_000);
});

describe("Fargate settings for the CLI's --on fargate", () => {
  it("writes the cluster, network and every job's task definition to .pgmaint/config/fargate.json, kept by the config deployment's prune", () => {
    const template = Template.fromStack(
      new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'FgSettings', { config, env }),
    );
    const idOf = (type: string, pattern: RegExp) => {
      const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
      expect(ids, `${type} ${pattern}`).toHaveLength(1);
      return ids[0] as string;
    };
    const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment'));
    const configObjects = deployments.find((d) => d.Properties.Exclude);
    expect(configObjects?.Properties.Exclude).toEqual(['fargate.json']);
    expect(configObjects?.Properties.Prune).toBe(true);
    const settings = deployments.find(
      (d) => d !== configObjects && d.Properties.DestinationBucketKeyPrefix === '.pgmaint/config/',
    );
    expect(settings?.Properties.Prune).toBe(false);
    // The object's deploy-time values travel as the source's markers beside its asset.
    const markers = JSON.stringify(settings?.Properties.SourceMarkers);
    expect(markers).toContain(idOf('AWS::ECS::Cluster', /PgmaintFargateCluster/));
    for (const job of JOBS)
      expect(markers, job).toContain(
        idOf('AWS::ECS::TaskDefinition', new RegExp(`Pgmaint${job[0]?.toUpperCase()}${job.slice(1)}Task`)),
      );
  });
});
