import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** Two backups of one target started within the same second (or at one instant) both survive. */
describe('backup keys never collide', () => {
  let db: TestDatabase;
  let bucket: string;

  beforeAll(async () => {
    db = await createTestDatabase('backup_keys');
    await db.sql('create table t (id int); insert into t select generate_series(1, 100);');
    bucket = await createBucket();
  });
  afterAll(async () => db?.drop());

  const config = () =>
    writeConfig({
      backupBucket: bucket,
      targets: { prod: { url: db.url, backup: { jobs: 1, keepAtLeast: 10 } } },
    });
  // Each run's clock stands at one instant, so the two runs' starts are exactly these.
  const backupAt = async (at: string) => {
    const { key } = await runCliJson<{ key: string }>(
      ['backup', '--config', config(), '--target', 'prod', '--json'],
      process.env,
      { now: () => new Date(at) },
    );
    return key;
  };
  const listed = async () =>
    JSON.parse(
      (await runCli(['backups', '--config', config(), '--target', 'prod', '--json'])).stdout,
    ).backups.map((b: { key: string }) => b.key);

  it('two backups started within one second get two keys, both listed, newest first', async () => {
    const first = await backupAt('2026-11-30T02:00:00.100Z');
    const second = await backupAt('2026-11-30T02:00:00.700Z');
    expect(second).not.toBe(first);
    expect(await listed()).toEqual([second, first]);
  });

  it('a clock that stands still does not make the second backup replace the first', async () => {
    const first = await backupAt('2026-11-30T03:00:00.000Z');
    const second = await backupAt('2026-11-30T03:00:00.000Z');
    expect(second).not.toBe(first);
    const keys = await listed();
    expect(keys).toContain(first);
    expect(keys).toContain(second);
    expect(keys).toHaveLength(4);
  });
});
