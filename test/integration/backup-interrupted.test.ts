import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupJob } from '../../functions/backup/definition';
import { s3Client } from '../../functions/shared/aws';
import { makeHandler } from '../../functions/shared/lambda';
import type { SignalSource, StopSignalName } from '../../functions/shared/stop-signals';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, incompressibleTableSql, type TestDatabase } from '../helpers/database';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { alive, childProcesses, until } from '../helpers/processes';

const BIN = join(__dirname, '..', '..', 'bin', 'pgmaint.js');

/** The pg_dump processes a CLI process started (its direct children named pg_dump). */
const pgDumpChildren = (parent: number) => childProcesses(parent, ['pg_dump']);

describe('an interrupted backup leaves nothing behind', () => {
  let db: TestDatabase;
  let secret: string;
  let proxy: FaultProxy;
  const s3 = () => s3Client(); // straight to the emulator, never through the proxy

  beforeAll(async () => {
    db = await createTestDatabase('backup_interrupted');
    // ~80 MB of incompressible bytes, ten 8 MiB upload parts: with one part stored and the next held,
    // what the upload and its 4 MiB of slack buffer (about 28 MiB) is far from the whole dump, so
    // pg_dump is still running when the signal comes, however the machine is loaded.
    await db.sql(incompressibleTableSql('blobs', 80_000));
    secret = await createRdsSecret(db.settings);
    proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL ?? '');
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await db?.drop();
  });

  /** Runs `pgmaint backup` as its own process (and process group, as a shell job is), S3 through the proxy. */
  function startBackup(configPath: string) {
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'backup', '--config', configPath, '--target', 'prod'],
      {
        env: { ...process.env, AWS_ENDPOINT_URL: proxy.endpoint },
        detached: true,
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdout?.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, exited, stderr: () => stderr };
  }

  async function backupSessions(): Promise<number> {
    const rows = await db.sql(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and application_name = 'pgmaint/backup'`,
    );
    return Number(rows[0]?.n);
  }

  for (const [signal, exitCode, how] of [
    ['SIGTERM', 143, 'to the pgmaint process (docker stop, ECS, kill)'],
    ['SIGINT', 130, 'to its whole process group (Ctrl-C in a terminal: pg_dump gets it too)'],
  ] as const) {
    it(`${signal} ${how} mid-upload: upload aborted, pg_dump gone, exit ${exitCode}, one alert`, async () => {
      const bucket = await createBucket();
      const inbox: Inbox = await createTopicInbox();
      const configPath = writeConfig({
        alerts: { topicArn: inbox.topicArn },
        backupBucket: bucket,
        targets: { prod: { secret } },
      });
      // The first part goes through; the second is held: the run is caught mid-upload for sure.
      proxy.holdPartsAfter(1);
      try {
        const run = startBackup(configPath);
        const pid = run.child.pid as number;
        const upload = await until('the first part to be stored', async () => {
          if (proxy.partsHeld < 1) return undefined;
          const uploads =
            (await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
          const first = uploads[0];
          if (!first?.Key || !first.UploadId) return undefined;
          const parts = await s3().send(
            new ListPartsCommand({ Bucket: bucket, Key: first.Key, UploadId: first.UploadId }),
          );
          return (parts.Parts ?? []).length >= 1 ? first : undefined;
        });
        expect(upload.Key).toMatch(/^prod\/.*\.dump$/);
        const dumps = pgDumpChildren(pid);
        expect(dumps).toHaveLength(1);
        expect(await backupSessions()).toBeGreaterThan(0);

        if (signal === 'SIGINT') process.kill(-pid, 'SIGINT');
        else run.child.kill('SIGTERM');
        const exit = await Promise.race([
          run.exited,
          new Promise((resolve) => setTimeout(resolve, 60_000)).then(() => {
            run.child.kill('SIGKILL');
            throw new Error(`still running 60 s after ${signal}: ${run.stderr()}`);
          }),
        ]);

        expect(exit, run.stderr()).toEqual({ code: exitCode, signal: null });
        expect(run.stderr()).toContain(`stopped by ${signal}`);
        expect((await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual(
          [],
        );
        expect((await s3().send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).toEqual([]);
        for (const dumpPid of dumps) expect(alive(dumpPid)).toBe(false);
        // pg_dump's server session ends when its socket closes; give the server a moment to notice.
        await until(
          'pg_dump and the snapshot sessions to end',
          async () => ((await backupSessions()) === 0 ? true : undefined),
          10_000,
        );
        const messages = await inbox.messages({ expect: 1 });
        expect(messages).toHaveLength(1);
        expect(messages[0]?.subject).toBe('pgmaint FAILED backup prod');
        expect(messages[0]?.message).toContain(`stopped by ${signal}`);
      } finally {
        proxy.holdPartsAfter(undefined);
      }
    });
  }

  it('the Lambda handler stops the same way on SIGTERM (Lambda shutting the environment down)', async () => {
    const bucket = await createBucket();
    const inbox = await createTopicInbox();
    const listeners = new Set<(signal: StopSignalName) => void>();
    // The process's real SIGTERM would stop the test runner too: the handler takes the same
    // subscription the process offers, from the test.
    const signals: SignalSource = (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    const emulator = process.env.AWS_ENDPOINT_URL;
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: bucket,
      alerts: { topicArn: inbox.topicArn },
      targets: { prod: { secret } },
    });
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    proxy.holdPartsAfter(1);
    try {
      const handler = makeHandler(backupJob, signals);
      const run = handler(
        { target: 'prod' },
        { awsRequestId: 'sigterm-1', getRemainingTimeInMillis: () => 600_000 },
      );
      run.catch(() => {});
      await until('a part held mid-upload', async () => (proxy.partsHeld >= 1 ? true : undefined));
      expect(listeners.size).toBe(1);
      for (const listener of listeners) listener('SIGTERM');
      await expect(run).rejects.toThrow('stopped by SIGTERM before it finished');
      expect(listeners.size).toBe(0); // unsubscribed when the invocation ended
    } finally {
      proxy.holdPartsAfter(undefined);
      process.env.AWS_ENDPOINT_URL = emulator;
    }
    expect((await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    expect((await s3().send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).toEqual([]);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.message).toContain('stopped by SIGTERM');
  });

  it('aborts incomplete uploads older than a day under its own prefix, and only those', async () => {
    const bucket = await createBucket();
    const configPath = writeConfig({ backupBucket: bucket, targets: { prod: { secret } } });
    const started = async (key: string) => {
      const created = await s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      await s3().send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(1024, 1),
        }),
      );
    };
    await started('prod/2026/01/01/prod-20260101T020000Z.dump'); // a killed run of this target
    await started('prod-eu/2026/01/01/prod-eu-20260101T020000Z.dump'); // another target, same stem
    await started('elsewhere/big-file.bin'); // not pgmaint's
    const uploads = async () =>
      ((await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [])
        .map((u) => u.Key)
        .sort();
    const ours = (await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'prod/' })))
      .Uploads?.[0];
    // The emulator's clock cannot be moved, so the job's clock is: its `now` is set relative to
    // the start time the emulator reports for the upload, whatever that is and whatever today is.
    const initiated = ours?.Initiated?.getTime() as number;
    expect(initiated).toBeGreaterThan(0);
    const backupAt = async (hoursAfter: number) => {
      const now = () => new Date(initiated + hoursAfter * 3600_000);
      return runCliJson<{ staleUploadsAborted: number | null; key: string }>(
        ['backup', '--config', configPath, '--target', 'prod', '--json'],
        process.env,
        {
          now,
        },
      );
    };

    const early = await backupAt(23); // could still be a run going on: left alone
    expect(early.staleUploadsAborted).toBe(0);
    expect(await uploads()).toHaveLength(3);

    const late = await backupAt(25);
    expect(late.staleUploadsAborted).toBe(1);
    expect(await uploads()).toEqual([
      'elsewhere/big-file.bin',
      'prod-eu/2026/01/01/prod-eu-20260101T020000Z.dump',
    ]);
  });
});
