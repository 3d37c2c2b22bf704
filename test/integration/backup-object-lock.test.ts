import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { s3Client } from '../../functions/shared/aws';
import { createBucket, createRdsSecret, uniqueName } from '../helpers/aws';
import { writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const DAY_MS = 86_400_000;
/** How long the first backup's lock outlives the test's start: long enough for the runs before it expires. */
const LOCK_TAIL_MS = 30_000;

/** The CLI with its clock set: pgmaint's `now` moves, the emulator's (and S3's) does not. */
async function cliAt(now: Date, args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: process.env,
    now: () => now,
  });
  return { code, stdout, stderr };
}

describe('backup.objectLock against S3 Object Lock (moto)', () => {
  let db: TestDatabase;
  let secret: string;
  let lockedBucket: string;
  const s3 = s3Client();

  beforeAll(async () => {
    db = await createTestDatabase('backup_lock');
    await db.sql(`create table t (id int); insert into t select generate_series(1, 100);`);
    secret = await createRdsSecret(db.settings);
    lockedBucket = uniqueName('pgmaint-locked');
    await s3.send(new CreateBucketCommand({ Bucket: lockedBucket, ObjectLockEnabledForBucket: true }));
  });
  afterAll(async () => db?.drop());

  const config = (bucket: string) =>
    writeConfig({
      backupBucket: bucket,
      targets: {
        prod: {
          secret,
          backup: { retentionDays: 1, keepAtLeast: 1, objectLock: { mode: 'GOVERNANCE', days: 1 } },
        },
      },
    });

  it('refuses to back up into a bucket without Object Lock, and validate says so', async () => {
    const plain = await createBucket();
    const backup = await cliAt(new Date(), ['backup', '--config', config(plain), '--target', 'prod']);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toContain(`s3://${plain} cannot lock objects`);
    const validate = await cliAt(new Date(), ['validate', '--config', config(plain)]);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain(`s3://${plain} cannot lock objects`);
    const ok = await cliAt(new Date(), ['validate', '--config', config(lockedBucket)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Object Lock enabled');
  });

  it('locks each object on write, keeps it while locked, and deletes it for good once the lock expires', async () => {
    const start = Date.now();
    // A backup "taken" a day ago, less LOCK_TAIL_MS: its one-day lock ends LOCK_TAIL_MS from now.
    const first = await cliAt(new Date(start - DAY_MS + LOCK_TAIL_MS), [
      'backup',
      '--config',
      config(lockedBucket),
      '--target',
      'prod',
      '--json',
    ]);
    expect(first.stderr).not.toMatch(/FAILED/);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout);
    const until = Date.parse(a.lockedUntil);
    expect(until).toBeGreaterThan(Date.now());
    expect(until).toBeLessThanOrEqual(start + LOCK_TAIL_MS);
    for (const key of [a.key, a.manifestKey, a.globalsKey]) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: lockedBucket, Key: key }));
      expect(head.ObjectLockMode).toBe('GOVERNANCE');
      expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(until);
    }
    // The lock holds against anyone who may delete objects but not bypass it (as the job roles).
    const versionOf = async (key: string) =>
      (await s3.send(new ListObjectVersionsCommand({ Bucket: lockedBucket, Prefix: key }))).Versions?.find(
        (v) => v.Key === key,
      )?.VersionId;
    await expect(
      s3.send(
        new DeleteObjectCommand({ Bucket: lockedBucket, Key: a.key, VersionId: await versionOf(a.key) }),
      ),
    ).rejects.toThrow(/Access Denied/);

    const listed = await cliAt(new Date(start), [
      'backups',
      '--config',
      config(lockedBucket),
      '--target',
      'prod',
      '--json',
    ]);
    expect(JSON.parse(listed.stdout).backups[0]).toMatchObject({ key: a.key, lockedUntil: a.lockedUntil });
    expect(JSON.parse(listed.stdout).backups[0].keptBy).toContain('objectLock');

    // Two days on by pgmaint's clock the first backup has expired by every rule, but S3 still
    // holds it locked: pruning keeps it, says so, and does not fail.
    const second = await cliAt(new Date(start + 2 * DAY_MS), [
      'backup',
      '--config',
      config(lockedBucket),
      '--target',
      'prod',
      '--json',
    ]);
    expect(second.code).toBe(0);
    const b = JSON.parse(second.stdout);
    expect(Date.now()).toBeLessThan(until);
    expect(b.pruned).toEqual([]);
    expect(b.stillLocked).toEqual([a.key]);
    expect(await versionOf(a.manifestKey)).toBeDefined();

    // The emulator's clock passes the lock; the next run deletes every version, no delete marker left.
    while (Date.now() <= until + 1_000) await new Promise((r) => setTimeout(r, 250));
    const third = await cliAt(new Date(start + 2 * DAY_MS + 3_600_000), [
      'backup',
      '--config',
      config(lockedBucket),
      '--target',
      'prod',
      '--json',
    ]);
    expect(third.code).toBe(0);
    const c = JSON.parse(third.stdout);
    expect(c.pruned).toEqual([a.key]);
    expect(c.stillLocked).toBeUndefined();
    for (const key of [a.key, a.manifestKey, a.globalsKey]) {
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: lockedBucket, Prefix: key }));
      expect(
        [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].filter((v) => v.Key === key),
      ).toEqual([]);
    }
    // The second backup is still locked (by the real clock too) and still there.
    expect(await versionOf(b.manifestKey)).toBeDefined();
  }, 120_000);
});
