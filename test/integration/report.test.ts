import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { healthStateSchema } from '../../functions/shared/store/layout';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** Backups in the same second share a key: wait for the next one. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));

describe('pgmaint report: backups, retention, drills against the RTO and health, from the store alone', () => {
  let db: TestDatabase;
  let secret: string;
  let bucket: string;
  let inbox: Inbox;
  const backups: Array<{ key: string; bytes: number }> = [];
  const drillMs: number[] = [];

  const settings = (rto: string) => ({
    alerts: { topicArn: inbox.topicArn },
    backupBucket: bucket,
    targets: {
      prod: {
        secret,
        backup: { retentionDays: 30, keepAtLeast: 2 },
        restore: { drill: { rto } },
        health: { thresholds: {} },
      },
      staging: { secret },
    },
  });
  const config = (rto = '30 minutes') => writeConfig(settings(rto));

  beforeAll(async () => {
    db = await createTestDatabase('report');
    await db.sql(
      'create table orders (id int primary key, note text); insert into orders select g, repeat(md5(g::text), 4) from generate_series(1, 400000) g;',
    );
    secret = await createRdsSecret(db.settings);
    bucket = await createBucket();
    inbox = await createTopicInbox();
    for (let i = 0; i < 2; i++) {
      if (i > 0) await nextSecond();
      backups.push(await runCliJson(['backup', '--config', config(), '--target', 'prod', '--json']));
    }
    // One drill within its RTO, then one slower than a deliberately impossible one: no real restore
    // (create, pg_restore, exact counts) takes under a millisecond, while one second is met on a fast machine.
    for (const rto of ['30 minutes', '0.001 seconds']) {
      const out = await runCli(['restore', '--config', config(rto), '--target', 'prod', '--drill', '--json']);
      const record = JSON.parse((await readObject(bucket, 'state/prod/restore-drill.json')).toString());
      expect(record.status, out.stderr).toBe(rto === '0.001 seconds' ? 'rto-exceeded' : 'passed');
      drillMs.push(record.durationMs);
    }
    await runCli(['health', '--config', config(), '--target', 'prod', '--json']);
  }, 180_000);
  afterAll(async () => db?.drop());

  it('reports the figures of a target with backups, drills and health state', async () => {
    const report = await runCliJson(['report', '--config', config(), '--target', 'prod', '--json']);
    const [older, newest] = backups;
    expect(report).toMatchObject({
      target: 'prod',
      status: 'attention',
      store: `s3://${bucket}`,
      published: false,
      backups: { count: 2, newest: { key: newest?.key, bytes: newest?.bytes, copies: [] } },
      retention: [
        { rule: 'keepAtLeast', wanted: 2, have: 2, met: true },
        { rule: 'retentionDays', wanted: 30, have: 0, met: false },
      ],
      objectLock: { configured: null, newestLocked: false },
      copies: { configured: [], newestCopiedTo: [], missing: [] },
      drills: {
        rto: '30 minutes',
        total: 2,
        passed: 1,
        failed: 0,
        rtoExceeded: 1,
        last: {
          status: 'rto-exceeded',
          rto: '0.001 seconds',
          rtoMs: 1,
          durationMs: drillMs[1],
          backupKey: newest?.key,
        },
        slowestMs: Math.max(...drillMs),
        fastestMs: Math.min(...drillMs),
      },
      unreadable: [],
    });
    expect(report.backups.newest.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(report.backups.newest.ageSeconds).toBeLessThan(300);
    expect(report.backups.oldestFinishedAt).toBe(
      JSON.parse((await readObject(bucket, `${older?.key}.manifest.json`)).toString()).finishedAt,
    );
    expect(report.drills.recent.map((d: { status: string }) => d.status)).toEqual(['rto-exceeded', 'passed']);
    // Health: the stored state's own figures, and the drill over its RTO among its warnings.
    const state = healthStateSchema.parse(
      JSON.parse((await readObject(bucket, 'state/prod/health.json')).toString()),
    );
    const statuses = Object.values(state.checks).map((c) => c.status);
    const count = (status: string) => statuses.filter((s) => s === status).length;
    expect(report.health).toMatchObject({
      updatedAt: state.updatedAt,
      counts: {
        ok: count('ok'),
        warning: count('warning'),
        critical: count('critical'),
        unknown: count('unknown'),
        skipped: count('skipped'),
      },
    });
    expect(report.health.problems).toContainEqual({
      check: 'restore_drill',
      status: 'warning',
      since: state.checks.restore_drill?.since,
    });
    expect(report.findings).toEqual(
      expect.arrayContaining(['retentionDays 30 not met (0)', 'the last restore drill rto-exceeded']),
    );
    expect(report.findings.some((f: string) => f.startsWith('health ') && f.includes('restore_drill'))).toBe(
      true,
    );
  });

  it('prints one page per target, every target without --target', async () => {
    const text = await runCli(['report', '--config', config()]);
    expect(text.code, text.stderr).toBe(0);
    const [prod, staging] = text.stdout.split('\n\n');
    expect(prod).toMatch(/^prod: ATTENTION \(report of /);
    expect(prod).toContain(`backups     2 verified; newest finished`);
    expect(prod).toContain(
      'retention   keepAtLeast 2: met (2 backups); retentionDays 30: NOT MET (0 days covered)',
    );
    expect(prod).toContain('lock        not configured (backup.objectLock)');
    expect(prod).toContain('drills      RTO 30 minutes; last rto-exceeded');
    expect(prod).toContain('against an RTO of 0.001 seconds (EXCEEDED)');
    expect(prod).toContain('2 drill(s): 1 passed, 0 failed, 1 over RTO');
    expect(prod).toMatch(/health {6}(ok|warning|critical|unknown) at the last run/);
    expect(staging).toMatch(/^staging: OK /);
    expect(staging).toContain('backups     no verified backup');
    const json = await runCli(['report', '--config', config(), '--json']);
    expect(
      JSON.parse(json.stdout).targets.map((t: { target: string; status: string }) => [t.target, t.status]),
    ).toEqual([
      ['prod', 'attention'],
      ['staging', 'ok'],
    ]);
  });

  it('the scheduled report (the Lambda event { publish: true }) is delivered to the topic, one message per target', async () => {
    // The drill over its RTO and health's first run alerted before: only what comes now counts.
    const earlier = (await inbox.messages({ expect: 2 })).length;
    process.env.PGMAINT_CONFIG = JSON.stringify(settings('30 minutes'));
    try {
      vi.resetModules();
      const { handler } = await import('../../functions/report/handler');
      const result = await handler(
        { target: 'prod', publish: true },
        { awsRequestId: 'weekly-report', getRemainingTimeInMillis: () => 60_000 },
      );
      expect(result).toMatchObject({ target: 'prod', status: 'attention', published: true });
    } finally {
      delete process.env.PGMAINT_CONFIG;
    }
    const messages = (await inbox.messages({ expect: earlier + 1 })).slice(earlier);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint ATTENTION report prod');
    const body = messages[0]?.message ?? '';
    expect(body).toContain('run id: weekly-report');
    expect(body).toContain('prod: ATTENTION (report of ');
    expect(body).toContain(`backups     2 verified; newest finished`);
    expect(body).toContain('2 drill(s): 1 passed, 0 failed, 1 over RTO');
    expect(body).toContain('findings    ');
  });
});
