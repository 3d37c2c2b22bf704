import { CopyObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupKey, manifestKey } from '../../functions/shared/store/layout';
import { createBucket, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { londonDate, londonTime } from '../helpers/london-time';

/**
 * Grandfather-father-son over a simulated year and two months of nightly backups in the emulator's
 * S3: the history is written as the backup job writes it (a real backup's dump and manifest,
 * copied under each night's key with that night's times), then one real backup on the last night,
 * with its clock injected, prunes the store. What is left is exactly the GFS set.
 */
describe('GFS retention over a year of nightly backups in S3', () => {
  let db: TestDatabase;
  let bucket: string;
  const s3 = new S3Client({ forcePathStyle: true });

  beforeAll(async () => {
    db = await createTestDatabase('backup_gfs_year');
    await db.sql('create table t (id int); insert into t select generate_series(1, 100);');
    bucket = await createBucket();
  });
  afterAll(async () => db?.drop());

  const policy = { retentionDays: 7, keepAtLeast: 3, keepWeekly: 4, keepMonthly: 12, keepYearly: 5 };
  const config = () =>
    writeConfig({
      backupBucket: bucket,
      targets: { prod: { url: db.url, timezone: 'Europe/London', backup: { jobs: 1, ...policy } } },
    });
  const backupAt = async (at: Date) => {
    return runCliJson<{ key: string }>(
      ['backup', '--config', config(), '--target', 'prod', '--json'],
      process.env,
      {
        now: () => at,
      },
    );
  };

  it('keeps the yearly, monthly, weekly and recent backups and deletes every other one', async () => {
    // One real backup: its dump and manifest are the template of every night's.
    const template = await backupAt(londonTime(2026, 12, 31, 0, 30));
    const manifest = JSON.parse((await readObject(bucket, manifestKey(template.key))).toString('utf8'));
    const { globalsKey: _globals, ...shape } = manifest;
    // 2027-01-01 to 2028-02-29 (two clock changes and a leap day), each night at 00:30 London.
    const nights: Date[] = [];
    for (let day = Date.UTC(2027, 0, 1); day <= Date.UTC(2028, 1, 29); day += 86_400_000) {
      const date = new Date(day);
      nights.push(londonTime(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 0, 30));
    }
    for (let i = 0; i < nights.length; i += 25)
      await Promise.all(
        nights.slice(i, i + 25).map(async (at) => {
          const key = backupKey('prod', at);
          await s3.send(
            new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${template.key}` }),
          );
          const night = {
            ...shape,
            key,
            startedAt: at.toISOString(),
            finishedAt: new Date(at.getTime() + 10 * 60_000).toISOString(),
          };
          await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: manifestKey(key), Body: JSON.stringify(night) }),
          );
        }),
      );
    const lastNight = londonTime(2028, 3, 1, 0, 50);
    const { key: last } = await backupAt(lastNight);

    // Listed on the same night: which rule keeps a backup depends on when one asks.
    const listed = JSON.parse(
      (
        await runCli(['backups', '--config', config(), '--target', 'prod', '--json'], process.env, {
          now: () => lastNight,
        })
      ).stdout,
    ).backups as Array<{ key: string; startedAt: string; keptBy?: string[] }>;
    expect(listed[0]?.key).toBe(last);
    const kept = listed.map((b) => londonDate(b.startedAt)).sort();
    expect(kept).toEqual(
      [
        // keepYearly 5: the first backup of 2026 (the template) and of 2027 (2028's is also January's)
        '2026-12-31',
        '2027-01-01',
        // keepMonthly 12: April 2027 to March 2028 (March 2027 just fell out)
        ...['04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2027-${m}-01`),
        '2028-01-01',
        '2028-02-01',
        // keepWeekly 4: the Mondays of the last four ISO weeks (28 February's is also retentionDays')
        '2028-02-07',
        '2028-02-14',
        '2028-02-21',
        // retentionDays 7: 24 February to 1 March (23 February's finished 7 days and 10 minutes ago)
        '2028-02-24',
        '2028-02-25',
        '2028-02-26',
        '2028-02-27',
        '2028-02-28',
        '2028-02-29',
        '2028-03-01',
      ].sort(),
    );
    // The listing says which rule keeps each one.
    const byDay = new Map(listed.map((b) => [londonDate(b.startedAt), b.keptBy]));
    expect(byDay.get('2027-01-01')).toEqual(['keepYearly']);
    expect(byDay.get('2028-02-14')).toEqual(['keepWeekly']);
    // Everything else is gone from the bucket: dumps and manifests alike.
    const stored = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'prod/', MaxKeys: 1000 }),
    );
    const dumps = (stored.Contents ?? []).filter((o) => o.Key?.endsWith('.dump')).map((o) => o.Key);
    expect(dumps.sort()).toEqual(listed.map((b) => b.key).sort());
  }, 240_000);
});
