import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseJobLock, tryJobLock } from '../../functions/shared/job-lock';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';

const occurrences = (text: string, part: string) => text.split(part).length - 1;

/**
 * An alert means a job tried and failed. An operator's mistake (a replace without its confirm, an
 * unknown backup, a database that exists, a run already going) is refused: exit 2, one message,
 * nothing published to the alert topic.
 */
describe('refused requests and backup references', () => {
  let prod: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let secret: string;
  let backupKey: string;
  let printedUrl: string;
  let configPath: string;
  const created: string[] = [];

  beforeAll(async () => {
    prod = await createTestDatabase('refusals');
    await prod.sql(
      "create table events (id int primary key, at timestamptz not null); insert into events select g, now() - g * interval '1 day' from generate_series(1, 50) g;",
    );
    bucket = await createBucket();
    inbox = await createTopicInbox();
    secret = await createRdsSecret(prod.settings);
    configPath = writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: {
        prod: {
          secret,
          retention: {
            rules: [
              { table: 'events', column: 'at', olderThan: '30 days' },
              { table: 'no_such_table', column: 'at', olderThan: '30 days' },
            ],
          },
        },
      },
    });
    const out = await runCli(['backup', '--config', configPath, '--target', 'prod']);
    expect(out.code, out.stderr).toBe(0);
    // What a user copies from the output: the key line prints the object's URL.
    const printed = /^\s*key\s+(\S+)$/m.exec(out.stdout)?.[1];
    expect(printed).toMatch(new RegExp(`^s3://${bucket}/prod/`));
    printedUrl = printed ?? '';
    backupKey = printedUrl.slice(`s3://${bucket}/`.length);
    // The backup itself must not have alerted.
    expect(await inbox.messages({ expect: 0 })).toHaveLength(0);
  }, 120_000);

  afterAll(async () => {
    for (const name of created)
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
    await prod?.drop();
  });

  const restore = (...args: string[]) =>
    runCli(['restore', '--config', configPath, '--target', 'prod', '--json', ...args]);

  it.each([
    ['the URL backup prints', () => printedUrl],
    ['the key', () => backupKey],
    ['the manifest key', () => `${backupKey}.manifest.json`],
  ])('restore --backup accepts %s', async (_form, which) => {
    const into = `${prod.name}_r${created.length}`;
    created.push(into);
    const out = await restore('--backup', which(), '--into', into);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'restored', backupKey, database: into });
  });

  it('an unknown backup is refused with where to look, and no alert', async () => {
    const missing = 'prod/2020/01/01/prod-20200101T000000Z.dump';
    const out = await restore('--backup', missing);
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toMatchObject({ target: 'prod', status: 'refused' });
    expect(out.stderr).toContain(
      `pgmaint restore prod: refused: backup s3://${bucket}/${missing} not found; list the verified backups with \`pgmaint backups --target prod\``,
    );
    const elsewhere = await restore('--backup', `s3://some-other-bucket/${backupKey}`);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`is not in this config's backup store (s3://${bucket})`);
    expect(await inbox.messages({ expect: 0 })).toHaveLength(0);
  });

  it('replace without confirm and --into an existing database: one message each, exit 2, no alert', async () => {
    const noConfirm = await runCli(['restore', '--config', configPath, '--target', 'prod', '--replace']);
    expect(noConfirm.code).toBe(2);
    expect(occurrences(noConfirm.stderr, "replace needs confirm set to the live database's name")).toBe(1);
    expect(noConfirm.stderr).not.toContain('ALERT');
    const exists = await runCli(['restore', '--config', configPath, '--target', 'prod', '--into', prod.name]);
    expect(exists.code).toBe(2);
    expect(occurrences(exists.stderr, `database "${prod.name}" already exists`)).toBe(1);
    expect(await inbox.messages({ expect: 0 })).toHaveLength(0);
    expect(await prod.sql('select count(*)::int as n from events')).toEqual([{ n: 50 }]);
  });

  it('a run refused because another holds the lock does not alert; a run that fails alerts once', async () => {
    const holder = new Client({ connectionString: prod.url });
    await holder.connect();
    try {
      expect(await tryJobLock(holder, 'retention')).toBe(true);
      const overlapping = await runCli(['retention', '--config', configPath, '--target', 'prod']);
      expect(overlapping.code).toBe(2);
      expect(
        occurrences(overlapping.stderr, 'another retention run is already working on this database'),
      ).toBe(1);
      expect(await inbox.messages({ expect: 0 })).toHaveLength(0);
      await releaseJobLock(holder, 'retention');
    } finally {
      await holder.end();
    }
    // The lock is free now: the run starts, and its rule on a missing table makes it fail.
    const failed = await runCli(['retention', '--config', configPath, '--target', 'prod']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('table "no_such_table" does not exist');
    const messages = await inbox.messages({ expect: 1 });
    expect(messages.map((m) => m.subject)).toEqual(['pgmaint FAILED retention prod']);
  });
});
