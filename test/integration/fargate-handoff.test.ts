import { DescribeTasksCommand, ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJob } from '../../functions/backup/definition';
import { reindexJob } from '../../functions/reindex/definition';
import { restoreJob } from '../../functions/restore/definition';
import { s3Client } from '../../functions/shared/aws';
import { FARGATE_SETTINGS_KEY, type FargateSettingsObject } from '../../functions/shared/fargate-settings';
import type { JobDefinition, JobResult } from '../../functions/shared/job';
import { makeHandler } from '../../functions/shared/lambda';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runBinary, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createFargateStage, type FargateStage } from '../helpers/ecs';

const noSignals = () => () => {};

/**
 * The `auto` hand-off and `runOn: "fargate"` as the job's Lambda function runs them, and the CLI's
 * `--on fargate`: RunTask reaches the emulator's ECS API (moto implements Fargate RunTask with
 * awsvpc, overrides, tags and DescribeTasks), and the tests read the task back from it.
 */
describe('a Lambda run handed to its Fargate task', () => {
  let db: TestDatabase;
  let bucket: string;
  let secret: string;
  let inbox: Inbox;
  let stage: FargateStage;
  const ecs = new ECSClient({});

  beforeAll(async () => {
    db = await createTestDatabase('fargate_handoff');
    await db.sql(
      'create table t (id int primary key, note text); insert into t select g, md5(g::text) from generate_series(1, 50000) g',
    );
    bucket = await createBucket();
    secret = await createRdsSecret(db.settings);
    stage = await createFargateStage(['backup', 'restore', 'reindex']);
  }, 120_000);
  afterAll(async () => db?.drop());

  function handlerFor<Options, Result extends JobResult>(
    definition: JobDefinition<Options, Result>,
    target: Record<string, unknown>,
    fargate: Record<string, string>,
  ) {
    const config = {
      backupBucket: bucket,
      alerts: { topicArn: inbox.topicArn },
      targets: { prod: { secret, ...target } },
    };
    return makeHandler(definition, noSignals, {
      ...process.env,
      PGMAINT_CONFIG: JSON.stringify(config),
      ...fargate,
    });
  }
  const lambdaContext = (remainingMs: number) => ({
    awsRequestId: `req-${remainingMs}-${Math.random()}`,
    getRemainingTimeInMillis: () => remainingMs,
  });

  async function describeTask(taskArn: string): Promise<Task> {
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: stage.cluster, tasks: [taskArn], include: ['TAGS'] }),
    );
    const task = described.tasks?.[0];
    if (!task) throw new Error(`no task ${taskArn} in ${stage.cluster}`);
    return task;
  }
  const taskCount = async () =>
    ((await ecs.send(new ListTasksCommand({ cluster: stage.cluster }))).taskArns ?? []).length;
  const backupsStored = async () =>
    ((await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'prod/' }))).Contents ?? [])
      .length;

  it('auto: a backup estimated past the time left starts its task with the target sizing and returns "handed off"', async () => {
    inbox = await createTopicInbox();
    const handler = handlerFor(
      backupJob,
      { backup: { fargate: { cpu: 4096, memoryMiB: 8192, ephemeralStorageGiB: 50 } } },
      stage.env('backup'),
    );
    const result = await handler({ target: 'prod' }, lambdaContext(45_000));
    expect(result).toMatchObject({ target: 'prod', status: 'handed off', job: 'backup' });
    if (!('taskArn' in result)) throw new Error('not handed off');
    expect(result.reason).toMatch(
      /expected to take .*, 45\.0 s left on Lambda \(database .* at 20\.0 MB\/s \(the default: no earlier backup measured one\)/,
    );
    const task = await describeTask(result.taskArn);
    expect(task.taskDefinitionArn).toBe(stage.taskDefinitions.backup);
    expect(task.launchType).toBe('FARGATE');
    expect(task.overrides).toMatchObject({
      cpu: '4096',
      memory: '8192',
      ephemeralStorage: { sizeInGiB: 50 },
      containerOverrides: [{ name: 'backup', command: ['backup', '--target', 'prod'] }],
    });
    expect(task.startedBy).toBe('pgmaint-backup-prod');
    expect(task.tags).toEqual(
      expect.arrayContaining([
        { key: 'pgmaint:job', value: 'backup' },
        { key: 'pgmaint:target', value: 'prod' },
      ]),
    );
    // awsvpc in the deployment's subnet: the emulator attached the task's interface there.
    expect(task.attachments?.[0]?.details).toEqual(
      expect.arrayContaining([{ name: 'subnetId', value: stage.subnet }]),
    );
    // Not the job's run: nothing dumped here, and not a failure: no alert.
    expect(await backupsStored()).toBe(0);
    expect(await inbox.messages({ expect: 0 })).toEqual([]);
  });

  it('auto: a backup that fits runs on Lambda and starts no task', async () => {
    inbox = await createTopicInbox();
    const before = await taskCount();
    const handler = handlerFor(backupJob, {}, stage.env('backup'));
    const result = await handler({ target: 'prod' }, lambdaContext(900_000));
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(await taskCount()).toBe(before);
    expect(await backupsStored()).toBeGreaterThan(0);
  }, 120_000);

  it('runOn "fargate": a console invocation goes to the task with its event, at the job\'s default size', async () => {
    inbox = await createTopicInbox();
    const handler = handlerFor(restoreJob, { restore: { runOn: 'fargate' } }, stage.env('restore'));
    const result = await handler({ target: 'prod', drill: true }, lambdaContext(900_000));
    expect(result).toMatchObject({
      status: 'handed off',
      reason: 'targets.prod.restore.runOn is "fargate"',
    });
    if (!('taskArn' in result)) throw new Error('not handed off');
    const task = await describeTask(result.taskArn);
    expect(task.taskDefinitionArn).toBe(stage.taskDefinitions.restore);
    // No target size: the task definition's own (restore's manifest), no size overrides.
    expect(task.overrides?.cpu).toBeUndefined();
    expect(task.overrides?.memory).toBeUndefined();
    expect(task.overrides?.ephemeralStorage).toBeUndefined();
    expect(task.overrides).toMatchObject({
      containerOverrides: [
        { name: 'restore', command: ['restore', '--target', 'prod', '--event', '{"drill":true}'] },
      ],
    });
  });

  it('runOn "fargate" in a function deployed without a Fargate task: a clear error and one alert', async () => {
    inbox = await createTopicInbox();
    const before = await taskCount();
    const handler = handlerFor(restoreJob, { restore: { runOn: 'fargate' } }, {});
    await expect(handler({ target: 'prod', drill: true }, lambdaContext(900_000))).rejects.toThrow(
      /targets\.prod\.restore\.runOn is "fargate", but this function was deployed without a Fargate task \(PGMAINT_FARGATE_CLUSTER, PGMAINT_FARGATE_TASK_DEFINITION, PGMAINT_FARGATE_CONTAINER, PGMAINT_FARGATE_SUBNETS not set\)/,
    );
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
    expect(await taskCount()).toBe(before);
  });

  it('auto: reindex estimated past the time left goes to Fargate; without a Fargate task it runs here', async () => {
    inbox = await createTopicInbox();
    // One candidate: t's primary key (~1 MB) over a lowered size floor, bloat not a condition.
    const reindex = { reindex: { minSize: '256 kB', minBloat: '0%' } };
    const handedOff = await handlerFor(
      reindexJob,
      reindex,
      stage.env('reindex'),
    )({ target: 'prod' }, lambdaContext(20_000));
    expect(handedOff).toMatchObject({ status: 'handed off', job: 'reindex' });
    expect('reason' in handedOff && handedOff.reason).toMatch(
      /expected to take .* left on Lambda \(1 index\(es\) of .* to rebuild/,
    );
    const here = await handlerFor(reindexJob, reindex, {})({ target: 'prod' }, lambdaContext(20_000));
    expect(here.status).not.toBe('handed off');
    expect(here).toMatchObject({ mode: 'concurrently' });
    // Nothing to rebuild: the estimate fits, a run that only looks stays on Lambda.
    const nothing = await handlerFor(
      reindexJob,
      {},
      stage.env('reindex'),
    )({ target: 'prod' }, lambdaContext(20_000));
    expect(nothing).toMatchObject({ status: 'ok', indexes: [] });
  }, 120_000);

  describe('pgmaint <job> --on fargate', () => {
    beforeAll(async () => {
      const settings: FargateSettingsObject = {
        formatVersion: 1,
        cluster: stage.cluster,
        subnets: [stage.subnet],
        securityGroups: [stage.securityGroup],
        tasks: { reindex: { taskDefinition: stage.taskDefinitions.reindex ?? '', container: 'reindex' } },
      };
      await s3Client().send(
        new PutObjectCommand({ Bucket: bucket, Key: FARGATE_SETTINGS_KEY, Body: JSON.stringify(settings) }),
      );
    });
    const config = () => writeConfig({ backupBucket: bucket, targets: { prod: { secret } } });

    it("starts the job's task from the stack's settings object and prints its ARN", async () => {
      const out = await runBinary([
        'reindex',
        '--config',
        config(),
        '--target',
        'prod',
        '--dry-run',
        '--on',
        'fargate',
        '--json',
      ]);
      expect(out.code, out.stderr).toBe(0);
      const result = JSON.parse(out.stdout);
      expect(result).toMatchObject({ target: 'prod', status: 'handed off', reason: '--on fargate' });
      const task = await describeTask(result.taskArn);
      expect(task.taskDefinitionArn).toBe(stage.taskDefinitions.reindex);
      expect(task.overrides).toMatchObject({
        containerOverrides: [
          { name: 'reindex', command: ['reindex', '--target', 'prod', '--event', '{"dryRun":true}'] },
        ],
      });
      const human = await runBinary(['reindex', '--config', config(), '--target', 'prod', '--on', 'fargate']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^prod: reindex started as a Fargate task\n {2}task {4}arn:aws:ecs:/);
    });

    it('says which job has no task, and what --on takes', async () => {
      const restore = await runBinary([
        'restore',
        '--config',
        config(),
        '--target',
        'prod',
        '--on',
        'fargate',
      ]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toContain(
        `s3://${bucket}/${FARGATE_SETTINGS_KEY} has no task for restore (tasks: reindex)`,
      );
      const lambda = await runBinary(['reindex', '--config', config(), '--target', 'prod', '--on', 'lambda']);
      expect(lambda.code).toBe(2);
      expect(lambda.stderr).toContain('--on: expected "fargate"');
    });
  });
});
