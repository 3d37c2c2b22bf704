import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { bucketState, createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, incompressibleTableSql, type TestDatabase } from '../helpers/database';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { freePort, type LocalPostgres, serverBindir, startLocalPostgres } from '../helpers/local-postgres';

/**
 * Every fault must end the same way: the job failed, one SNS alert says why, no new object and no
 * incomplete multipart upload under the backup prefix, earlier backups untouched.
 */
describe('backup faults: never a false success, nothing left behind', () => {
  let db: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let secret: string;
  let proxy: FaultProxy;
  const motoEndpoint = process.env.AWS_ENDPOINT_URL ?? '';

  beforeAll(async () => {
    db = await createTestDatabase('backup_faults');
    // ~40 MB of incompressible bytes: several 16 MiB upload parts, and a dump that takes a moment.
    await db.sql(incompressibleTableSql('blobs', 40_000));
    bucket = await createBucket();
    inbox = await createTopicInbox();
    secret = await createRdsSecret(db.settings);
    proxy = await startFaultProxy(motoEndpoint);
    // One good backup first: the faults below must leave it untouched.
    const out = await runCli(['backup', '--config', config(), '--target', 'prod', '--json']);
    expect(out.code, out.stderr).toBe(0);
    await inbox.messages({ expect: 0 });
  }, 180_000);
  afterAll(async () => {
    process.env.AWS_ENDPOINT_URL = motoEndpoint;
    await proxy?.close();
    await db?.drop();
  });

  const config = (targetSecret = secret) =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { prod: { secret: targetSecret } },
    });

  /** A cold-started handler: a warm one keeps the config it first read, as on Lambda. */
  async function freshHandler() {
    vi.resetModules();
    return (await import('../../functions/backup/handler')).handler;
  }

  /** Runs a failing backup and checks the common ending; returns the alert text. */
  async function expectCleanFailure(run: () => Promise<{ code: number; stderr: string }>, why: RegExp) {
    inbox = await createTopicInbox(); // a fresh inbox: exactly this run's alerts
    const before = await bucketState(bucket);
    const out = await run();
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(why);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED backup prod');
    expect(messages[0]?.message).toMatch(why);
    expect(await bucketState(bucket)).toEqual({ objects: before.objects, incompleteUploads: [] });
    const listed = JSON.parse(
      (await runCli(['backups', '--config', config(), '--target', 'prod', '--json'])).stdout,
    );
    expect(listed.backups).toHaveLength(1);
    return messages[0]?.message ?? '';
  }

  it('wrong password', async () => {
    const wrong = await createRdsSecret({ ...db.settings, password: 'N0t-The-Passw0rd' });
    const alert = await expectCleanFailure(
      () => runCli(['backup', '--config', config(wrong), '--target', 'prod']),
      /password authentication failed/,
    );
    expect(alert).not.toContain('N0t-The-Passw0rd');
  });

  it('database unreachable', async () => {
    const nowhere = await createRdsSecret({ ...db.settings, port: await freePort() });
    await expectCleanFailure(
      () => runCli(['backup', '--config', config(nowhere), '--target', 'prod']),
      /ECONNREFUSED|could not connect|connect/i,
    );
  });

  it("pg_dump's backend terminated mid-dump", async () => {
    // Only this test's dump: other test files back up their own databases on the same server.
    const killer = (async () => {
      for (let i = 0; i < 2000; i++) {
        const rows = await db.sql(
          `select pg_terminate_backend(pid) as killed from pg_stat_activity
           where application_name = 'pgmaint/backup' and query ilike 'copy %'
             and datname = current_database()`,
        );
        if (rows.length > 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    })();
    await expectCleanFailure(async () => {
      const out = await runCli(['backup', '--config', config(), '--target', 'prod']);
      expect(await killer).toBe(true);
      return out;
    }, /pg_dump failed.*(terminat|server closed|connection)/is);
  });

  it('the S3 endpoint gone mid-upload', async () => {
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    try {
      // Down after the first 20 MB of upload, for long enough that the SDK's retries give up.
      proxy.cutAfter(20 * 1024 * 1024, 4_000);
      await expectCleanFailure(async () => {
        const out = await runCli(['backup', '--config', config(), '--target', 'prod']);
        process.env.AWS_ENDPOINT_URL = motoEndpoint;
        return out;
      }, /upload to s3:\/\/.* failed/);
      expect(proxy.cuts).toBe(1);
    } finally {
      process.env.AWS_ENDPOINT_URL = motoEndpoint;
    }
  }, 120_000);

  it('a bucket that refuses writes', async () => {
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    proxy.denyWrites(true);
    try {
      await expectCleanFailure(async () => {
        const out = await runCli(['backup', '--config', config(), '--target', 'prod']);
        proxy.denyWrites(false);
        process.env.AWS_ENDPOINT_URL = motoEndpoint;
        return out;
      }, /Access Denied|AccessDenied/);
    } finally {
      proxy.denyWrites(false);
      process.env.AWS_ENDPOINT_URL = motoEndpoint;
    }
  }, 60_000);

  it('stops itself before the Lambda deadline, cancelling the upload cleanly', async () => {
    const fresh = await createBucket(); // no earlier backups: no throughput estimate to refuse on
    inbox = await createTopicInbox();
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: fresh,
      alerts: { topicArn: inbox.topicArn },
      targets: { prod: { secret } },
    });
    const handler = await freshHandler();
    // 30 s is kept back for cleanup: 30.3 s left means the run must stop 0.3 s in, mid-dump.
    const deadline = Date.now() + 30_300;
    await expect(
      handler(
        { target: 'prod' },
        { awsRequestId: 'deadline-1', getRemainingTimeInMillis: () => deadline - Date.now() },
      ),
    ).rejects.toThrow(/before the Lambda timeout/);
    const s3 = s3Client();
    expect((await s3.send(new ListObjectsV2Command({ Bucket: fresh }))).Contents ?? []).toEqual([]);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: fresh }))).Uploads ?? []).toEqual([]);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.message).toContain('before the Lambda timeout');
  });

  it('refuses early when the last backup says this one cannot finish in the time left', async () => {
    inbox = await createTopicInbox();
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: bucket,
      alerts: { topicArn: inbox.topicArn },
      targets: { prod: { secret } },
    });
    const before = await bucketState(bucket);
    const handler = await freshHandler();
    await expect(
      handler({ target: 'prod' }, { awsRequestId: 'budget-1', getRemainingTimeInMillis: () => 30_050 }),
    ).rejects.toThrow(/is estimated at .* but only .* remain before the Lambda timeout; nothing was started/);
    expect(await bucketState(bucket)).toEqual({ objects: before.objects, incompleteUploads: [] });
    expect(await inbox.messages({ expect: 1 })).toHaveLength(1);
  });

  // No server is newer than the 18 client the other tests run: this one runs the machine's pg_dump 15.
  describe('a server newer than the bundled pg_dump', () => {
    let newer: LocalPostgres;
    const lambdaClient = process.env.PGMAINT_PG_BINDIR;
    beforeAll(async () => {
      process.env.PGMAINT_PG_BINDIR = inject('pgBindir');
      newer = await startLocalPostgres({ bindir: serverBindir(17) });
    }, 120_000);
    afterAll(async () => {
      process.env.PGMAINT_PG_BINDIR = lambdaClient;
      await newer?.stop();
    });

    it('is refused before anything starts, naming both versions', async () => {
      const url = new URL(newer.url);
      const newerSecret = await createRdsSecret({
        ...db.settings,
        host: url.hostname,
        port: Number(url.port),
        user: 'postgres',
        password: newer.password,
        database: 'postgres',
      });
      await expectCleanFailure(
        () => runCli(['backup', '--config', config(newerSecret), '--target', 'prod']),
        /PostgreSQL 17\.\d+, newer than the bundled pg_dump 15/,
      );
    });
  });
});
