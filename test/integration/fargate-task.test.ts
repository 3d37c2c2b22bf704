import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreJob } from '../../functions/restore/definition';
import { s3Client } from '../../functions/shared/aws';
import { configObjectKey, configSha256 } from '../../functions/shared/config/deployed';
import {
  DEPLOYED_CONFIG_UNUSABLE_EXIT,
  SELF_REPORTED_EXIT_CODES,
  taskCommand,
} from '../../functions/shared/fargate-task';
import { makeHandler } from '../../functions/shared/lambda';
import {
  bucketState,
  createBucket,
  createRdsSecret,
  createTopicInbox,
  type Inbox,
  readObject,
} from '../helpers/aws';
import { runBinary, startBinary } from '../helpers/cli';
import {
  createTestDatabase,
  incompressibleTableSql,
  type TestDatabase,
  withAdmin,
} from '../helpers/database';
import { databaseText } from '../helpers/fidelity';

const TABLES = ['t1', 't2', 't3', 't4'];

/**
 * The container's entrypoint exactly as the job's Fargate task runs it: bin/pgmaint.js as its own
 * process, the command `taskCommand` builds, the config from the object PGMAINT_CONFIG_S3 names
 * (hash checked), the bucket and topic from the environment the deployment sets, no config file.
 */
describe('the Fargate task: pgmaint <job> --target T [--event JSON] with the deployed config', () => {
  let db: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let secret: string;
  const restored: string[] = [];
  const texts: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase('fargate_task');
    // Four tables of ~8 MB of incompressible bytes: a parallel dump that takes a moment.
    for (const table of TABLES) await db.sql(incompressibleTableSql(table, 8000));
    bucket = await createBucket();
    secret = await createRdsSecret(db.settings);
    // What the stack writes: each job's slice, without the bucket and topic (those are variables).
    const slice = JSON.stringify({ targets: { prod: { secret, backup: { jobs: 2 } } } });
    for (const job of ['backup', 'restore']) {
      texts[job] = slice;
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: configObjectKey(job), Body: slice }));
    }
  }, 120_000);
  afterAll(async () => {
    for (const name of restored)
      await withAdmin((c) => c.query(`drop database if exists ${name} with (force)`)).catch(() => {});
    await db?.drop();
  });

  /** The container's environment for `job`: what the task definition sets, plus AWS's own. */
  function taskEnv(job: string): NodeJS.ProcessEnv {
    const { PGMAINT_CONFIG: _inline, PGMAINT_CONFIG_FILE: _file, ...inherited } = process.env;
    return {
      ...inherited,
      PGMAINT_CONFIG_S3: `s3://${bucket}/${configObjectKey(job)}`,
      PGMAINT_CONFIG_SHA256: configSha256(texts[job] ?? ''),
      PGMAINT_BACKUP_BUCKET: bucket,
      PGMAINT_ALERT_TOPIC_ARN: inbox.topicArn,
      PGMAINT_METRICS: 'emf',
    };
  }
  // `backups` (the listing) has no task of its own: it reads with the backup job's config.
  const task = (job: string, event: Record<string, unknown> = {}) =>
    runBinary(taskCommand(job, 'prod', event), taskEnv(job === 'backups' ? 'backup' : job));

  const jsonLines = (stdout: string) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  /** The EMF documents the task wrote on stdout (CloudWatch Logs turns them into metrics). */
  const emf = (stdout: string) => jsonLines(stdout).filter((d) => '_aws' in d);
  /** The run's result: the one JSON object on stdout that is not an EMF document. */
  const resultOf = (stdout: string) => {
    const results = jsonLines(stdout).filter((d) => !('_aws' in d));
    expect(results).toHaveLength(1);
    return results[0] as Record<string, unknown> & {
      key: string;
      manifestKey: string;
      bytes: number;
      backups: Array<{ key: string }>;
    };
  };

  let backupKey = '';
  let files: Array<{ name: string }> = [];

  it('backs up in parallel, printing the result as JSON, with the metrics a Lambda run has and no alert', async () => {
    inbox = await createTopicInbox();
    const out = await task('backup');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain(`config s3://${bucket}/.pgmaint/config/backup.json (PGMAINT_CONFIG_S3)`);
    const result = resultOf(out.stdout);
    expect(result).toMatchObject({ target: 'prod', status: 'succeeded', format: 'directory', jobs: 2 });
    const documents = emf(out.stdout);
    expect(documents.find((d) => 'JobSucceeded' in d)).toMatchObject({
      JobSucceeded: 1,
      job: 'backup',
      target: 'prod',
    });
    expect(documents.find((d) => 'BackupBytes' in d)?.BackupBytes).toBe(result.bytes);
    const manifest = JSON.parse((await readObject(bucket, result.manifestKey)).toString());
    expect(manifest).toMatchObject({ format: 'directory', jobs: 2 });
    backupKey = result.key;
    files = manifest.files;
    expect(await inbox.messages({ expect: 0 })).toEqual([]);
  }, 120_000);

  it('lists the backup', async () => {
    const out = await task('backups');
    expect(out.code, out.stderr).toBe(0);
    expect(resultOf(out.stdout).backups.map((b: { key: string }) => b.key)).toEqual([backupKey]);
  });

  it('restores it from --event, the options as the Lambda event, into a copy equal to the source', async () => {
    const into = `${db.name}_task`;
    restored.push(into);
    const out = await task('restore', { into });
    expect(out.code, out.stderr).toBe(0);
    expect(resultOf(out.stdout)).toMatchObject({
      status: 'restored',
      database: into,
      backupKey,
      mismatches: [],
    });
    expect(await databaseText(db, into)).toBe(await databaseText(db, db.name));
  }, 180_000);

  it("refuses an --event the job's schema refuses, with the Lambda's words for it", async () => {
    const event = { drill: 'yes', intoo: 'x' };
    const out = await task('restore', event);
    expect(out.code).toBe(2);
    const handler = makeHandler(restoreJob, () => () => {}, {
      PGMAINT_CONFIG: JSON.stringify({ backupBucket: bucket, targets: { prod: { secret } } }),
    });
    const lambda = await handler({ target: 'prod', ...event }).catch((error: Error) => error);
    expect(lambda).toBeInstanceOf(Error);
    const problems = (lambda as Error).message.split('\n').slice(1);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const problem of problems) expect(out.stderr).toContain(problem.trim().replace(/^- /, ''));
  });

  it('refuses a config object that is not the one the deployment wrote', async () => {
    const env = { ...taskEnv('backup'), PGMAINT_CONFIG_SHA256: configSha256('{}') };
    const out = await runBinary(taskCommand('backup', 'prod'), env);
    // Not 2 (refused, silent): the job never started and sent nothing, so the task-stopped rule must alert.
    expect(out.code).toBe(DEPLOYED_CONFIG_UNUSABLE_EXIT);
    expect(SELF_REPORTED_EXIT_CODES).not.toContain(out.code);
    expect(out.stderr).toMatch(/SHA-256 differs\); redeploy the stack/);
  });

  /** A failed run: exit `code`, the failure as JSON, one alert saying why, the bucket exactly as before. */
  async function expectCleanFailure(
    run: () => Promise<{ code: number | null; stdout: string; stderr: string }>,
    code: number,
    why: RegExp,
  ) {
    inbox = await createTopicInbox();
    const before = await bucketState(bucket);
    const out = await run();
    expect(out.code, out.stderr).toBe(code);
    expect(resultOf(out.stdout)).toMatchObject({ target: 'prod', status: 'failed' });
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED backup prod');
    expect(messages[0]?.message).toMatch(why);
    expect(emf(out.stdout).find((d) => 'JobFailed' in d)).toMatchObject({ JobFailed: 1, target: 'prod' });
    expect(await bucketState(bucket)).toEqual({ objects: before.objects, incompleteUploads: [] });
  }

  /** Waits until a pg_dump worker of this run is copying a table. */
  async function dumping(): Promise<boolean> {
    for (let i = 0; i < 3000; i++) {
      const rows = await db.sql(
        `select pid from pg_stat_activity
         where application_name = 'pgmaint/backup' and query ilike 'copy %' and datname = current_database()`,
      );
      if (rows.length > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  it("pg_dump's backend killed midway: exit 1, one alert, no files and no manifest left", async () => {
    await expectCleanFailure(
      async () => {
        const run = task('backup');
        expect(await dumping()).toBe(true);
        await db.sql(
          `select pg_terminate_backend(pid) from pg_stat_activity
           where application_name = 'pgmaint/backup' and query ilike 'copy %' and datname = current_database()`,
        );
        return run;
      },
      1,
      /pg_dump failed/,
    );
  }, 120_000);

  it('SIGTERM mid-dump (ECS stopping the task): cleans up within the grace period, exit 143, one alert', async () => {
    await expectCleanFailure(
      async () => {
        const { child, done } = startBinary(taskCommand('backup', 'prod'), taskEnv('backup'));
        expect(await dumping()).toBe(true);
        const stoppedAt = Date.now();
        child.kill('SIGTERM');
        const out = await done;
        // ECS sends SIGKILL 30 s after SIGTERM: the cleanup and the alert fit well inside.
        expect(Date.now() - stoppedAt).toBeLessThan(30_000);
        return out;
      },
      143,
      /stopped by SIGTERM/,
    );
  }, 120_000);

  it('a stored file corrupted before the restore: exit 1, one alert, no database created', async () => {
    const victim = files.find((f) => /^\d+\.dat/.test(f.name));
    if (!victim) throw new Error('the backup has no data file');
    const key = `${backupKey}/${victim.name}`;
    const original = await readObject(bucket, key);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] ?? 0) ^ 0xff;
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: corrupt }));
    inbox = await createTopicInbox();
    const into = `${db.name}_corrupt`;
    try {
      const out = await task('restore', { into });
      expect(out.code, out.stderr).toBe(1);
      expect(resultOf(out.stdout)).toMatchObject({ status: 'failed' });
      const messages = await inbox.messages({ expect: 1 });
      expect(messages).toHaveLength(1);
      expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
      expect(messages[0]?.message).toContain(`file ${victim.name} does not match its manifest`);
      const { rows } = await withAdmin((c) =>
        c.query('select 1 from pg_database where datname = $1', [into]),
      );
      expect(rows).toEqual([]);
    } finally {
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original }));
    }
  }, 120_000);
});
