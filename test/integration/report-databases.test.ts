import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const HOUR = 3_600_000;

/**
 * A target with `databases` (a list on the shared test server: "*" would take in every other
 * file's databases) backed up nightly at 02:00 UTC. The first run backs up app and billing for
 * real; then billing is dropped, and the night's scheduled run (its clock injected) backs up app
 * alone. The report, read the morning after from the emulator's S3, shows each database's newest
 * backup: app's from the night, billing's from before it (OVERDUE), and the listed database that
 * never existed (MISSING).
 */
describe('pgmaint report on a target with databases: each database its newest backup, judged by the schedule', () => {
  let app: TestDatabase;
  let billing: TestDatabase;
  let bucket: string;
  let ghost: string;
  let config: string;
  /** The scheduled run: the first 02:00 UTC at least two hours after the first backups. */
  let night: Date;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    app = await createTestDatabase('report_db_app');
    billing = await createTestDatabase('report_db_billing');
    ghost = `${app.name}_ghost`;
    await app.sql(
      'create table customers (id int primary key); insert into customers select generate_series(1, 100);',
    );
    await billing.sql(
      'create table invoices (id int primary key); insert into invoices select generate_series(1, 50);',
    );
    bucket = await createBucket();
    config = writeConfig({
      backupBucket: bucket,
      targets: {
        srv: {
          url: app.url,
          timezone: 'UTC',
          databases: [app.name, billing.name, ghost],
          backup: { schedule: 'cron(0 2 * * ? *)', jobs: 1 },
        },
      },
    });

    const first = await runCli(['backup', '--config', config, '--target', 'srv', '--json']);
    expect(first.code, first.stderr).toBe(1); // the ghost database fails; the other two are backed up
    expect(first.stderr).toContain(`"${ghost}": no such database on the server`);
    const firstAt = Date.now();
    const day = new Date(firstAt + 2 * HOUR);
    night = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 2));
    if (night.getTime() < firstAt + 2 * HOUR) night = new Date(night.getTime() + 24 * HOUR);

    await billing.drop();
    const second = await runCli(['backup', '--config', config, '--target', 'srv', '--json'], process.env, {
      now: () => new Date(night.getTime() + 60_000),
    });
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`"${billing.name}": no such database on the server`);

    const listed = await runCli(['backups', '--config', config, '--target', 'srv', '--json']);
    for (const backup of JSON.parse(listed.stdout).backups as Array<{ key: string; database: string }>)
      keys[backup.database] ??= backup.key;
  }, 180_000);
  afterAll(async () => {
    await app?.drop();
    await billing?.drop();
  });

  const morningAfter = () => ({ now: () => new Date(night.getTime() + 7 * HOUR) });

  it('flags the database the night missed and the one never backed up; the rest is ok', async () => {
    const report = await runCliJson(
      ['report', '--config', config, '--target', 'srv', '--json'],
      process.env,
      morningAfter(),
    );
    expect(report.status).toBe('attention');
    expect(report.backups.dueSince).toBe(new Date(night.getTime() - 60_000).toISOString());
    const byName = (name: string) =>
      report.backups.databases.find((d: { database: string }) => d.database === name);
    expect(report.backups.databases).toHaveLength(3);
    expect(byName(app.name)).toMatchObject({
      status: 'ok',
      count: 2,
      newest: { key: keys[app.name], startedAt: new Date(night.getTime() + 60_000).toISOString() },
    });
    expect(byName(billing.name)).toMatchObject({
      status: 'overdue',
      count: 1,
      newest: { key: keys[billing.name] },
    });
    expect(Date.parse(byName(billing.name).newest.startedAt)).toBeLessThan(night.getTime() - 2 * HOUR);
    expect(byName(ghost)).toEqual({ database: ghost, status: 'missing', count: 0, newest: null });
    expect(report.findings).toEqual(
      expect.arrayContaining([
        `database "${billing.name}": newest backup started ${byName(billing.name).newest.startedAt}, before the scheduled run of ${night.toISOString().slice(0, 10)} 02:00 UTC (backup.schedule cron(0 2 * * ? *))`,
        `database "${ghost}": no verified backup`,
      ]),
    );
    expect(report.findings.some((f: string) => f.includes(`"${app.name}"`))).toBe(false);
  });

  it('prints a line per database under the backups line', async () => {
    const out = await runCli(['report', '--config', config, '--target', 'srv'], process.env, morningAfter());
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.split('\n');
    const at = lines.findIndex((line) =>
      line.startsWith('  backups     3 verified; newest finished 7.0 h ago'),
    );
    expect(at, out.stdout).toBeGreaterThan(0);
    const perDatabase = lines.slice(at + 1, at + 4).map((line) =>
      line
        .trim()
        .split(/\s{2,}/)
        .slice(0, 2),
    );
    // By name: the ghost's name is app's with a suffix.
    expect(perDatabase).toEqual([
      [app.name, 'ok'],
      [ghost, 'MISSING'],
      [billing.name, 'OVERDUE'],
    ]);
    expect(lines[at + 1]).toContain(`2 verified; newest started 7.0 h ago (`);
    expect(lines[at + 1]).toContain(keys[app.name]);
  });
});
