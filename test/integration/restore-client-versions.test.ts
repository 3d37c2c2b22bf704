import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { settingsFromUrl } from '../../functions/shared/credentials';
import { pgToolVersion } from '../../functions/shared/pg-tools';
import { createBucket } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { createFidelitySchema, databaseText, FIDELITY_SCHEMA } from '../helpers/fidelity';
import { type LocalPostgres, serverBindir, startLocalPostgres } from '../helpers/local-postgres';
import { PG_CLIENT_MAJOR } from '../helpers/pg-client-build';

/** Backup, restore and drill of one database through the CLI; returns what each run printed. */
async function cycle(url: string, bucket: string) {
  const path = writeConfig({ backupBucket: bucket, targets: { app: { url } } });
  const backup = await runCli(['backup', '--config', path, '--target', 'app', '--json']);
  expect(backup.code, backup.stderr).toBe(0);
  const restore = await runCli(['restore', '--config', path, '--target', 'app', '--json']);
  expect(restore.code, restore.stderr).toBe(0);
  const drill = await runCli(['restore', '--config', path, '--target', 'app', '--drill', '--json']);
  expect(drill.code, drill.stderr).toBe(0);
  return {
    backup: JSON.parse(backup.stdout),
    restore: JSON.parse(restore.stdout),
    drill: JSON.parse(drill.stdout),
  };
}

/** The source database and the restored copies named after it. */
async function dropDatabasesLike(prefix: string): Promise<void> {
  await withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  });
}

async function serverVersionNum(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query('show server_version_num')).rows[0].server_version_num);
  } finally {
    await client.end();
  }
}

describe('backup → restore → drill with the client the Lambda ships, into older and newer servers', () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await createBucket();
  });

  it(`runs with the PostgreSQL ${PG_CLIENT_MAJOR} client (zstd), not the machine's own`, async () => {
    expect((await pgToolVersion('pg_restore')).major).toBe(PG_CLIENT_MAJOR);
    expect((await pgToolVersion('pg_dump')).major).toBe(PG_CLIENT_MAJOR);
  });

  describe('into PostgreSQL 15 (pg_restore 17+ sets transaction_timeout, which 15 does not know)', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase('client_versions_15');
      await createFidelitySchema(db);
    });
    afterAll(async () => dropDatabasesLike(db.name));

    it('restores a database equal to the source, and a drill passes', async () => {
      expect(await serverVersionNum(db.url)).toBeLessThan(170_000);
      const { backup, restore, drill } = await cycle(db.url, bucket);
      expect(backup.compression).toMatch(/^zstd:/);
      expect(restore).toMatchObject({ status: 'restored', mismatches: [] });
      expect(await databaseText(db, restore.database)).toBe(await databaseText(db, db.name));
      expect(drill).toMatchObject({ status: 'passed', mode: 'drill', mismatches: [] });
    });
  });

  describe('into PostgreSQL 17', () => {
    let server: LocalPostgres;
    let url: string;
    beforeAll(async () => {
      server = await startLocalPostgres({ bindir: serverBindir(17) });
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('create database app');
      await admin.end();
      const appUrl = new URL(server.url);
      appUrl.pathname = '/app';
      url = appUrl.toString();
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(FIDELITY_SCHEMA);
      } finally {
        await client.end();
      }
    }, 120_000);
    afterAll(async () => server?.stop());

    it('restores a database equal to the source, and a drill passes', async () => {
      expect(await serverVersionNum(url)).toBeGreaterThanOrEqual(170_000);
      const { backup, restore, drill } = await cycle(url, bucket);
      expect(backup.compression).toMatch(/^zstd:/);
      expect(restore).toMatchObject({ status: 'restored', mismatches: [] });
      const settings = settingsFromUrl(url);
      expect(await databaseText({ settings }, restore.database)).toBe(
        await databaseText({ settings }, 'app'),
      );
      expect(drill).toMatchObject({ status: 'passed', mismatches: [] });
    });
  });

  describe("with the machine's own PostgreSQL 15 client, as CLI users run it", () => {
    let db: TestDatabase;
    const lambdaClient = process.env.PGMAINT_PG_BINDIR;
    beforeAll(async () => {
      process.env.PGMAINT_PG_BINDIR = inject('pgBindir');
      db = await createTestDatabase('client_versions_debian');
      await createFidelitySchema(db);
    });
    afterAll(async () => {
      process.env.PGMAINT_PG_BINDIR = lambdaClient;
      await dropDatabasesLike(db.name);
    });

    it('backs up with gzip and restores a database equal to the source', async () => {
      expect((await pgToolVersion('pg_restore')).major).toBe(15);
      const { backup, restore, drill } = await cycle(db.url, bucket);
      expect(backup.compression).toMatch(/^gzip:/);
      expect(restore).toMatchObject({ status: 'restored', mismatches: [] });
      expect(await databaseText(db, restore.database)).toBe(await databaseText(db, db.name));
      expect(drill).toMatchObject({ status: 'passed', mismatches: [] });
    });
  });
});
