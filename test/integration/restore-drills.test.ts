import { CopyObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backupKey, drillRecordSchema } from '../../functions/shared/store/layout';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const s3 = new S3Client({ forcePathStyle: true });

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

const record = async (bucket: string, key: string) =>
  drillRecordSchema.parse(JSON.parse((await readObject(bucket, key)).toString()));

/** Backups in the same second share a key: wait for the next one. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));

describe('restore drills: timed against their RTO, every record kept, random picks among verified backups', () => {
  let db: TestDatabase;
  let secret: string;
  let bucket: string;
  let inbox: Inbox;

  beforeAll(async () => {
    db = await createTestDatabase('drills');
    // Big enough that a real restore (create, pg_restore, exact counts, checks) takes seconds.
    await db.sql(`create table events (id bigint primary key, kind text not null, payload text);
      insert into events select g, 'kind ' || (g % 17), repeat(md5(g::text), 4) from generate_series(1, 400000) g;
      create index on events (kind);`);
    secret = await createRdsSecret(db.settings);
    bucket = await createBucket();
    inbox = await createTopicInbox();
    const out = await runCli(['backup', '--config', config('30 minutes'), '--target', 'prod', '--json']);
    expect(out.code, out.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => db?.drop());

  const config = (rto: string) =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { prod: { secret, backup: { countRows: true }, restore: { drill: { rto } } } },
    });
  const drill = (rto: string) =>
    runCli(['restore', '--config', config(rto), '--target', 'prod', '--drill', '--json']);
  /** A drill as a Fargate task runs it (PGMAINT_METRICS=emf): its result and the metrics it wrote. */
  const drillWithMetrics = async (rto: string) => {
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let out: Awaited<ReturnType<typeof runCli>>;
    try {
      out = await runCli(['restore', '--config', config(rto), '--target', 'prod', '--drill', '--json'], {
        ...process.env,
        PGMAINT_METRICS: 'emf',
      });
    } finally {
      process.stdout.write = write;
    }
    const documents = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    /** The value of a metric in the job's dimensions (job, target, service), undefined when not written. */
    const metric = (name: string) => {
      const found = documents.filter((d) => name in d);
      expect(found.length, name).toBeLessThanOrEqual(1);
      if (found[0]) expect(found[0]).toMatchObject({ job: 'restore', target: 'prod', service: 'pgmaint' });
      return found[0]?.[name];
    };
    return { out, metric };
  };

  it('a drill within its RTO passes and records its time to a checked database against the RTO', async () => {
    const { out, metric } = await drillWithMetrics('30 minutes');
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({
      status: 'passed',
      mode: 'drill',
      drill: { pick: 'latest', rto: '30 minutes', rtoMs: 1_800_000 },
    });
    expect(result.drill.recoveryMs).toBeGreaterThan(0);
    expect(result.drill.recoveryMs).toBeLessThanOrEqual(result.durationMs);
    const latest = await record(bucket, 'state/prod/restore-drill.json');
    expect(latest).toMatchObject({
      status: 'passed',
      pick: 'latest',
      rto: '30 minutes',
      rtoMs: 1_800_000,
      durationMs: result.drill.recoveryMs,
      backupKey: result.backupKey,
    });
    expect(await inbox.messages()).toEqual([]);
    // The metrics: the time to recovery, the share of the RTO it used, not over it.
    expect(metric('DrillRecoveryMs')).toBe(result.drill.recoveryMs);
    expect(metric('DrillRtoExceeded')).toBe(0);
    expect(metric('DrillRtoUsedPercent')).toBe(Math.round(result.drill.recoveryMs / 1800) / 10);
    expect(metric('DrillRtoUsedPercent')).toBeGreaterThan(0);
  });

  it('a drill slower than its RTO (a real restore against "0.001 seconds") alerts once, fails and records rto-exceeded', async () => {
    const { out, metric } = await drillWithMetrics('0.001 seconds');
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout);
    expect(result.status).toBe('failed');
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
    expect(messages[0]?.message).toContain('error:  restore prod: rto-exceeded');
    const alerted = JSON.parse(messages[0]?.message.split('result:\n')[1] ?? '{}');
    expect(alerted).toMatchObject({ status: 'rto-exceeded', drill: { rto: '0.001 seconds', rtoMs: 1 } });
    // Honest: the restore itself was timed and took longer than the RTO; nothing was faked. (A 1 ms
    // RTO, because no real restore meets it, while a one-second one is met on a fast machine.)
    expect(alerted.drill.recoveryMs).toBeGreaterThan(1);
    const latest = await record(bucket, 'state/prod/restore-drill.json');
    expect(latest).toMatchObject({ status: 'rto-exceeded', rto: '0.001 seconds', rtoMs: 1, mismatches: [] });
    expect(latest.durationMs).toBe(alerted.drill.recoveryMs);
    // Over the RTO: counted, and no "share of the RTO" for the near-RTO alarm (the FAILED alert above is the page).
    expect(metric('DrillRecoveryMs')).toBe(alerted.drill.recoveryMs);
    expect(metric('DrillRtoExceeded')).toBe(1);
    expect(metric('DrillRtoUsedPercent')).toBeUndefined();
    expect(metric('JobFailed')).toBe(1);
  });

  it('keeps every drill: three drills, three records in time order, the latest beside them', async () => {
    const out = await drill('30 minutes');
    expect(out.code, out.stderr).toBe(0);
    const keys = await keysUnder(bucket, 'state/prod/drills/');
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(/^state\/prod\/drills\/\d{8}T\d{6}\.\d{3}Z\.json$/);
    const records = await Promise.all(keys.map((key) => record(bucket, key)));
    expect(records.map((r) => r.status)).toEqual(['passed', 'rto-exceeded', 'passed']);
    const started = records.map((r) => Date.parse(r.startedAt ?? ''));
    expect([...started].sort((a, b) => a - b)).toEqual(started);
    expect(await record(bucket, 'state/prod/restore-drill.json')).toEqual(records[2]);
  });
});

describe('restore.drill.pick "random": a verified backup that retention keeps, never another', () => {
  let db: TestDatabase;
  let bucket: string;
  const verified: string[] = [];
  let expired = '';
  let unverified = '';

  beforeAll(async () => {
    db = await createTestDatabase('drills_random');
    await db.sql(
      'create table notes (id int primary key, body text); insert into notes select g, g::text from generate_series(1, 500) g;',
    );
    const secret = await createRdsSecret(db.settings);
    bucket = await createBucket();
    process.env.PGMAINT_CONFIG = JSON.stringify({
      backupBucket: bucket,
      targets: { prod: { secret, restore: { drill: { pick: 'random' } } } },
    });
    const cli = writeConfig(JSON.parse(process.env.PGMAINT_CONFIG));
    for (let i = 0; i < 3; i++) {
      if (i > 0) await nextSecond();
      const { key } = await runCliJson(['backup', '--config', cli, '--target', 'prod', '--json']);
      verified.push(key);
    }
    // A verified backup older than retention keeps (retentionDays 30, keepAtLeast 3 newer ones):
    // the next backup would prune it, so a drill proving it proves nothing a restore could use.
    const source = verified[0] ?? '';
    const manifest = JSON.parse((await readObject(bucket, `${source}.manifest.json`)).toString());
    const old = new Date(Date.now() - 400 * 86_400_000);
    expired = backupKey('prod', old);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: expired, CopySource: `${bucket}/${source}` }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${expired}.manifest.json`,
        Body: JSON.stringify({
          ...manifest,
          key: expired,
          startedAt: old.toISOString(),
          finishedAt: new Date(old.getTime() + 5000).toISOString(),
        }),
      }),
    );
    // A dump without a manifest (a run that died before verifying), newer than every backup.
    unverified = backupKey('prod', new Date(Date.now() + 3_600_000));
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: unverified, CopySource: `${bucket}/${source}` }),
    );
  }, 120_000);
  afterAll(async () => {
    delete process.env.PGMAINT_CONFIG;
    await db?.drop();
  });

  it('picks among the verified backups retention keeps, differently for different runs, the same for the same seed', async () => {
    vi.resetModules();
    const { handler } = await import('../../functions/restore/handler');
    const drillWith = async (seed: string) => {
      const result = await handler(
        { target: 'prod', drill: true },
        { awsRequestId: seed, getRemainingTimeInMillis: () => 900_000 },
      );
      expect(result).toMatchObject({ status: 'passed', drill: { pick: 'random' } });
      return (result as { backupKey: string }).backupKey;
    };
    const picks: string[] = [];
    for (let i = 0; i < 9; i++) picks.push(await drillWith(`drill-seed-${i}`));
    for (const pick of picks) expect(verified).toContain(pick);
    expect(picks).not.toContain(expired);
    expect(picks).not.toContain(unverified);
    expect(new Set(picks).size).toBeGreaterThan(1);
    expect(await drillWith('drill-seed-4')).toBe(picks[4]);
    const latest = await record(bucket, 'state/prod/restore-drill.json');
    expect(latest).toMatchObject({ status: 'passed', pick: 'random', backupKey: picks[4] });
    expect(await keysUnder(bucket, 'state/prod/drills/')).toHaveLength(10);
  }, 180_000);
});
