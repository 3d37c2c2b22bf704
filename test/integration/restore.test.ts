import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/restore/handler';
import { s3Client } from '../../functions/shared/aws';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { adminUrl, createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { createFidelitySchema, databaseText } from '../helpers/fidelity';
import { ranHere } from '../helpers/handler-result';

async function databasesLike(prefix: string): Promise<string[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by 1',
      [prefix],
    );
    return rows.map((r) => r.datname);
  });
}

describe('restore: new database by default, replace only when confirmed, drills', () => {
  let prod: TestDatabase;
  let staging: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let prodSecret: string;
  let stagingSecret: string;
  let backupKey: string;
  let prodText: string;

  beforeAll(async () => {
    prod = await createTestDatabase('restore_prod');
    staging = await createTestDatabase('restore_staging');
    await createFidelitySchema(prod);
    await staging.sql('create table staging_only (id int); insert into staging_only values (1), (2);');
    bucket = await createBucket();
    inbox = await createTopicInbox();
    prodSecret = await createRdsSecret(prod.settings);
    stagingSecret = await createRdsSecret(staging.settings);
    const backup = await runCliJson(['backup', '--config', config(), '--target', 'prod', '--json']);
    backupKey = backup.key;
    prodText = await databaseText(prod, prod.name);
  }, 120_000);

  afterAll(async () => {
    for (const name of [...(await databasesLike(prod.name)), ...(await databasesLike(staging.name))])
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
  });

  const config = () =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: {
        prod: { secret: prodSecret, restore: { drill: { schedule: 'cron(0 5 ? * SAT *)' } } },
        staging: { secret: stagingSecret },
      },
    });
  const restore = (...args: string[]) => runCli(['restore', '--config', config(), '--json', ...args]);

  it('restores the latest backup into a new database that equals the source, live untouched', async () => {
    const out = await restore('--target', 'prod');
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({
      target: 'prod',
      status: 'restored',
      mode: 'new',
      backupKey,
      rowCountsVerified: true,
      mismatches: [],
    });
    expect(result.database).toMatch(new RegExp(`^${prod.name}_restore_\\d{12}$`));
    expect(result.tables).toBeGreaterThanOrEqual(5);
    expect(result.rows).toBeGreaterThan(5000);
    expect(await databaseText(prod, result.database)).toBe(prodText);
    expect(await databaseText(prod, prod.name)).toBe(prodText);
  });

  it('streams the archive in one transaction when it does not fit in /tmp', async () => {
    process.env.PGMAINT_RESTORE_TMP_LIMIT_BYTES = '0';
    try {
      const out = await restore('--target', 'prod', '--into', `${prod.name}_streamed`);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ status: 'restored', database: `${prod.name}_streamed` });
      expect(await databaseText(prod, `${prod.name}_streamed`)).toBe(prodText);
    } finally {
      delete process.env.PGMAINT_RESTORE_TMP_LIMIT_BYTES;
    }
  });

  it('refuses into an existing database, creating nothing', async () => {
    const before = await databasesLike(prod.name);
    const out = await restore('--target', 'prod', '--into', staging.name);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`database "${staging.name}" already exists`);
    expect(await databasesLike(prod.name)).toEqual(before);
    expect(await staging.sql('select count(*)::int as n from staging_only')).toEqual([{ n: 2 }]);
  });

  it('refuses replace without confirm, or with the wrong name, touching nothing', async () => {
    const before = await databasesLike(prod.name);
    const missing = await restore('--target', 'prod', '--replace');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `replace needs confirm set to the live database's name ("${prod.name}")`,
    );
    const wrong = await restore('--target', 'prod', '--replace', '--confirm', staging.name);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`got "${staging.name}"`);
    expect(await databasesLike(prod.name)).toEqual(before);
    expect(await databaseText(prod, prod.name)).toBe(prodText);
  });

  it('refuses a corrupted or truncated object (SHA-256 or size mismatch) before creating anything', async () => {
    const corrupt = await createBucket();
    const s3 = s3Client();
    const manifestKey = `${backupKey}.manifest.json`;
    await s3.send(
      new PutObjectCommand({
        Bucket: corrupt,
        Key: manifestKey,
        Body: await readObject(bucket, manifestKey),
      }),
    );
    const path = writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: corrupt,
      targets: { prod: { secret: prodSecret } },
    });
    const dump = await readObject(bucket, backupKey);
    const flipped = Buffer.from(dump);
    flipped[dump.length - 100] = (dump[dump.length - 100] ?? 0) ^ 0xff; // one flipped byte
    const damaged = { flipped, truncated: dump.subarray(0, dump.length - 1000) };
    for (const [how, body] of Object.entries(damaged)) {
      await s3.send(new PutObjectCommand({ Bucket: corrupt, Key: backupKey, Body: body }));
      const before = await databasesLike(prod.name);
      const out = await runCli([
        'restore',
        '--config',
        path,
        '--target',
        'prod',
        '--into',
        `${prod.name}_${how}`,
      ]);
      expect(out.code, how).toBe(1);
      expect(out.stderr, how).toMatch(/does not match its manifest .*nothing was restored/);
      expect(await databasesLike(prod.name), how).toEqual(before);
    }
  });

  it('an unknown backup key or target gives a clear error', async () => {
    const unknownKey = await restore(
      '--target',
      'prod',
      '--backup',
      'prod/2020/01/01/prod-20200101T000000Z.dump',
    );
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toContain(
      'not found; list the verified backups with `pgmaint backups --target prod`',
    );
    const unknownFrom = await restore('--target', 'prod', '--from', 'nope');
    expect(unknownFrom.code).toBe(2);
    expect(unknownFrom.stderr).toContain('from: "nope" is not in the config');
    const unknownTarget = await restore('--target', 'nope');
    expect(unknownTarget.code).toBe(2);
    expect(unknownTarget.stderr).toContain('"nope" is not in the config');
  });

  it('a restore that fails midway drops its half-made database and leaves live untouched', async () => {
    // A CHECK that only held while a session setting was on: COPY fails on restore.
    const fragile = await createTestDatabase('restore_fragile');
    try {
      await fragile.sql(`
        create table ok_rows (id int); insert into ok_rows select generate_series(1, 100);
        create table guarded (id int check (coalesce(current_setting('app.allow', true), 'no') = 'yes'));
        set app.allow = 'yes'; insert into guarded values (1);
      `);
      const secret = await createRdsSecret(fragile.settings);
      const path = writeConfig({
        alerts: { topicArn: inbox.topicArn },
        backupBucket: bucket,
        targets: { fragile: { secret } },
      });
      expect((await runCli(['backup', '--config', path, '--target', 'fragile'])).code).toBe(0);
      const out = await runCli(['restore', '--config', path, '--target', 'fragile']);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/pg_restore failed .*guarded/s);
      expect(await databasesLike(`${fragile.name}_`)).toEqual([]);
      expect(await fragile.sql('select count(*)::int as n from ok_rows')).toEqual([{ n: 100 }]);
    } finally {
      await fragile.drop();
    }
  });

  it('refreshes staging from prod with replace: the old staging is kept, its sessions ended at the swap', async () => {
    const session = new Client({ connectionString: adminUrl(staging.name) });
    await session.connect();
    session.on('error', () => {});
    const out = await restore(
      '--target',
      'staging',
      '--from',
      'prod',
      '--replace',
      '--confirm',
      staging.name,
    );
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({
      status: 'restored',
      mode: 'replace',
      from: 'prod',
      database: staging.name,
    });
    expect(result.keptAs).toMatch(new RegExp(`^${staging.name}_pre_restore_\\d{12}$`));
    expect(await databaseText(staging, staging.name)).toBe(prodText);
    const kept = new Client({ connectionString: adminUrl(result.keptAs) });
    await kept.connect();
    expect((await kept.query('select count(*)::int as n from staging_only')).rows).toEqual([{ n: 2 }]);
    await kept.end();
    await expect(session.query('select 1')).rejects.toThrow();
  });

  it('a drill restores the latest backup, compares exact counts, drops its database and records the outcome', async () => {
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: bucket,
      alerts: { topicArn: inbox.topicArn },
      targets: { prod: { secret: prodSecret } },
    });
    const result = ranHere(
      await handler(
        { target: 'prod', drill: true },
        { awsRequestId: 'drill-1', getRemainingTimeInMillis: () => 900_000 },
      ),
    );
    expect(result).toMatchObject({
      status: 'passed',
      mode: 'drill',
      database: `${prod.name}_pgmaint_drill`,
      mismatches: [],
    });
    expect(await databasesLike(`${prod.name}_pgmaint_drill`)).toEqual([]);
    const record = JSON.parse((await readObject(bucket, 'state/prod/restore-drill.json')).toString());
    expect(record).toMatchObject({ status: 'passed', backupKey: result.backupKey, mismatches: [] });
  });

  it('a drill whose counts differ from the backup fails, alerts once and records the failure', async () => {
    const latest = JSON.parse(
      (await runCli(['backups', '--config', config(), '--target', 'prod', '--json'])).stdout,
    ).backups[0].key;
    const manifestKey = `${latest}.manifest.json`;
    const manifest = JSON.parse((await readObject(bucket, manifestKey)).toString());
    const invoices = manifest.tables.find((t: { name: string }) => t.name === 'invoices');
    invoices.rowCount += 1; // the backup "saw" one more row than the restore will find
    await s3Client().send(
      new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: JSON.stringify(manifest) }),
    );
    inbox = await createTopicInbox();
    const out = await restore('--target', 'prod', '--drill');
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout || '{}');
    expect(out.stderr + out.stdout).toContain('failed');
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
    expect(messages[0]?.message).toContain('billing.invoices');
    const record = JSON.parse((await readObject(bucket, 'state/prod/restore-drill.json')).toString());
    expect(record.status).toBe('failed');
    expect(record.mismatches).toEqual([
      { table: 'billing.invoices', expected: invoices.rowCount, actual: invoices.rowCount - 1 },
    ]);
    expect(await databasesLike(`${prod.name}_pgmaint_drill`)).toEqual([]);
    expect(result).toBeDefined();
  });
});
