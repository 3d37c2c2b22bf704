import { describe, expect, it } from 'vitest';
import { buildReport, retentionStatus, type TargetReport } from '../../functions/report/build-report';
import { renderReport } from '../../functions/report/render-report';
import { seededIndex } from '../../functions/restore/drill-pick';
import { parseConfig } from '../../functions/shared/config/load';
import {
  type BackupManifest,
  backupKey,
  type DrillRecord,
  drillHistoryKey,
  drillRecordKey,
  healthStateKey,
  storedJson,
} from '../../functions/shared/store/layout';
import { storeWith, verifiedManifest } from '../helpers/stored-backups';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-06-15T12:00:00Z');

const manifestAt = (at: Date, extra: Partial<BackupManifest> = {}) => verifiedManifest('prod', at, extra);

/** One backup a day at 02:00 UTC for `days` days before `now`, newest first. */
const daily = (days: number) =>
  Array.from({ length: days }, (_, i) => manifestAt(new Date(Date.parse('2026-06-15T02:00:00Z') - i * DAY)));

describe('retentionStatus: whether the store holds what each rule promises', () => {
  const policy = { retentionDays: 30, keepAtLeast: 3, keepDaily: 7, keepMonthly: 3 };

  it('meets every rule over thirty days of daily backups, pruned as the backup job prunes', () => {
    // Pruning leaves backups 0 to 29 days old: the one 30 days old went with today's backup.
    const rules = retentionStatus(daily(30), { ...policy, keepMonthly: undefined }, now, 'UTC');
    expect(rules).toEqual([
      { rule: 'keepAtLeast', wanted: 3, have: 30, met: true },
      { rule: 'retentionDays', wanted: 30, have: 30, met: true },
      { rule: 'keepDaily', wanted: 7, have: 7, met: true },
    ]);
  });

  it('counts what a young deployment has: 3 of 7 days, 1 of 3 months, 3.4 of 30 days covered', () => {
    const rules = retentionStatus(daily(3), policy, now, 'UTC');
    expect(rules).toEqual([
      { rule: 'keepAtLeast', wanted: 3, have: 3, met: true },
      { rule: 'retentionDays', wanted: 30, have: 3.4, met: false },
      { rule: 'keepDaily', wanted: 7, have: 3, met: false },
      { rule: 'keepMonthly', wanted: 3, have: 1, met: false },
    ]);
  });

  it("does not count today's backup as missing before it has run, but a gap in the week is", () => {
    const early = new Date('2026-06-15T01:00:00Z'); // today's 02:00 backup has not run yet
    const yesterdayBack = daily(8).slice(1);
    expect(retentionStatus(yesterdayBack, policy, early, 'UTC')[2]).toEqual({
      rule: 'keepDaily',
      wanted: 7,
      have: 6,
      met: true,
    });
    const gap = daily(8).filter((_, i) => i !== 3);
    expect(retentionStatus(gap, policy, now, 'UTC')[2]).toEqual({
      rule: 'keepDaily',
      wanted: 7,
      have: 6,
      met: false,
    });
  });

  it('judges retentionDays by the interval between backups: weekly backups 28 days back cover 30 days', () => {
    const weekly = [0, 7, 14, 21, 28].map((d) =>
      manifestAt(new Date(Date.parse('2026-06-15T02:00:00Z') - d * DAY)),
    );
    expect(retentionStatus(weekly, { retentionDays: 30, keepAtLeast: 3 }, now, 'UTC')[1]).toEqual({
      rule: 'retentionDays',
      wanted: 30,
      have: 30,
      met: true,
    });
  });

  it('a target with fewer backups than keepAtLeast does not meet it', () => {
    expect(retentionStatus(daily(2), policy, now, 'UTC')[0]).toEqual({
      rule: 'keepAtLeast',
      wanted: 3,
      have: 2,
      met: false,
    });
  });
});

describe('buildReport: from a store with backups, drills and health state', () => {
  const config = parseConfig({
    backupBucket: 'file:///unused',
    targets: {
      prod: {
        url: 'postgres://localhost/app',
        backup: {
          retentionDays: 3,
          keepAtLeast: 2,
          jobs: 1,
          objectLock: { mode: 'GOVERNANCE', days: 5 },
          copies: [
            { bucket: 'offsite-one', region: 'eu-central-1' },
            { bucket: 'offsite-two', region: 'us-east-1' },
          ],
        },
        restore: { drill: { rto: '30 minutes' } },
      },
    },
  });
  const prodTarget = () => {
    const target = config.targets.prod;
    if (!target) throw new Error('the config has no prod target');
    return target;
  };
  const drill = (startedAt: string, status: DrillRecord['status'], durationMs: number): DrillRecord => ({
    startedAt,
    finishedAt: new Date(Date.parse(startedAt) + durationMs + 5000).toISOString(),
    status,
    backupKey: backupKey('prod', new Date('2026-06-15T02:00:00Z')),
    pick: 'latest',
    durationMs,
    rto: '30 minutes',
    rtoMs: 1_800_000,
    mismatches: [],
  });

  async function seededStore() {
    const newest = manifestAt(new Date('2026-06-15T02:00:00Z'), {
      lockedUntil: '2026-06-20T02:00:00.000Z',
      lockMode: 'GOVERNANCE',
      copies: [
        {
          bucket: 'offsite-one',
          region: 'eu-central-1',
          sha256: 'ab',
          verifiedAt: '2026-06-15T02:03:00.000Z',
          keys: [],
        },
      ],
    });
    const store = await storeWith([newest, ...daily(4).slice(1)]);
    const drills = [
      drill('2026-06-06T05:00:00.000Z', 'passed', 600_000),
      drill('2026-06-13T05:00:00.000Z', 'rto-exceeded', 2_400_000),
      drill('2026-06-14T05:00:00.000Z', 'failed', 90_000),
      drill('2026-06-15T05:00:00.000Z', 'passed', 900_000),
    ];
    for (const d of drills)
      await store.put(drillHistoryKey('prod', new Date(d.startedAt ?? '')), storedJson(d));
    await store.put(drillRecordKey('prod'), storedJson(drills[3]));
    await store.put(
      healthStateKey('prod'),
      storedJson({
        formatVersion: 1,
        updatedAt: '2026-06-15T11:45:00.000Z',
        checks: {
          backup_freshness: { status: 'ok', since: '2026-06-01T00:00:00.000Z' },
          dead_tuples: { status: 'warning', since: '2026-06-14T10:00:00.000Z' },
          xid_wraparound: { status: 'critical', since: '2026-06-15T09:00:00.000Z' },
          replication_lag: { status: 'skipped', since: '2026-06-01T00:00:00.000Z' },
        },
        memory: {},
      }),
    );
    return { store, newest };
  }

  it('says what an auditor asks, with the figures from the store', async () => {
    const { store, newest } = await seededStore();
    const report = await buildReport({
      store,
      targetName: 'prod',
      target: prodTarget(),
      now,
      recentDrills: 3,
      warn: () => {},
    });
    expect(report).toMatchObject({
      target: 'prod',
      status: 'attention',
      backups: {
        count: 4,
        newest: {
          key: newest.key,
          ageSeconds: 10 * 3600 - 60,
          bytes: 2048,
          lockedUntil: '2026-06-20T02:00:00.000Z',
        },
        oldestFinishedAt: '2026-06-12T02:01:00.000Z',
      },
      retention: [
        { rule: 'keepAtLeast', wanted: 2, have: 4, met: true },
        { rule: 'retentionDays', wanted: 3, have: 3, met: true },
      ],
      objectLock: { configured: { mode: 'GOVERNANCE', days: 5 }, newestLocked: true },
      copies: {
        configured: ['eu-central-1', 'us-east-1'],
        newestCopiedTo: ['eu-central-1'],
        missing: ['us-east-1'],
      },
      drills: {
        rto: '30 minutes',
        total: 4,
        passed: 2,
        failed: 1,
        rtoExceeded: 1,
        last: { status: 'passed', durationMs: 900_000, startedAt: '2026-06-15T05:00:00.000Z' },
        slowestMs: 2_400_000,
        fastestMs: 90_000,
      },
      health: {
        status: 'critical',
        ageSeconds: 900,
        counts: { ok: 1, warning: 1, critical: 1, unknown: 0, skipped: 1 },
        problems: [
          { check: 'xid_wraparound', status: 'critical', since: '2026-06-15T09:00:00.000Z' },
          { check: 'dead_tuples', status: 'warning', since: '2026-06-14T10:00:00.000Z' },
        ],
      },
      unreadable: [],
    });
    expect(report.drills.recent.map((d) => d.status)).toEqual(['passed', 'failed', 'rto-exceeded']);
    expect(report.findings).toEqual([
      'the newest backup has no verified copy in us-east-1',
      'health critical: xid_wraparound, dead_tuples',
    ]);
  });

  it('judges each database of a server target by the rules on its own: met only when every one meets them', async () => {
    const at = (days: number) => new Date(Date.parse('2026-06-15T02:00:00Z') - days * DAY);
    const store = await storeWith(
      (
        [
          ['app', 0],
          ['app', 1],
          ['app', 2],
          ['billing', 0],
        ] as const
      ).map(([database, days]) => manifestAt(at(days), { database })),
    );
    const report = await buildReport({
      store,
      targetName: 'prod',
      target: prodTarget(),
      now,
      recentDrills: 5,
      warn: () => {},
    });
    expect(report.backups.count).toBe(4);
    expect(report.retention[0]).toEqual({ rule: 'keepAtLeast', wanted: 2, have: 1, met: false });
  });

  it('names a damaged drill record instead of hiding it, and reads the latest record of drills kept before the history', async () => {
    const store = await storeWith();
    const target = prodTarget();
    await store.put(
      drillRecordKey('prod'),
      storedJson({
        finishedAt: '2026-06-10T05:00:00.000Z',
        status: 'passed',
        backupKey: null,
        durationMs: 1000,
        mismatches: [],
      }),
    );
    const older = await buildReport({
      store,
      targetName: 'prod',
      target,
      now,
      recentDrills: 5,
      warn: () => {},
    });
    expect(older.drills).toMatchObject({ total: 1, passed: 1, last: { status: 'passed', durationMs: 1000 } });
    await store.put(drillHistoryKey('prod', now), '{"status": "maybe"}');
    const damaged = await buildReport({
      store,
      targetName: 'prod',
      target,
      now,
      recentDrills: 5,
      warn: () => {},
    });
    expect(damaged.unreadable).toHaveLength(1);
    expect(damaged.unreadable[0]).toMatch(/state\/prod\/drills\/20260615T120000\.000Z\.json is not what/);
    expect(damaged.findings).toContain(`unreadable: ${damaged.unreadable[0]}`);
  });
});

describe('renderReport', () => {
  const report: TargetReport = {
    target: 'prod',
    status: 'attention',
    generatedAt: '2026-06-15T12:00:00.000Z',
    store: 's3://backups',
    findings: ['keepDaily 7 not met (6)', 'the last restore drill rto-exceeded'],
    backups: {
      count: 12,
      newest: {
        key: 'prod/2026/06/15/prod-20260615T020000Z.dump',
        startedAt: '2026-06-15T02:00:00.000Z',
        finishedAt: '2026-06-15T02:01:00.000Z',
        ageSeconds: 35_940,
        bytes: 5 * 1024 ** 3,
        lockedUntil: '2026-07-15T02:00:00.000Z',
        lockMode: 'COMPLIANCE',
        copies: [{ region: 'eu-central-1', bucket: 'offsite', verifiedAt: '2026-06-15T02:09:00.000Z' }],
      },
      oldestFinishedAt: '2026-06-04T02:01:00.000Z',
    },
    retention: [
      { rule: 'keepAtLeast', wanted: 3, have: 12, met: true },
      { rule: 'keepDaily', wanted: 7, have: 6, met: false },
    ],
    objectLock: { configured: { mode: 'COMPLIANCE', days: 30 }, newestLocked: true },
    copies: {
      configured: ['eu-central-1', 'us-east-1'],
      newestCopiedTo: ['eu-central-1'],
      missing: ['us-east-1'],
    },
    drills: {
      rto: '30 minutes',
      last: {
        startedAt: '2026-06-13T05:00:00.000Z',
        finishedAt: '2026-06-13T05:41:00.000Z',
        status: 'rto-exceeded',
        backupKey: 'prod/2026/06/13/prod-20260613T020000Z.dump',
        durationMs: 2_400_000,
        rto: '30 minutes',
        rtoMs: 1_800_000,
      },
      total: 2,
      passed: 1,
      failed: 0,
      rtoExceeded: 1,
      recent: [
        {
          startedAt: '2026-06-13T05:00:00.000Z',
          finishedAt: '2026-06-13T05:41:00.000Z',
          status: 'rto-exceeded',
          backupKey: 'prod/2026/06/13/prod-20260613T020000Z.dump',
          durationMs: 2_400_000,
        },
        {
          startedAt: '2026-06-06T05:00:00.000Z',
          finishedAt: '2026-06-06T05:11:00.000Z',
          status: 'passed',
          backupKey: 'prod/2026/06/06/prod-20260606T020000Z.dump',
          durationMs: 600_000,
        },
      ],
      slowestMs: 2_400_000,
      fastestMs: 600_000,
    },
    health: {
      updatedAt: '2026-06-15T11:45:00.000Z',
      ageSeconds: 900,
      status: 'warning',
      counts: { ok: 30, warning: 1, critical: 0, unknown: 0, skipped: 4 },
      problems: [{ check: 'dead_tuples', status: 'warning', since: '2026-06-14T10:00:00.000Z' }],
    },
    unreadable: [],
  };

  it('prints one page with every figure', () => {
    expect(renderReport(report).split('\n')).toEqual([
      'prod: ATTENTION (report of 2026-06-15T12:00:00.000Z, s3://backups)',
      '  backups     12 verified; newest finished 10.0 h ago (5.0 GB, prod/2026/06/15/prod-20260615T020000Z.dump); oldest 2026-06-04T02:01:00.000Z',
      '  retention   keepAtLeast 3: met (12 backups); keepDaily 7: NOT MET (6 days)',
      '  lock        COMPLIANCE 30 days; newest backup locked until 2026-07-15T02:00:00.000Z',
      '  copies      eu-central-1 verified 2026-06-15T02:09:00.000Z; us-east-1 MISSING',
      '  drills      RTO 30 minutes; last rto-exceeded 2.3 days ago, took 40.0 min against an RTO of 30 minutes (EXCEEDED)',
      '              2 drill(s): 1 passed, 0 failed, 1 over RTO; fastest 10.0 min, slowest 40.0 min',
      '              2026-06-13T05:00:00.000Z  rto-exceeded   40.0 min  prod/2026/06/13/prod-20260613T020000Z.dump',
      '              2026-06-06T05:00:00.000Z  passed         10.0 min  prod/2026/06/06/prod-20260606T020000Z.dump',
      '  health      warning at the last run 15.0 min ago: 30 ok, 1 warning, 0 critical, 0 unknown, 4 skipped',
      '              warning   dead_tuples since 2026-06-14T10:00:00.000Z',
      '  findings    keepDaily 7 not met (6)',
      '              the last restore drill rto-exceeded',
    ]);
  });

  it('says what is not configured or not there yet', () => {
    const bare: TargetReport = {
      ...report,
      status: 'attention',
      findings: ['no verified backup', 'no restore drill recorded'],
      backups: { count: 0, newest: null, oldestFinishedAt: null },
      retention: [],
      objectLock: { configured: null, newestLocked: false },
      copies: { configured: [], newestCopiedTo: [], missing: [] },
      drills: {
        ...report.drills,
        rto: null,
        last: null,
        total: 0,
        passed: 0,
        rtoExceeded: 0,
        recent: [],
        slowestMs: null,
        fastestMs: null,
      },
      health: null,
    };
    const text = renderReport(bare);
    expect(text).toContain('  backups     no verified backup');
    expect(text).toContain('  lock        not configured (backup.objectLock)');
    expect(text).toContain('  copies      none configured (backup.copies)');
    expect(text).toContain('  drills      no RTO set (restore.drill.rto); no drill recorded');
    expect(text).toContain('  health      no stored health state (health has not run with this store)');
    expect(text).not.toContain('retention');
  });
});

describe('seededIndex (restore.drill.pick "random")', () => {
  it('is the same for the same seed, below the length, and spreads over every index', () => {
    expect(seededIndex('run-1', 5)).toBe(seededIndex('run-1', 5));
    const seen = new Set(Array.from({ length: 200 }, (_, i) => seededIndex(`run-${i}`, 5)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(seededIndex('anything', 0)).toBe(0);
  });
});
