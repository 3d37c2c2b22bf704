import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../functions/shared/aws';
import { createBucket, createRdsSecret, uniqueName } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';

const REGION = 'eu-central-1';

describe('backup.copies: off-site copies verified at the destination (moto)', () => {
  let db: TestDatabase;
  let secret: string;
  let primary: string;
  let offsite: string;
  const remote = new S3Client({ region: REGION, forcePathStyle: true });

  beforeAll(async () => {
    db = await createTestDatabase('backup_copies');
    await db.sql(`create table orders (id int primary key, note text);
      insert into orders select g, 'order ' || g from generate_series(1, 2500) g;`);
    secret = await createRdsSecret(db.settings);
    primary = await createBucket();
    offsite = uniqueName('pgmaint-offsite');
    await remote.send(
      new CreateBucketCommand({ Bucket: offsite, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
  });
  afterAll(async () => db?.drop());

  const config = (copies: unknown[]) =>
    writeConfig({
      backupBucket: primary,
      targets: { prod: { secret, backup: { copies, jobs: 1 }, health: { thresholds: {} } } },
    });
  const withCopy = () => config([{ bucket: offsite, region: REGION }]);
  const backupCopies = async () => {
    const out = await runCli(['health', '--config', withCopy(), '--target', 'prod', '--json']);
    const result = JSON.parse(out.stdout) as {
      checks: Array<{ name: string; status: string; value: number; message: string }>;
    };
    return result.checks.find((c) => c.name === 'backup_copies');
  };

  it('copies a verified backup, checks it at the destination, lists it, and restores from it when the primary is gone', async () => {
    const backup = await runCliJson(['backup', '--config', withCopy(), '--target', 'prod', '--json']);
    const firstFinished = Date.now();
    expect(backup.copies).toEqual([
      expect.objectContaining({ bucket: offsite, region: REGION, sha256: backup.sha256 }),
    ]);
    // At the destination: the same bytes, and the manifest written last beside them.
    const copied = await remote.send(new GetObjectCommand({ Bucket: offsite, Key: backup.key }));
    const bytes = Buffer.from(
      await (copied.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup.sha256);
    const remoteKeys = (await remote.send(new ListObjectsV2Command({ Bucket: offsite }))).Contents?.map(
      (c) => c.Key,
    );
    expect(remoteKeys).toEqual(expect.arrayContaining([backup.key, backup.manifestKey, backup.globalsKey]));

    const listed = JSON.parse(
      (await runCli(['backups', '--config', withCopy(), '--target', 'prod', '--json'])).stdout,
    );
    expect(listed.backups[0].copies).toEqual([expect.objectContaining({ bucket: offsite, region: REGION })]);
    expect(await backupCopies()).toMatchObject({ status: 'ok', value: 0 });

    // A later backup made while the copy was not configured: the copy lags, health warns.
    // (Keys have one-second resolution: the next backup must start in a later second than the first
    // finished, or it would take the same key and replace the first one's manifest.)
    const nextSecond = Math.floor(firstFinished / 1000) * 1000 + 1000;
    while (Date.now() < nextSecond) await new Promise((r) => setTimeout(r, 50));
    const uncopied = await runCli(['backup', '--config', config([]), '--target', 'prod', '--json']);
    expect(uncopied.code, uncopied.stderr).toBe(0);
    const lagging = await backupCopies();
    expect(lagging?.status, lagging?.message).toBe('warning');
    expect(lagging?.message).toContain(`the copy in ${REGION} lags the newest backup`);
    expect(lagging?.value).toBeGreaterThan(0);

    // The primary bucket loses everything.
    const s3 = s3Client();
    const all = (await s3.send(new ListObjectsV2Command({ Bucket: primary }))).Contents ?? [];
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: primary,
        Delete: { Objects: all.map((o) => ({ Key: o.Key as string })) },
      }),
    );
    const restored = await runCliJson([
      'restore',
      '--config',
      withCopy(),
      '--target',
      'prod',
      '--copy',
      REGION,
      '--into',
      `${db.name}_from_copy`,
      '--json',
    ]);
    expect(restored).toMatchObject({
      status: 'restored',
      backupKey: backup.key,
      source: `s3://${offsite}`,
      mismatches: [],
    });
    const restoredName = `${db.name}_from_copy`;
    const counted = await withAdmin((c) => c.query('select count(*)::int as n from orders'), restoredName);
    expect(counted.rows[0]?.n).toBe(2500);
    await withAdmin((c) => c.query(`drop database "${restoredName}" with (force)`));
    const unknown = await runCli([
      'restore',
      '--config',
      withCopy(),
      '--target',
      'prod',
      '--copy',
      'us-east-2',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no backup copy in "us-east-2"');
  }, 120_000);

  it('copies every file of a parallel (directory-format) backup, checks each at the destination, and restores from it', async () => {
    const parallelDb = await createTestDatabase('backup_copies_dir');
    try {
      await parallelDb.sql(`create table orders (id int primary key, note text);
        insert into orders select g, 'order ' || g from generate_series(1, 3000) g;
        create table customers (id int primary key, name text);
        insert into customers select g, 'customer ' || g from generate_series(1, 700) g;`);
      const parallelSecret = await createRdsSecret(parallelDb.settings);
      const parallelPrimary = await createBucket();
      const parallelOffsite = uniqueName('pgmaint-offsite-dir');
      await remote.send(
        new CreateBucketCommand({
          Bucket: parallelOffsite,
          CreateBucketConfiguration: { LocationConstraint: REGION },
        }),
      );
      const parallelConfig = writeConfig({
        backupBucket: parallelPrimary,
        targets: {
          prod: {
            secret: parallelSecret,
            backup: { jobs: 2, copies: [{ bucket: parallelOffsite, region: REGION }] },
          },
        },
      });
      const backup = await runCliJson(['backup', '--config', parallelConfig, '--target', 'prod', '--json']);
      expect(backup).toMatchObject({ format: 'directory', jobs: 2 });
      expect(backup.copies).toEqual([
        expect.objectContaining({ bucket: parallelOffsite, region: REGION, sha256: backup.sha256 }),
      ]);

      // At the destination: every file of the directory, byte for byte as the manifest lists it.
      const read = async (key: string) => {
        const object = await remote.send(new GetObjectCommand({ Bucket: parallelOffsite, Key: key }));
        return Buffer.from(
          await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
      };
      const copiedManifest = JSON.parse((await read(backup.manifestKey)).toString('utf8')) as {
        format: string;
        files: Array<{ name: string; bytes: number; sha256: string }>;
      };
      expect(copiedManifest.format).toBe('directory');
      expect(copiedManifest.files.map((f) => f.name)).toContain('toc.dat');
      expect(copiedManifest.files.length).toBeGreaterThanOrEqual(3);
      for (const file of copiedManifest.files) {
        const bytes = await read(`${backup.key}/${file.name}`);
        expect(bytes.length, file.name).toBe(file.bytes);
        expect(createHash('sha256').update(bytes).digest('hex'), file.name).toBe(file.sha256);
      }
      const listing = await remote.send(
        new ListObjectsV2Command({ Bucket: parallelOffsite, Prefix: `${backup.key}/` }),
      );
      expect((listing.Contents ?? []).map((c) => c.Key).sort()).toEqual(
        copiedManifest.files.map((f) => `${backup.key}/${f.name}`).sort(),
      );

      // The primary bucket loses everything; the copy alone restores.
      const s3 = s3Client();
      const all = (await s3.send(new ListObjectsV2Command({ Bucket: parallelPrimary }))).Contents ?? [];
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: parallelPrimary,
          Delete: { Objects: all.map((o) => ({ Key: o.Key as string })) },
        }),
      );
      const restoredName = `${parallelDb.name}_from_copy`;
      const restored = await runCliJson([
        'restore',
        '--config',
        parallelConfig,
        '--target',
        'prod',
        '--copy',
        REGION,
        '--into',
        restoredName,
        '--json',
      ]);
      expect(restored).toMatchObject({
        status: 'restored',
        backupKey: backup.key,
        source: `s3://${parallelOffsite}`,
        mismatches: [],
        rowCountsVerified: true,
      });
      const counted = await withAdmin(
        (c) =>
          c.query(
            'select (select count(*) from orders)::int as orders, (select count(*) from customers)::int as customers',
          ),
        restoredName,
      );
      expect(counted.rows[0]).toEqual({ orders: 3000, customers: 700 });
      await withAdmin((c) => c.query(`drop database "${restoredName}" with (force)`));
    } finally {
      await parallelDb.drop();
    }
  }, 120_000);
});
