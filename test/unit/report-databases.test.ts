import { describe, expect, it } from 'vitest';
import { backupDueSince } from '../../functions/report/backup-due';
import { buildReport } from '../../functions/report/build-report';
import { renderReport } from '../../functions/report/render-report';
import { parseConfig } from '../../functions/shared/config/load';
import { backupKey } from '../../functions/shared/store/layout';
import { storeWith, verifiedManifest } from '../helpers/stored-backups';

const iso = (text: string) => new Date(text).toISOString();

describe('backupDueSince: the scheduled run a newest backup must come from', () => {
  it.each([
    // schedule, zone, now, the run the newest backup must come from
    ['cron(0 2 * * ? *)', 'UTC', '2026-06-15T12:00:00Z', '2026-06-15T02:00:00Z'],
    // An hour after tonight's run it may still be going: last night's is the one that must be there.
    ['cron(0 2 * * ? *)', 'UTC', '2026-06-15T03:00:00Z', '2026-06-14T02:00:00Z'],
    ['cron(0 2 * * ? *)', 'UTC', '2026-06-15T08:00:00Z', '2026-06-15T02:00:00Z'],
    // Weekdays at 02:00 London (01:00 UTC in summer): on Sunday, Friday's run.
    ['cron(0 2 ? * MON-FRI *)', 'Europe/London', '2026-06-14T12:00:00Z', '2026-06-12T01:00:00Z'],
    // Hourly: a run may take the hour until the next one, no longer.
    ['cron(0 * * * ? *)', 'UTC', '2026-06-15T12:30:00Z', '2026-06-15T11:00:00Z'],
    ['cron(0 * * * ? *)', 'UTC', '2026-06-15T13:00:00Z', '2026-06-15T12:00:00Z'],
    // Monthly, two weeks after the 1st.
    ['cron(0 2 1 * ? *)', 'UTC', '2026-06-15T12:00:00Z', '2026-06-01T02:00:00Z'],
    // 01:30 London does not exist on 28 March 2027 (clocks go forward): the run before is Saturday's.
    ['cron(30 1 * * ? *)', 'Europe/London', '2027-03-28T12:00:00Z', '2027-03-27T01:30:00Z'],
    ['at(2026-06-10T02:00:00)', 'UTC', '2026-06-15T12:00:00Z', '2026-06-10T02:00:00Z'],
  ])('%s in %s at %s: the run of %s', (schedule, zone, now, run) => {
    const due = backupDueSince(schedule, zone, new Date(now));
    expect(due?.run?.toISOString()).toBe(iso(run));
    expect(due?.since.toISOString()).toBe(new Date(Date.parse(run) - 60_000).toISOString());
  });

  it.each([
    ['rate(1 day)', '2026-06-14T06:00:00Z'],
    ['rate(15 minutes)', '2026-06-15T11:30:00Z'],
    ['rate(12 hours)', '2026-06-14T18:00:00Z'],
  ])(
    '%s: within the interval plus the time a run may take (at most 6 hours): since %s',
    (schedule, since) => {
      const due = backupDueSince(schedule, 'UTC', new Date('2026-06-15T12:00:00Z'));
      expect(due).toEqual({ since: new Date(since) });
    },
  );

  it('judges nothing without a schedule, or before the first scheduled run is over', () => {
    expect(backupDueSince(undefined, 'UTC', new Date('2026-06-15T12:00:00Z'))).toBeUndefined();
    expect(
      backupDueSince('at(2026-06-20T02:00:00)', 'UTC', new Date('2026-06-15T12:00:00Z')),
    ).toBeUndefined();
    expect(
      backupDueSince('at(2026-06-15T11:00:00)', 'UTC', new Date('2026-06-15T12:00:00Z')),
    ).toBeUndefined();
  });
});

describe('buildReport on a target with databases: each database its newest backup, judged by the schedule', () => {
  const now = new Date('2026-06-15T12:00:00Z');
  const tonight = new Date('2026-06-15T02:00:00Z');
  const lastNight = new Date('2026-06-14T02:00:00Z');

  const manifest = (database: string, startedAt: Date) => verifiedManifest('srv', startedAt, { database });

  /** app backed up tonight and last night; billing only last night (tonight it failed); old_crm once, long ago. */
  const store = () =>
    storeWith([
      manifest('app', tonight),
      manifest('app', lastNight),
      manifest('billing', new Date(lastNight.getTime() + 5 * 60_000)),
      manifest('old_crm', new Date('2026-05-01T02:00:00Z')),
    ]);

  const report = async (target: Record<string, unknown>, at = now) => {
    const config = parseConfig({
      backupBucket: 'file:///unused',
      targets: { srv: { url: 'postgres://localhost/postgres', ...target } },
    });
    const srv = config.targets.srv;
    if (!srv) throw new Error('no srv target');
    return buildReport({
      store: await store(),
      targetName: 'srv',
      target: srv,
      now: at,
      recentDrills: 5,
      warn: () => {},
    });
  };
  const statuses = (r: Awaited<ReturnType<typeof report>>) =>
    (r.backups.databases ?? []).map((d) => [d.database, d.status, d.count, d.newest?.startedAt ?? null]);

  it('a list: each named database, one that missed the last scheduled run OVERDUE, one never backed up MISSING', async () => {
    const r = await report({
      databases: ['app', 'billing', 'ledger'],
      backup: { schedule: 'cron(0 2 * * ? *)' },
    });
    expect(statuses(r)).toEqual([
      ['app', 'ok', 2, tonight.toISOString()],
      ['billing', 'overdue', 1, '2026-06-14T02:05:00.000Z'],
      ['ledger', 'missing', 0, null],
      // No longer in the list: shown, not judged.
      ['old_crm', 'left-out', 1, '2026-05-01T02:00:00.000Z'],
    ]);
    expect(r.backups.dueSince).toBe('2026-06-15T01:59:00.000Z');
    expect(r.status).toBe('attention');
    expect(r.findings).toEqual(
      expect.arrayContaining([
        'database "billing": newest backup started 2026-06-14T02:05:00.000Z, before the scheduled run of 2026-06-15 02:00 UTC (backup.schedule cron(0 2 * * ? *))',
        'database "ledger": no verified backup',
      ]),
    );
    expect(r.findings.filter((f) => f.startsWith('database '))).toHaveLength(2);
    // The newest across every database stays what it was.
    expect(r.backups.newest?.key).toBe(backupKey('srv', tonight, 'app'));

    const page = renderReport(r).split('\n');
    expect(page).toEqual(
      expect.arrayContaining([
        `              app      ok        2 verified; newest started 10.0 h ago (2.0 kB, ${backupKey('srv', tonight, 'app')})`,
        `              billing  OVERDUE   1 verified; newest started 33.9 h ago (2.0 kB, ${backupKey('srv', new Date('2026-06-14T02:05:00Z'), 'billing')})`,
        '              ledger   MISSING   no verified backup',
      ]),
    );
    expect(page.find((line) => line.includes('old_crm'))).toMatch(/^ {14}old_crm {2}left out {2}1 verified/);
  });

  it('"*": every database the store holds backups of, excluded ones left out; before tonight\'s run is over, last night\'s counts', async () => {
    const r = await report({
      databases: '*',
      exclude: ['old_crm'],
      backup: { schedule: 'cron(0 2 * * ? *)' },
    });
    expect(statuses(r).map(([database, status]) => [database, status])).toEqual([
      ['app', 'ok'],
      ['billing', 'overdue'],
      ['old_crm', 'left-out'],
    ]);
    const early = await report(
      { databases: '*', backup: { schedule: 'cron(0 2 * * ? *)' } },
      new Date('2026-06-15T03:00:00Z'),
    );
    expect((early.backups.databases ?? []).map((d) => [d.database, d.status])).toEqual([
      ['app', 'ok'],
      ['billing', 'ok'],
      ['old_crm', 'overdue'],
    ]);
  });

  it('a database left out does not count in the retention rules; its line still names it', async () => {
    // app has 2 backups, billing 1, old_crm 1: keepAtLeast 2 is met by app alone once billing and
    // old_crm are left out, and not met while old_crm's one backup counts.
    const backup = { schedule: 'cron(0 2 * * ? *)', keepAtLeast: 2, retentionDays: 1 };
    const keepAtLeast = (r: Awaited<ReturnType<typeof report>>) =>
      r.retention.find((rule) => rule.rule === 'keepAtLeast');
    for (const target of [
      { databases: '*', exclude: ['billing', 'old_crm'], backup },
      { databases: ['app'], backup },
    ]) {
      const r = await report(target);
      expect(statuses(r).map(([database, status]) => [database, status])).toEqual([
        ['app', 'ok'],
        ['billing', 'left-out'],
        ['old_crm', 'left-out'],
      ]);
      expect(keepAtLeast(r)).toEqual({ rule: 'keepAtLeast', wanted: 2, have: 2, met: true });
      expect(r.findings.filter((f) => f.startsWith('keepAtLeast'))).toEqual([]);
      const page = renderReport(r);
      expect(page).toContain('keepAtLeast 2: met (2 backups)');
      expect(page.split('\n').find((line) => line.includes('old_crm'))).toMatch(
        /old_crm {2}left out {2}1 verified/,
      );
    }
    // The same store with old_crm part of the target: its one backup is short of keepAtLeast 2.
    const counted = await report({ databases: '*', exclude: ['billing'], backup });
    expect(keepAtLeast(counted)).toEqual({ rule: 'keepAtLeast', wanted: 2, have: 1, met: false });
    expect(counted.findings).toContain('keepAtLeast 2 not met (1)');
  });

  it('without a schedule only a database never backed up is flagged, and the page says why', async () => {
    const r = await report({ databases: ['app', 'billing', 'ledger'], backup: {} });
    expect(statuses(r).map(([database, status]) => [database, status])).toEqual([
      ['app', 'ok'],
      ['billing', 'ok'],
      ['ledger', 'missing'],
      ['old_crm', 'left-out'],
    ]);
    expect(r.backups.dueSince).toBeNull();
    expect(renderReport(r)).toContain(
      'not judged against a schedule: no backup.schedule, or no scheduled run over yet',
    );
  });

  it('a one-database target has no per-database section', async () => {
    const r = await report({ backup: { schedule: 'cron(0 2 * * ? *)' } });
    expect(r.backups.databases).toBeUndefined();
    expect(r.backups.dueSince).toBeUndefined();
  });
});
