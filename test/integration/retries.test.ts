import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { parseConfig } from '../../functions/shared/config/load';
import { tryJobLock } from '../../functions/shared/job-lock';
import { PgmaintStack } from '../../lib/pgmaint-stack';
import { invokeAsync } from '../helpers/async-invoke';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { testTempDir } from '../helpers/temp-dirs';

/** What the stack deploys for the backup function: its retry count and its environment. */
function deployedBackupFunction() {
  const config = parseConfig({
    targets: { prod: { secret: 'titan/prod', backup: { schedule: 'cron(0 2 * * ? *)' } } },
  });
  const template = Template.fromStack(
    new PgmaintStack(new App({ outdir: testTempDir('cdk.out-') }), 'Retries', {
      config,
      env: { account: '123456789012', region: 'eu-west-2' },
    }),
  );
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
  const backup = functions.find(([, f]) => JSON.stringify(f).includes('functions/backup/handler.handler'));
  const invokeConfig = Object.values(
    template.findResources('AWS::Lambda::EventInvokeConfig', {
      Properties: { FunctionName: { Ref: backup?.[0] } },
    }),
  )[0];
  return {
    retryAttempts: invokeConfig?.Properties.MaximumRetryAttempts as number,
    failureAlerts: backup?.[1].Properties.Environment.Variables.PGMAINT_FAILURE_ALERTS as string,
  };
}

describe('a scheduled backup that fails is retried, and alerts once when no retry is left', () => {
  const deployed = deployedBackupFunction();
  const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:Retries-PgmaintBackupFunction';
  let db: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  const saved = { ...process.env };

  beforeAll(async () => {
    db = await createTestDatabase('retries');
    await db.sql(`create table orders (id int primary key, total numeric);
                  insert into orders select g, g * 1.5 from generate_series(1, 2000) g;`);
    bucket = await createBucket();
  });
  afterAll(async () => db?.drop());
  afterEach(() => {
    process.env = { ...saved };
  });

  /** A cold start of both functions with the environment the stack gives them. */
  async function coldStart(secret: string) {
    inbox = await createTopicInbox();
    process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { prod: { secret } } });
    process.env.PGMAINT_BACKUP_BUCKET = bucket;
    process.env.PGMAINT_ALERT_TOPIC_ARN = inbox.topicArn;
    process.env.PGMAINT_FAILURE_ALERTS = deployed.failureAlerts;
    process.env.PGMAINT_JOB_FUNCTIONS = 'backup=Retries-PgmaintBackupFunction';
    vi.resetModules();
    const backup = (await import('../../functions/backup/handler')).handler;
    const failureAlert = (await import('../../functions/failure-alert/handler')).handler;
    return { backup, failureAlert };
  }

  it('is deployed with Lambda retrying twice, the alert left to the on-failure destination', () => {
    expect(deployed).toEqual({ retryAttempts: 2, failureAlerts: 'destination' });
  });

  it('publishes exactly one FAILED alert after the last of three failed attempts', async () => {
    // Nothing listens on port 1: every attempt fails to connect, as in a long database outage.
    const { backup, failureAlert } = await coldStart(await createRdsSecret({ ...db.settings, port: 1 }));
    const attempts = await invokeAsync(
      backup,
      { target: 'prod' },
      { retryAttempts: deployed.retryAttempts, functionArn, requestId: 'nightly-1', onFailure: failureAlert },
    );
    expect(attempts.map((a) => a.ok)).toEqual([false, false, false]);
    expect(attempts[0]?.error).toMatch(/cannot connect to/);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED backup prod');
    expect(messages[0]?.message).toContain('cannot connect to');
    expect(messages[0]?.message).toContain('tries:  3 (every attempt failed)');
    expect(messages[0]?.message).toContain('run id: nightly-1');
  });

  it('alerts nobody when a retry succeeds, and a try while another backup holds the lock does nothing', async () => {
    const { backup, failureAlert } = await coldStart(await createRdsSecret(db.settings));
    // Another backup of this database is still running (its session holds the backup lock).
    const other: Client = await db.connect();
    await other.query(`select pg_advisory_lock(hashtext('pgmaint/backup'), hashtext(current_database()))`);
    const attempts = await invokeAsync(
      backup,
      { target: 'prod' },
      {
        retryAttempts: deployed.retryAttempts,
        functionArn,
        requestId: 'nightly-2',
        onFailure: failureAlert,
        between: async () => {
          await other.end(); // the other run finishes before Lambda's retry
        },
      },
    );
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.error).toMatch(/another backup run is already working on this database/);
    expect(attempts[1]).toEqual({ ok: true });
    const objects = (await s3Client().send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    // One backup: the refused try wrote nothing.
    expect(objects.filter((o) => o.Key?.endsWith('.manifest.json'))).toHaveLength(1);
    expect(await inbox.messages({ expect: 0 })).toEqual([]);
  });

  it("has the server drop a vanished lock holder's connection within about a minute", async () => {
    const client = await db.connect();
    try {
      expect(await tryJobLock(client, 'backup')).toBe(true);
      const { rows } = await client.query(
        `select current_setting('tcp_keepalives_idle') as idle, current_setting('tcp_keepalives_interval') as every,
                current_setting('tcp_keepalives_count') as probes, inet_client_addr() is not null as tcp`,
      );
      expect(rows[0]).toEqual({ idle: '30', every: '10', probes: '3', tcp: true });
    } finally {
      await client.end();
    }
  });
});
