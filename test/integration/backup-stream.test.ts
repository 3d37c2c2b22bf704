import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamVerifiedDump } from '../../functions/backup/stream-verified-dump';
import { s3Client } from '../../functions/shared/aws';
import { libpqEnv } from '../../functions/shared/credentials';
import { pgToolPath } from '../../functions/shared/pg-tools';
import { s3Store } from '../../functions/shared/store';
import { spawnTool } from '../../functions/shared/tool-process';
import { createBucket } from '../helpers/aws';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * The stream's own guarantees, one by one: whatever "pg_dump" writes and however it ends, the upload
 * completes only for a whole archive that pg_restore read to the end. The dump side here is a real
 * process replaying (parts of) a real pg_dump archive, so each way of going wrong is exact; the
 * verifier is the real pg_restore and the store is S3 in the emulator.
 */
describe('streamVerifiedDump: only a whole, readable archive is stored', () => {
  let db: TestDatabase;
  let bucket: string;
  let work: string;
  let archive: string;

  beforeAll(async () => {
    db = await createTestDatabase('backup_stream');
    await db.sql(`
      create table events (id bigint primary key, payload text);
      insert into events select g, md5(g::text) || repeat('x', 100) from generate_series(1, 50000) g;
    `);
    work = mkdtempSync(join(tmpdir(), 'pgmaint-stream-'));
    archive = join(work, 'whole.dump');
    execFileSync(pgToolPath('pg_dump'), ['--format=custom', `--file=${archive}`], {
      env: { ...process.env, ...libpqEnv(db.settings, 'test') },
    });
    bucket = await createBucket();
  });
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await db?.drop();
  });

  /** Streams what `script` (a shell snippet; $ARCHIVE is the whole archive) writes, as if pg_dump. */
  async function stream(key: string, script: string) {
    const dump = spawnTool('/bin/sh', ['-c', script], { ARCHIVE: archive });
    const verifier = spawnTool(pgToolPath('pg_restore'), ['--file=/dev/null'], {}, 'pipe');
    return streamVerifiedDump({
      store: s3Store(s3Client(), bucket),
      key,
      dump,
      verifier,
      signal: new AbortController().signal,
    });
  }

  async function leftUnder(key: string) {
    const s3 = s3Client();
    const objects = (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }))).Contents ?? [];
    const uploads =
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? [];
    return [...objects.map((o) => `object ${o.Key}`), ...uploads.map((u) => `upload ${u.Key}`)];
  }

  it('stores a whole archive, with its SHA-256 and size', async () => {
    const result = await stream('ok.dump', 'cat "$ARCHIVE"');
    const expected = execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0];
    expect(result.sha256).toBe(expected);
    expect(await leftUnder('ok.dump')).toEqual(['object ok.dump']);
  });

  it.each([
    [
      'truncated, although the dump exited 0',
      'head -c 200000 "$ARCHIVE"',
      /pg_restore could not read the archive/,
    ],
    [
      'not an archive at all',
      'yes "not a dump" | head -c 300000',
      /does not start with the PGDMP archive header/,
    ],
    ['empty', 'true', /wrote no bytes/],
    [
      'whole, but the dump failed at the end',
      'cat "$ARCHIVE"; echo "pg_dump: error: boom" >&2; exit 3',
      /pg_dump failed \(exit 3\).*boom/s,
    ],
    [
      'a whole archive followed by more bytes pg_restore never read',
      'cat "$ARCHIVE"; sleep 1; cat "$ARCHIVE"',
      /stopped reading before the archive ended/,
    ],
  ])('%s: fails and leaves nothing under the key', async (name, script, why) => {
    const key = `${name.replace(/\W+/g, '-')}.dump`;
    await expect(stream(key, script)).rejects.toThrow(why);
    expect(await leftUnder(key)).toEqual([]);
  });
});
