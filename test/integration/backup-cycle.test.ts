import { createHash } from 'node:crypto';
import { ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/backup/handler';
import type { BackupResult } from '../../functions/backup/run-backup';
import { s3Client } from '../../functions/shared/aws';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ranHere } from '../helpers/handler-result';

describe('backup → list → verify, against PostgreSQL and S3 (moto)', () => {
  let db: TestDatabase;
  let bucket: string;
  let inbox: Inbox;
  let secret: string;

  beforeAll(async () => {
    db = await createTestDatabase('backup_cycle');
    await db.sql(`
      create table customers (id bigserial primary key, name text not null, created_at timestamptz default now());
      insert into customers (name) select 'customer ' || g from generate_series(1, 5000) g;
      create table events (id bigint generated always as identity, payload jsonb);
      insert into events (payload) select jsonb_build_object('n', g, 'pad', repeat('x', 200)) from generate_series(1, 20000) g;
    `);
    bucket = await createBucket();
    inbox = await createTopicInbox();
    secret = await createRdsSecret(db.settings);
  });
  afterAll(async () => db?.drop());

  const config = (backup: Record<string, unknown> = {}) =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { prod: { secret, backup: { retentionDays: 30, ...backup } } },
    });

  it('streams a verified dump to S3 with a manifest and globals, and lists it', async () => {
    const out = await runCli(['backup', '--config', config(), '--target', 'prod', '--json']);
    expect(out.stderr).not.toMatch(/FAILED|rror/);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ target: 'prod', status: 'succeeded', database: db.name });
    expect(result.key).toMatch(/^prod\/\d{4}\/\d{2}\/\d{2}\/prod-\d{8}T\d{9}Z\.dump$/);
    expect(result.manifestKey).toBe(`${result.key}.manifest.json`);
    expect(result.bytes).toBeGreaterThan(1000);
    expect(result.durationMs).toBeGreaterThan(0);
    // The PostgreSQL 18 client, as in the Lambda image: zstd, not the gzip of clients before 16.
    expect(result.compression).toMatch(/^zstd:/);

    // The stored bytes are the ones hashed: read them back and compare.
    const s3 = s3Client();
    const bytes = await readObject(bucket, result.key);
    expect(bytes.length).toBe(result.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.sha256);
    expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');

    const manifest = JSON.parse((await readObject(bucket, result.manifestKey)).toString());
    expect(manifest).toMatchObject({
      target: 'prod',
      sha256: result.sha256,
      bytes: result.bytes,
      rowCountsExact: true,
    });
    expect(manifest.tables).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ schema: 'public', name: 'customers', rowCount: 5000 }),
        expect.objectContaining({ schema: 'public', name: 'events', rowCount: 20000 }),
      ]),
    );
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((c) => c.Key);
    expect(keys).toContain(`${result.key}.globals.sql`);

    const listing = await runCliJson(['backups', '--config', config(), '--target', 'prod', '--json']);
    expect(listing.target).toBe('prod');
    expect(listing.backups[0]).toMatchObject({ key: result.key, bytes: result.bytes, sha256: result.sha256 });
    expect(listing.backups[0].finishedAt).toBe(manifest.finishedAt);
    // The newest backup is kept by the default policy's keepAtLeast and retentionDays.
    expect(listing.backups[0].keptBy).toEqual(['keepAtLeast', 'retentionDays']);
    expect(await inbox.messages({ expect: 0 })).toHaveLength(0);
  });

  it('the Lambda handler backs up too, and a dump without a manifest is not listed', async () => {
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: bucket,
      targets: { prod: { secret } },
    });
    const result = ranHere(
      await handler({ target: 'prod' }, { awsRequestId: 'b-1', getRemainingTimeInMillis: () => 900_000 }),
    ) as BackupResult;
    expect(result.status).toBe('succeeded');
    const s3 = s3Client();
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'prod/2099/01/01/prod-20990101T000000Z.dump',
        Body: 'PGDMP not really',
      }),
    );
    const listing = JSON.parse(
      (await runCli(['backups', '--config', config(), '--target', 'prod', '--json'])).stdout,
    );
    expect(listing.backups.map((b: { key: string }) => b.key)).not.toContain(
      'prod/2099/01/01/prod-20990101T000000Z.dump',
    );
    expect(listing.backups[0].key).toBe(result.key);
  });
});
