import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { createBucket, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';

/**
 * `databases: "*"` on a server of its own (the shared test server holds every other file's
 * databases, which "*" would back up too). pgmaint connects as a role that reads everything
 * (pg_read_all_data) but may not connect to one database, so that database fails for real.
 */
describe('backup of every database on a server', () => {
  let server: LocalPostgres;
  let bucket: string;
  let inbox: Inbox;
  let url: string;
  const ROLE_PASSWORD = 'srv-pw-1';

  const admin = async <T>(database: string, work: (client: Client) => Promise<T>) => {
    const at = new URL(server.url);
    at.pathname = `/${database}`;
    const client = new Client({ connectionString: at.toString() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    server = await startLocalPostgres();
    await admin('postgres', async (c) => {
      await c.query(`create role pgmaint_srv login createdb password '${ROLE_PASSWORD}'`);
      await c.query('grant pg_read_all_data to pgmaint_srv');
      for (const name of ['app', 'billing', 'locked']) await c.query(`create database ${name}`);
      await c.query('revoke connect on database locked from public');
    });
    await admin('app', (c) =>
      c.query(`
        create table customers (id int primary key, name text);
        insert into customers select g, 'c' || g from generate_series(1, 300) g;
        create table audit_log (id bigint generated always as identity, at timestamptz default now(), what text);
        insert into audit_log (what) select 'event ' || g from generate_series(1, 1000) g;
        create table tmp_import (id int);
        insert into tmp_import select generate_series(1, 10);
        -- Not on the search path: an unqualified pattern does not reach it, in pg_dump or the counts.
        create schema other;
        create table other.tmp_keep (id int);
        insert into other.tmp_keep select generate_series(1, 5);
        create schema scratch;
        create table scratch.work (id int);
        insert into scratch.work select generate_series(1, 20);
        analyze;
      `),
    );
    await admin('billing', (c) =>
      c.query(`
        create table invoices (id int primary key, cents bigint);
        insert into invoices select g, g * 100 from generate_series(1, 50) g;
      `),
    );
    await admin('locked', (c) => c.query('create table secrets (id int); insert into secrets values (1);'));
    bucket = await createBucket();
    inbox = await createTopicInbox();
    url = `postgres://pgmaint_srv:${ROLE_PASSWORD}@127.0.0.1:${server.port}/postgres`;
  }, 120_000);
  afterAll(async () => server?.stop());

  const config = (target: Record<string, unknown> = {}, backup: Record<string, unknown> = {}) =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: {
        srv: {
          url,
          databases: '*',
          exclude: ['postgres'],
          backup: {
            jobs: 1,
            countRows: true,
            excludeSchemas: ['scratch'],
            excludeTables: ['tmp_*'],
            excludeTableData: ['public.audit_log'],
            ...backup,
          },
          ...target,
        },
      },
    });
  const keys = async (prefix: string) =>
    (
      (await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []
    ).map((c) => c.Key ?? '');
  const manifest = async (key: string) => JSON.parse((await readObject(bucket, key)).toString());

  let firstGlobals: string;
  let firstAppKey: string;

  it('backs up each database on its own; the one it cannot read fails the run with ONE alert naming it', async () => {
    const out = await runCli(['backup', '--config', config(), '--target', 'srv']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('1 of 3 database(s) failed: "locked"');
    expect(out.stderr).toMatch(/permission denied for database "?locked"?/);

    const alerts = await inbox.messages({ expect: 1 });
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]?.message ?? '';
    expect(alert).toContain('"locked"');
    // What the others did: backed up, with their keys.
    expect(alert).toMatch(
      /backed up and verified: "app" \(srv\/databases\/app\/.*\), "billing" \(srv\/databases\/billing\//,
    );
    const result = JSON.parse(alert.slice(alert.indexOf('result:') + 'result:'.length));
    expect(result.databases.map((d: { database: string; status: string }) => [d.database, d.status])).toEqual(
      [
        ['app', 'succeeded'],
        ['billing', 'succeeded'],
        ['locked', 'failed'],
      ],
    );
    expect(result.excluded).toEqual(['postgres']);

    // Globals once for the server; each database's own manifest names them.
    const globals = await keys('srv/globals/');
    expect(globals).toHaveLength(1);
    firstGlobals = globals[0] ?? '';
    expect((await readObject(bucket, firstGlobals)).toString()).toContain('CREATE ROLE pgmaint_srv');
    const manifests = (await keys('srv/')).filter((k) => k.endsWith('.manifest.json'));
    expect(manifests).toHaveLength(2);
    for (const database of ['app', 'billing']) {
      const key = manifests.find((k) => k.startsWith(`srv/databases/${database}/`));
      expect(key, `${database}'s manifest`).toBeDefined();
      expect(await manifest(key ?? '')).toMatchObject({ target: 'srv', database, globalsKey: firstGlobals });
    }
    expect(await keys('srv/databases/locked/')).toEqual([]);

    // The excludes are recorded, and the counts hold exactly what pg_dump was told to keep.
    const app = await manifest(manifests.find((k) => k.includes('/app/')) ?? '');
    expect(app.excludes).toEqual({
      schemas: ['scratch'],
      tables: ['tmp_*'],
      tableData: ['public.audit_log'],
    });
    const tables = app.tables.map(
      (t: { schema: string; name: string; rowCount: number; dataExcluded?: true }) => [
        `${t.schema}.${t.name}`,
        t.rowCount,
        t.dataExcluded ?? false,
      ],
    );
    expect(tables).toEqual([
      ['other.tmp_keep', 5, false],
      ['public.audit_log', 0, true],
      ['public.customers', 300, false],
    ]);
    firstAppKey = app.key;
    expect(firstAppKey).toMatch(/^srv\/databases\/app\/\d{4}\/\d{2}\/\d{2}\/srv-app-\d{8}T\d{9}Z\.dump$/);
  });

  it('picks up a database created since the last run, in directory format too', async () => {
    await admin('postgres', async (c) => {
      await c.query('create database newdb');
      await c.query('grant connect on database locked to pgmaint_srv');
    });
    await admin('newdb', (c) =>
      c.query('create table t (id int); insert into t select generate_series(1, 7);'),
    );
    const result = await runCliJson([
      'backup',
      '--config',
      config({}, { jobs: 2 }),
      '--target',
      'srv',
      '--json',
    ]);
    expect(result.databases.map((d: { database: string; format: string }) => [d.database, d.format])).toEqual(
      [
        ['app', 'directory'],
        ['billing', 'directory'],
        ['locked', 'directory'],
        ['newdb', 'directory'],
      ],
    );
    // One more globals object for this run, not one per database.
    expect(await keys('srv/globals/')).toHaveLength(2);
    const listed = await runCli(['backups', '--config', config(), '--target', 'srv', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const backups: Array<{ database: string; key: string; format: string; keptBy: string[] }> = JSON.parse(
      listed.stdout,
    ).backups;
    const count = (database: string) => backups.filter((b) => b.database === database).length;
    expect([count('app'), count('billing'), count('locked'), count('newdb')]).toEqual([2, 2, 1, 1]);
    // Retention counts each database on its own: every database's newest is kept by keepAtLeast.
    for (const b of backups) expect(b.keptBy).toContain('keepAtLeast');
    expect(backups[0]?.format).toBe('directory');
    const text = await runCli(['backups', '--config', config(), '--target', 'srv']);
    expect(text.stdout).toMatch(/ newdb +\d/);
  });

  it("lists one database's backups with --database, and refuses it for a target of one database", async () => {
    const list = (...args: string[]) =>
      runCliJson<{ database?: string; backups: Array<{ database: string; key: string }> }>([
        'backups',
        '--config',
        config(),
        '--target',
        'srv',
        '--json',
        ...args,
      ]);
    const all = (await list()).backups;
    const app = await list('--database', 'app');
    expect(app.database).toBe('app');
    expect(app.backups.map((b) => b.key)).toEqual(all.filter((b) => b.database === 'app').map((b) => b.key));
    expect(app.backups).toHaveLength(2);
    expect((await list('--database', 'newdb')).backups.map((b) => b.database)).toEqual(['newdb']);
    // "app" is a prefix of nothing else here, but "app_old" would not be listed under "app" either.
    expect((await list('--database', 'ap')).backups).toEqual([]);
    const text = await runCli(['backups', '--config', config(), '--target', 'srv', '--database', 'nosuch']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('srv: no verified backups of database "nosuch" in ');
    const one = writeConfig({ backupBucket: bucket, targets: { app: { url } } });
    const refused = await runCli(['backups', '--config', one, '--target', 'app', '--database', 'app']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'database: target "app" backs up one database; leave out --database, it is for targets with "databases"',
    );
  });

  it("restores one database's latest backup: excluded data comes back empty, excluded tables not at all", async () => {
    const result = await runCliJson([
      'restore',
      '--config',
      config(),
      '--target',
      'srv',
      '--database',
      'app',
      '--into',
      'app_copy',
      '--json',
    ]);
    expect(result).toMatchObject({
      status: 'restored',
      database: 'app_copy',
      mismatches: [],
      rowCountsVerified: true,
    });
    expect(result.backupKey).toMatch(/^srv\/databases\/app\/.*\.dir$/);
    const restored = await admin('app_copy', async (c) => ({
      audit: (await c.query('select count(*)::int as n from audit_log')).rows[0]?.n,
      customers: (await c.query('select count(*)::int as n from customers')).rows[0]?.n,
      others: (
        await c.query(
          "select table_schema || '.' || table_name as t from information_schema.tables where table_name in ('tmp_import', 'work') or table_schema = 'scratch'",
        )
      ).rows,
    }));
    expect(restored).toEqual({ audit: 0, customers: 300, others: [] });

    // The first run's one-stream (custom-format) backup, named by its key, checks the same way.
    const custom = await runCliJson([
      'restore',
      '--config',
      config(),
      '--target',
      'srv',
      '--database',
      'app',
      '--backup',
      firstAppKey,
      '--into',
      'app_custom',
      '--json',
    ]);
    expect(custom).toMatchObject({
      status: 'restored',
      backupKey: firstAppKey,
      mismatches: [],
    });
    const kept = await admin('app_custom', async (c) => ({
      keep: (await c.query('select count(*)::int as n from other.tmp_keep')).rows[0]?.n,
      audit: (await c.query('select count(*)::int as n from audit_log')).rows[0]?.n,
    }));
    expect(kept).toEqual({ keep: 5, audit: 0 });
    // A key of another database is not a backup of this one.
    const wrong = await runCli([
      'restore',
      '--config',
      config(),
      '--target',
      'srv',
      '--database',
      'billing',
      '--backup',
      firstAppKey,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is a backup of database "app", not "billing"');

    const drill = await runCliJson([
      'restore',
      '--config',
      config(),
      '--target',
      'srv',
      '--database',
      'billing',
      '--drill',
      '--json',
    ]);
    expect(drill).toMatchObject({ status: 'passed', mismatches: [] });
  });

  it('asks which database to restore, and refuses jobs that work inside one database', async () => {
    const restore = await runCli(['restore', '--config', config(), '--target', 'srv']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('name the one to restore with --database');
    const retention = await runCli(['retention', '--config', config(), '--target', 'srv']);
    expect(retention.code).toBe(2);
    expect(retention.stderr).toContain('"dbname": "<database>"');
    // The advice works: a target of its own with the same credentials and dbname.
    const server = url.replace(/\/postgres$/, '');
    const split = writeConfig({ backupBucket: bucket, targets: { app: { url: server, dbname: 'app' } } });
    const health = await runCli([
      'health',
      '--config',
      split,
      '--target',
      'app',
      '--check',
      'connection',
      '--json',
    ]);
    expect(JSON.parse(health.stdout).checks[0]).toMatchObject({ name: 'connection', status: 'ok' });
  });

  it('refuses dbname given both ways before connecting anywhere', async () => {
    const both = writeConfig({
      backupBucket: bucket,
      targets: { srv: { url, databases: '*', dbname: 'app' } },
    });
    const out = await runCli(['backup', '--config', both, '--target', 'srv']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('give "dbname" (one database) or "databases" (several), not both');
  });
});
