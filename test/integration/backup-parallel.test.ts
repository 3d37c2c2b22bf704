import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { settingsFromUrl } from '../../functions/shared/credentials';
import {
  bucketState,
  createBucket,
  createRdsSecret,
  createTopicInbox,
  type Inbox,
  readObject,
} from '../helpers/aws';
import { runBinary, writeConfig } from '../helpers/cli';
import {
  createTestDatabase,
  incompressibleTableSql,
  type TestDatabase,
  withAdmin,
} from '../helpers/database';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { databaseText, FIDELITY_SCHEMA } from '../helpers/fidelity';
import { type LocalPostgres, serverBindir, startLocalPostgres } from '../helpers/local-postgres';

const TABLES = ['t1', 't2', 't3', 't4'];

/**
 * backup.jobs 2: pg_dump --format=directory --jobs 2 to local disk, each file uploaded, then
 * listed, restored and drilled like a custom-format backup; and every fault ends with one alert
 * and nothing that could pass for a backup. pgmaint runs as its own process, as a task would.
 */
describe('parallel (directory-format) backup → list → restore, and its faults', () => {
  let db: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let secret: string;
  let proxy: FaultProxy;
  const motoEndpoint = process.env.AWS_ENDPOINT_URL ?? '';
  const restored: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('backup_parallel');
    // Four tables of ~8 MB of incompressible bytes: several files, uploads that take a moment.
    for (const table of TABLES) await db.sql(incompressibleTableSql(table, 8000));
    bucket = await createBucket();
    inbox = await createTopicInbox();
    secret = await createRdsSecret(db.settings);
    proxy = await startFaultProxy(motoEndpoint);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    for (const name of restored)
      await withAdmin((c) => c.query(`drop database if exists ${name} with (force)`)).catch(() => {});
    await db?.drop();
  });

  const config = () =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { prod: { secret, backup: { jobs: 2 } } },
    });
  const withEndpoint = (endpoint: string) => ({ ...process.env, AWS_ENDPOINT_URL: endpoint });

  async function databaseExists(name: string) {
    const { rows } = await withAdmin((c) => c.query('select 1 from pg_database where datname = $1', [name]));
    return rows.length > 0;
  }

  let good: { key: string; files: Array<{ name: string; bytes: number; sha256: string }> };

  it('stores every file with its hash, and a manifest listing them', async () => {
    const out = await runBinary(['backup', '--config', config(), '--target', 'prod', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ status: 'succeeded', format: 'directory', jobs: 2 });
    // Four tables dumped by two workers: the first tables' files go up while the others dump.
    expect(result.uploadedDuringDump).toBeGreaterThan(0);
    expect(result.key).toMatch(/^prod\/\d{4}\/\d{2}\/\d{2}\/prod-\d{8}T\d{9}Z\.dir$/);
    const manifest = JSON.parse((await readObject(bucket, result.manifestKey)).toString());
    expect(manifest).toMatchObject({ format: 'directory', jobs: 2, rowCountsExact: true });
    const names = manifest.files.map((f: { name: string }) => f.name);
    expect(names).toContain('toc.dat');
    // One data file per table, at least.
    expect(names.filter((n: string) => /^\d+\.dat/.test(n)).length).toBeGreaterThanOrEqual(TABLES.length);
    for (const file of manifest.files) {
      const bytes = await readObject(bucket, `${result.key}/${file.name}`);
      expect(bytes.length).toBe(file.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    }
    expect(manifest.bytes).toBe(manifest.files.reduce((s: number, f: { bytes: number }) => s + f.bytes, 0));
    const listing = manifest.files
      .map((f: { name: string; sha256: string }) => `${f.sha256}  ${f.name}\n`)
      .join('');
    expect(createHash('sha256').update(listing).digest('hex')).toBe(manifest.sha256);
    // Counted in pg_dump's snapshot: exact.
    expect(manifest.tables.find((t: { name: string }) => t.name === 't1')?.rowCount).toBe(8000);
    good = { key: result.key, files: manifest.files };
    expect(await inbox.messages({ expect: 0 })).toEqual([]);
  }, 120_000);

  it('lists it like any backup, marked as directory format', async () => {
    const out = await runBinary(['backups', '--config', config(), '--target', 'prod', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const listed = JSON.parse(out.stdout).backups;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ key: good.key, format: 'directory' });
  });

  it('restores it with pg_restore -j into a copy equal to the source, and drills it', async () => {
    const into = `${db.name}_par`;
    restored.push(into);
    const out = await runBinary([
      'restore',
      '--config',
      config(),
      '--target',
      'prod',
      '--into',
      into,
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      status: 'restored',
      mismatches: [],
      rowCountsVerified: true,
    });
    expect(await databaseText(db, into)).toBe(await databaseText(db, db.name));

    const drill = await runBinary(['restore', '--config', config(), '--target', 'prod', '--drill', '--json']);
    expect(drill.code, drill.stderr).toBe(0);
    expect(JSON.parse(drill.stdout)).toMatchObject({ status: 'passed', backupKey: good.key });
  }, 180_000);

  /** A failing backup: exit 1, one alert saying why, the bucket exactly as before. */
  async function expectCleanBackupFailure(
    run: () => Promise<{ code: number | null; stderr: string }>,
    why: RegExp,
  ) {
    inbox = await createTopicInbox();
    const before = await bucketState(bucket);
    const out = await run();
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toMatch(why);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED backup prod');
    expect(messages[0]?.message).toMatch(why);
    expect(await bucketState(bucket)).toEqual({ objects: before.objects, incompleteUploads: [] });
  }

  it("pg_dump's backend terminated mid-dump: no manifest, no files left", async () => {
    const killer = (async () => {
      for (let i = 0; i < 3000; i++) {
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
    await expectCleanBackupFailure(async () => {
      const out = await runBinary(['backup', '--config', config(), '--target', 'prod']);
      expect(await killer).toBe(true);
      return out;
    }, /pg_dump failed/);
  }, 120_000);

  it('the S3 endpoint gone mid-upload: the uploaded files are removed', async () => {
    proxy.cutAfter(10 * 1024 * 1024, 4_000);
    await expectCleanBackupFailure(
      () => runBinary(['backup', '--config', config(), '--target', 'prod'], withEndpoint(proxy.endpoint)),
      /upload to s3:\/\/.* failed/,
    );
    expect(proxy.cuts).toBe(1);
  }, 180_000);

  /** A restore refused before anything is created: exit 1, one alert, no database. */
  async function expectRefusedRestore(into: string, why: RegExp) {
    inbox = await createTopicInbox();
    const out = await runBinary([
      'restore',
      '--config',
      config(),
      '--target',
      'prod',
      '--backup',
      good.key,
      '--into',
      into,
    ]);
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toMatch(why);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
    expect(await databaseExists(into)).toBe(false);
  }

  it('a stored file corrupted afterwards: the restore refuses before creating anything', async () => {
    const victim = good.files.find((f) => /^\d+\.dat/.test(f.name));
    if (!victim) throw new Error('the backup has no data file');
    const key = `${good.key}/${victim.name}`;
    const original = await readObject(bucket, key);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] ?? 0) ^ 0xff;
    await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: corrupt }));
    try {
      await expectRefusedRestore(
        `${db.name}_corrupt`,
        new RegExp(`file ${victim.name.replace('.', '\\.')} does not match its manifest`),
      );
    } finally {
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original }));
    }
  }, 120_000);

  it('a stored file missing afterwards: the restore refuses before creating anything', async () => {
    const key = `${good.key}/toc.dat`;
    const original = await readObject(bucket, key);
    await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    try {
      await expectRefusedRestore(`${db.name}_missing`, /file toc\.dat could not be read/);
    } finally {
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original }));
    }
  }, 120_000);
});

// The test server above is PostgreSQL 15, restored through pg_restore's script (one transaction,
// psql). Into 17 and newer pg_restore connects itself: there a directory backup restores with -j.
describe('a parallel backup restored with pg_restore -j into PostgreSQL 18', () => {
  let server: LocalPostgres;
  let url: string;
  let storeDir: string;

  beforeAll(async () => {
    server = await startLocalPostgres({
      bindir: serverBindir(18),
      extraSettings: { shared_buffers: "'32MB'" },
    });
    storeDir = mkdtempSync(join(tmpdir(), 'pgmaint-parallel-18-'));
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database app');
    await admin.end();
    const target = new URL(server.url);
    target.pathname = '/app';
    url = target.toString();
    const app = new Client({ connectionString: url });
    await app.connect();
    await app.query(FIDELITY_SCHEMA);
    for (const table of TABLES)
      await app.query(
        `create table ${table} as select g as id, md5(g::text) as note from generate_series(1, 20000) g`,
      );
    await app.end();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it('backs up in directory format and restores an equal copy', async () => {
    const config = writeConfig({
      backupBucket: `file://${storeDir}`,
      targets: { t: { url, backup: { jobs: 2 } } },
    });
    const backup = await runBinary(['backup', '--config', config, '--target', 't', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ format: 'directory', jobs: 2 });
    const restore = await runBinary([
      'restore',
      '--config',
      config,
      '--target',
      't',
      '--into',
      'app_copy',
      '--json',
    ]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ status: 'restored', mismatches: [] });
    const settings = settingsFromUrl(url);
    expect(await databaseText({ settings }, 'app_copy')).toBe(await databaseText({ settings }, 'app'));
  }, 180_000);
});
