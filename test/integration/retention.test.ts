import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/retention/handler';
import type { RetentionPreview, RetentionRun } from '../../functions/retention/result';
import { releaseJobLock, tryJobLock } from '../../functions/shared/job-lock';
import { runCli, writeConfig } from '../helpers/cli';
import type { TestDatabase } from '../helpers/database';
import { testResources } from '../helpers/test-resources';

/**
 * `pgmaint retention` against the real PostgreSQL. Every row a test inserts carries a label saying
 * whether the rules must delete it ('go') or keep it ('stay'); the assertions compare labels, so a
 * rule that deletes one row too many or too few fails.
 */
describe('retention row rules, end to end (CLI → PostgreSQL)', () => {
  const { database, defer } = testResources();

  /** The seeds' tables (test/demo/seed.sql), each with a label column. */
  async function seedTables(db: TestDatabase): Promise<void> {
    await db.sql(`
      create table users (id bigserial primary key, email text not null);
      create table audit_logs (id bigserial primary key, action text not null, created_at timestamptz not null, label text not null);
      create index audit_logs_created_at_idx on audit_logs (created_at);
      create table system_logs (id bigserial primary key, level text not null, created_at timestamptz not null, label text not null);
      create index system_logs_created_at_idx on system_logs (created_at);
      create table notifications (id bigserial primary key, is_read boolean not null, created_at timestamptz not null, label text not null);
      create index notifications_created_at_idx on notifications (created_at);
      create table user_sessions (id bigserial primary key, expires_at timestamptz not null, label text not null);
      create index user_sessions_expires_at_idx on user_sessions (expires_at);
      insert into users (email) values ('a@example.com');
    `);
  }

  const SEED_RULES = [
    { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
    { table: 'system_logs', column: 'created_at', olderThan: '30 days', where: { level: ['INFO', 'DEBUG'] } },
    {
      table: 'system_logs',
      column: 'created_at',
      olderThan: '180 days',
      where: { level: ['WARN', 'ERROR'] },
    },
    { table: 'notifications', column: 'created_at', olderThan: '60 days', where: { is_read: true } },
    { table: 'user_sessions', column: 'expires_at', olderThan: '0 days' },
  ];

  const configFor = (db: TestDatabase, rules: unknown[], extra: Record<string, unknown> = {}) =>
    writeConfig({ targets: { t: { url: db.url, retention: { rules, ...extra } } } });

  async function retention(configPath: string, ...flags: string[]) {
    const out = await runCli(['retention', '--config', configPath, '--target', 't', '--json', ...flags]);
    return { ...out, result: JSON.parse(out.stdout || '{}') as RetentionRun };
  }

  async function dryRun(configPath: string) {
    const out = await runCli(['retention', '--config', configPath, '--target', 't', '--json', '--dry-run']);
    return { ...out, result: JSON.parse(out.stdout || '{}') as RetentionPreview };
  }

  /** Rows per label in a table: { go: n, stay: m }. */
  async function labels(db: TestDatabase, table: string): Promise<Record<string, number>> {
    const rows = await db.sql(`select label, count(*)::int as n from ${table} group by label`);
    return Object.fromEntries(rows.map((r) => [r.label, r.n]));
  }

  it("deletes exactly the rows older than each seed rule's cutoff, one minute either side, and only those matching where", async () => {
    const db = await database('ret_exact');
    await seedTables(db);
    // olderThan days are 24 hours (retention refuses months, whose length varies), so the seeds step
    // back in 24-hour days: an edge row stays a minute either side of the cutoff on the days the
    // clocks change too, where `interval '90 days'` would move it by an hour.
    // Bulk: enough old rows that every rule takes several batches.
    await db.sql(`
      insert into audit_logs (action, created_at, label)
        select 'login', now() - 91 * interval '24 hours' - i * interval '1 minute', 'go' from generate_series(1, 5000) i;
      insert into audit_logs (action, created_at, label) values
        ('edge', now() - 90 * interval '24 hours' - interval '1 minute', 'go'),
        ('edge', now() - 90 * interval '24 hours' + interval '1 minute', 'stay'),
        ('new', now(), 'stay');

      insert into system_logs (level, created_at, label)
        select (array['INFO', 'DEBUG'])[1 + i % 2], now() - 31 * interval '24 hours' - i * interval '1 minute', 'go' from generate_series(1, 3000) i;
      insert into system_logs (level, created_at, label) values
        ('INFO', now() - 30 * interval '24 hours' - interval '1 minute', 'go'),
        ('DEBUG', now() - 30 * interval '24 hours' + interval '1 minute', 'stay'),
        ('WARN', now() - interval '31 days', 'stay'),
        ('ERROR', now() - interval '179 days', 'stay'),
        ('WARN', now() - 180 * interval '24 hours' + interval '1 minute', 'stay'),
        ('WARN', now() - 180 * interval '24 hours' - interval '1 minute', 'go'),
        ('ERROR', now() - interval '400 days', 'go');

      insert into notifications (is_read, created_at, label)
        select true, now() - 61 * interval '24 hours' - i * interval '1 minute', 'go' from generate_series(1, 2000) i;
      insert into notifications (is_read, created_at, label)
        select false, now() - 61 * interval '24 hours' - i * interval '24 hours', 'stay' from generate_series(1, 500) i;
      insert into notifications (is_read, created_at, label) values
        (true, now() - 60 * interval '24 hours' - interval '1 minute', 'go'),
        (true, now() - 60 * interval '24 hours' + interval '1 minute', 'stay'),
        (false, now() - 60 * interval '24 hours' - interval '1 minute', 'stay');

      insert into user_sessions (expires_at, label)
        select now() - i * interval '1 hour', 'go' from generate_series(1, 1500) i;
      insert into user_sessions (expires_at, label) values
        (now() - interval '1 minute', 'go'),
        (now() + interval '1 minute', 'stay'),
        (now() + interval '30 days', 'stay');
      analyze;
    `);

    const { code, result, stderr } = await retention(configFor(db, SEED_RULES));
    expect(code, stderr).toBe(0);
    expect(await labels(db, 'audit_logs')).toEqual({ stay: 2 });
    expect(await labels(db, 'system_logs')).toEqual({ stay: 4 });
    expect(await labels(db, 'notifications')).toEqual({ stay: 502 });
    expect(await labels(db, 'user_sessions')).toEqual({ stay: 2 });

    expect(result.status).toBe('complete');
    expect(result.dryRun).toBe(false);
    expect(result.totalRowsDeleted).toBe(5001 + 3001 + 2 + 2001 + 1501);
    expect(result.rules.map((r) => [r.table, r.rowsDeleted, r.stoppedBecause])).toEqual([
      ['public.audit_logs', 5001, 'done'],
      ['public.system_logs', 3001, 'done'],
      ['public.system_logs', 2, 'done'],
      ['public.notifications', 2001, 'done'],
      ['public.user_sessions', 1501, 'done'],
    ]);
    expect(result.rules[0]?.batches).toBeGreaterThan(1);
    expect(result.rules[3]?.where).toEqual({ is_read: true });
    // Every cutoff comes from one reading of the database clock: cutoff + olderThan is the same instant.
    const instants = await db.sql(
      // In seconds: olderThan days are 24 hours, where timestamptz + interval would step calendar days.
      'select count(distinct extract(epoch from c::timestamptz) + extract(epoch from i::interval))::int as n from unnest($1::text[], $2::text[]) as u(c, i)',
      [result.rules.map((r) => r.cutoff), result.rules.map((r) => r.olderThan)],
    );
    expect(instants[0]?.n).toBe(1);
    // More than 10% of each table went: vacuumed and analyzed.
    expect([...result.vacuumed].sort()).toEqual([
      'public.audit_logs',
      'public.notifications',
      'public.system_logs',
      'public.user_sessions',
    ]);
    const vacuumed = await db.sql(
      "select count(*)::int as n from pg_stat_user_tables where relname = 'audit_logs' and last_vacuum is not null",
    );
    expect(vacuumed[0]?.n).toBe(1);

    // A second run finds nothing more to do.
    const again = await retention(configFor(db, SEED_RULES));
    expect(again.result.totalRowsDeleted).toBe(0);
    expect(again.result.vacuumed).toEqual([]);
  });

  it('handles null and lists in where (IS NULL, = ANY), timestamp and date columns, and tables without a primary key', async () => {
    const db = await database('ret_kinds');
    await db.sql(`
      create table events (category text, created_at timestamptz not null, label text not null);
      create table readings (recorded_at timestamp not null, label text not null);
      create index readings_recorded_at_idx on readings (recorded_at);
      create table daily_totals (id int primary key, day date not null, label text not null);
      create table orders_p (id bigserial, created_at timestamptz not null, label text not null, primary key (id, created_at))
        partition by range (created_at);
      create table orders_p_2000s partition of orders_p for values from (minvalue) to ('2010-01-01');
      create table orders_p_rest partition of orders_p default;
      create index on orders_p (created_at);
      insert into orders_p (created_at, label) select now() - 11 * interval '24 hours' - i * interval '1 minute', 'go' from generate_series(1, 1500) i;
      insert into orders_p (created_at, label) values ('2005-01-01', 'go'), (now() - interval '9 days', 'stay');
      insert into events values
        (null, now() - interval '11 days', 'go'),
        ('tmp', now() - interval '11 days', 'go'),
        ('keep', now() - interval '11 days', 'stay'),
        (null, now() - interval '9 days', 'stay');
      insert into events select case when i % 2 = 0 then 'tmp' end, now() - interval '12 days', 'go' from generate_series(1, 2500) i;
      insert into readings values
        ((now() - 7 * interval '24 hours' - interval '1 minute')::timestamp, 'go'),
        ((now() - 7 * interval '24 hours' + interval '1 minute')::timestamp, 'stay');
      insert into readings select (now() - 8 * interval '24 hours')::timestamp, 'go' from generate_series(1, 1200);
      -- A date goes once its whole day is before the cutoff.
      insert into daily_totals values
        (1, current_date - 32, 'go'),
        (2, current_date - 31, 'go'),
        (3, (now() - 30 * interval '24 hours')::date, 'stay'),
        (4, current_date, 'stay');
    `);
    const rules = [
      { table: 'events', column: 'created_at', olderThan: '10 days', where: { category: [null, 'tmp'] } },
      { table: 'public.readings', column: 'recorded_at', olderThan: '7 days' },
      { table: 'daily_totals', column: 'day', olderThan: '30 days' },
      // A partitioned table with a row rule: ctids repeat across partitions, so rows go by primary key.
      { table: 'orders_p', column: 'created_at', olderThan: '10 days' },
    ];
    const { code, result, stderr } = await retention(configFor(db, rules));
    expect(code, stderr).toBe(0);
    expect(await labels(db, 'events')).toEqual({ stay: 2 });
    expect(await labels(db, 'readings')).toEqual({ stay: 1 });
    expect(await labels(db, 'daily_totals')).toEqual({ stay: 2 });
    expect(await labels(db, 'orders_p')).toEqual({ stay: 1 });
    expect(result.rules.map((r) => r.rowsDeleted)).toEqual([2502, 1201, 2, 1501]);
    // events has no index on created_at: the run says so.
    expect(result.warnings.join('\n')).toMatch(/no index leads with public\.events\.created_at/);
  });

  it('runs as a role with only SELECT, DELETE and UPDATE on one column, and says it cannot VACUUM', async () => {
    const db = await database('ret_role');
    await seedTables(db);
    const role = `ret_${db.name.slice(-6)}`;
    await db.sql(`
      insert into audit_logs (action, created_at, label) select 'x', now() - interval '100 days', 'go' from generate_series(1, 3000);
      insert into audit_logs (action, created_at, label) values ('x', now(), 'stay');
      analyze audit_logs;
      create role ${role} login password 'Role-Pass-1';
      grant select, delete, update (label) on audit_logs to ${role};
    `);
    defer(() => db.sql(`drop owned by ${role}; drop role ${role}`));
    const url = new URL(db.url);
    url.username = role;
    url.password = 'Role-Pass-1';
    const configPath = writeConfig({
      targets: {
        t: {
          url: url.toString(),
          retention: { rules: [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days' }] },
        },
      },
    });
    const { code, result, stderr } = await retention(configPath);
    expect(code, stderr).toBe(0);
    expect(result.totalRowsDeleted).toBe(3000);
    expect(await labels(db, 'audit_logs')).toEqual({ stay: 1 });
    expect(result.vacuumed).toEqual([]);
    expect(result.warnings.join('\n')).toContain(
      'public.audit_logs: VACUUM skipped, this role does not own the table',
    );
  });

  it('rejects bad rules before deleting anything, listing every problem', async () => {
    const db = await database('ret_bad');
    await seedTables(db);
    await db.sql(`
      insert into audit_logs (action, created_at, label) select 'x', now() - interval '200 days', 'old' from generate_series(1, 100);
      insert into notifications (is_read, created_at, label) values (true, now() - interval '200 days', 'old');
    `);
    const rules = [
      { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
      { table: 'no_such_table', column: 'created_at', olderThan: '90 days' },
      { table: 'audit_logs', column: 'no_such_column', olderThan: '90 days' },
      { table: 'audit_logs', column: 'action', olderThan: '90 days' },
      { table: 'notifications', column: 'created_at', olderThan: '60 days', where: { is_read: 'maybe' } },
      { table: 'notifications', column: 'created_at', olderThan: '60 days', where: { colour: 'red' } },
      { table: 'audit_logs', partitions: true, olderThan: '90 days' },
    ];
    const out = await runCli(['retention', '--config', configFor(db, rules), '--target', 't']);
    expect(out.code).toBe(1);
    const problems = out.stderr;
    expect(problems).toContain('retention rules rejected, nothing was deleted');
    expect(problems).toContain('rules[1] (no_such_table): table "no_such_table" does not exist');
    expect(problems).toContain(
      'rules[2] (audit_logs): column "no_such_column" does not exist in public.audit_logs',
    );
    expect(problems).toContain(
      'rules[3] (audit_logs): column public.audit_logs.action is text, not a timestamp or date',
    );
    expect(problems).toMatch(/rules\[4\] \(notifications\): where\.is_read: "maybe" does not fit boolean/);
    expect(problems).toContain(
      'rules[5] (notifications): where: column "colour" does not exist in public.notifications',
    );
    expect(problems).toContain('rules[6] (audit_logs): public.audit_logs is not a partitioned table');
    expect(problems).not.toContain('rules[0]');
    // Nothing deleted, not even by the valid rule.
    expect(await labels(db, 'audit_logs')).toEqual({ old: 100 });
    expect(await labels(db, 'notifications')).toEqual({ old: 1 });
  });

  it('refuses a rule whose table is not a [schema.]table name with the config, before connecting', async () => {
    const db = await database('ret_injection');
    await seedTables(db);
    await db.sql(
      "insert into audit_logs (action, created_at, label) select 'x', now() - interval '200 days', 'old' from generate_series(1, 10)",
    );
    const rules = [
      { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
      { table: 'users; drop table users', column: 'created_at', olderThan: '90 days' },
      { table: 'audit_logs', olderThan: '90 days' },
    ];
    const validate = await runCli(['validate', '--config', configFor(db, rules)]);
    const run = await runCli(['retention', '--config', configFor(db, rules), '--target', 't']);
    for (const out of [validate, run]) {
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(
        'targets.t.retention.rules[1].table: "users; drop table users" is not a table name: write [schema.]table',
      );
      expect(out.stderr).toContain('targets.t.retention.rules[2].column: "column" is required');
    }
    // The injected statement never reached the server, and the valid rule did not run either.
    expect(await db.sql("select to_regclass('users')::text as t")).toEqual([{ t: 'users' }]);
    expect(await labels(db, 'audit_logs')).toEqual({ old: 10 });
  });

  it('dry run reports rows to delete, the oldest row and the table size, and deletes nothing', async () => {
    const db = await database('ret_dry');
    await seedTables(db);
    await db.sql(`
      insert into notifications (is_read, created_at, label)
        select i % 2 = 0, now() - i * interval '24 hours', 'x' from generate_series(1, 300) i;
    `);
    const rules = [
      { table: 'notifications', column: 'created_at', olderThan: '60 days', where: { is_read: true } },
    ];
    const { code, result } = await dryRun(configFor(db, rules));
    expect(code).toBe(0);
    expect(result.dryRun).toBe(true);
    // Read ones older than 60 days: even i in 60..300 (i = 60 was inserted a moment before the cutoff was read).
    expect(result.rules[0]?.rowsToDelete).toBe(121);
    expect(result.totalRowsToDelete).toBe(121);
    const oldest = await db.sql(
      'select min(created_at)::text as t from notifications where is_read and created_at = $1::timestamptz',
      [result.rules[0]?.oldestRow],
    );
    expect(oldest[0]?.t).toBe(result.rules[0]?.oldestRow);
    expect(result.rules[0]?.tableBytes).toBeGreaterThan(8192);
    expect(await labels(db, 'notifications')).toEqual({ x: 300 });

    const text = await runCli(['retention', '--config', configFor(db, rules), '--target', 't', '--dry-run']);
    expect(text.stdout).toContain('t: dry run, 121 rows would be deleted');
    expect(text.stdout).toContain('public.notifications where is_read = true, older than 60 days');
  });

  it('never deletes rows inserted during the run that are newer than the cutoff', async () => {
    const db = await database('ret_live');
    await seedTables(db);
    await db.sql(`
      insert into audit_logs (action, created_at, label)
        select 'old', now() - 100 * interval '24 hours' - i * interval '1 second', 'go' from generate_series(1, 60000) i;
      analyze audit_logs;
    `);
    // A writer that keeps inserting rows that turn 90 days old while the run is going: a cutoff
    // re-read per batch would catch them; the run's single cutoff must not.
    const writer = new Client({ connectionString: db.url });
    await writer.connect();
    defer(() => writer.end());
    let running = true;
    const inserted: Array<{ at: number; createdAt: string }> = [];
    const writing = (async () => {
      while (running) {
        const row = await writer.query<{ created_at: string }>(
          "insert into audit_logs (action, created_at, label) values ('live', clock_timestamp() - 90 * interval '24 hours', 'live') returning created_at::text",
        );
        inserted.push({ at: Date.now(), createdAt: row.rows[0]?.created_at ?? '' });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const { code, result, stderr } = await retention(
      configFor(db, [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days' }]),
    );
    const finished = Date.now();
    running = false;
    await writing;
    expect(code, stderr).toBe(0);
    expect(inserted.filter((row) => row.at > started && row.at < finished).length).toBeGreaterThan(10);
    // Live rows written before the cutoff was read are older than it and go; every later one stays.
    const cutoff = result.rules[0]?.cutoff;
    const newer = await db.sql(
      'select count(*)::int as n from unnest($1::timestamptz[]) t where t >= $2::timestamptz',
      [inserted.map((row) => row.createdAt), cutoff],
    );
    const newerCount = Number(newer[0]?.n);
    expect(newerCount).toBeGreaterThan(10);
    expect(await labels(db, 'audit_logs')).toEqual({ live: newerCount });
    expect(result.rules[0]?.rowsDeleted).toBe(60000 + inserted.length - newerCount);
  });

  it('stops before the Lambda deadline as incomplete, says what is left, and the next run continues', async () => {
    const db = await database('ret_budget');
    await seedTables(db);
    await db.sql(`
      insert into audit_logs (action, created_at, label)
        select 'old', now() - 100 * interval '24 hours' - i * interval '1 second', 'go' from generate_series(1, 20000) i;
      insert into user_sessions (expires_at, label) select now() - interval '1 day', 'go' from generate_series(1, 10);
    `);
    const rules = [
      { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
      { table: 'user_sessions', column: 'expires_at', olderThan: '0 days' },
    ];
    process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { t: { url: db.url, retention: { rules } } } });
    // Plenty of time for two batches, then less than the reserve pgmaint keeps for itself.
    let calls = 0;
    const lambdaContext = {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => (++calls <= 2 ? 600_000 : 9_000),
    };
    const result = (await handler({ target: 't' }, lambdaContext)) as RetentionRun;
    expect(result.status).toBe('incomplete');
    const [logs, sessions] = result.rules;
    expect(logs?.stoppedBecause).toBe('timeBudget');
    expect(logs?.batches).toBe(2);
    expect(logs?.rowsDeleted).toBeGreaterThanOrEqual(1500);
    expect(logs?.rowsDeleted).toBeLessThanOrEqual(3000);
    expect(logs?.rowsLeft).toBe(20000 - (logs?.rowsDeleted ?? 0));
    expect(sessions).toMatchObject({ stoppedBecause: 'timeBudget', rowsDeleted: 0, batches: 0 });
    expect(result.vacuumed).toEqual([]);
    expect(await labels(db, 'audit_logs')).toEqual({ go: logs?.rowsLeft });

    const next = await retention(configFor(db, rules));
    expect(next.result.status).toBe('complete');
    expect(next.result.rules.map((r) => r.rowsDeleted)).toEqual([logs?.rowsLeft, 10]);
    expect(await labels(db, 'audit_logs')).toEqual({});
  });

  it('maxRowsPerRun caps a rule; the run reports incomplete with the rows left', async () => {
    const db = await database('ret_cap');
    await seedTables(db);
    await db.sql(`
      insert into audit_logs (action, created_at, label)
        select i::text, now() - 100 * interval '24 hours' - i * interval '1 second', 'go' from generate_series(1, 4000) i;
    `);
    const rules = [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days', maxRowsPerRun: 1500 }];
    const { result } = await retention(configFor(db, rules));
    expect(result.status).toBe('incomplete');
    expect(result.rules[0]).toMatchObject({
      rowsDeleted: 1500,
      stoppedBecause: 'maxRowsPerRun',
      rowsLeft: 2500,
    });
    // The oldest rows (the highest i) went first.
    const left = await db.sql('select count(*)::int as n, max(action::int) as newest_i from audit_logs');
    expect(left[0]).toEqual({ n: 2500, newest_i: 2500 });
  });

  it('pauseAfterBatch rests that share of each batch between batches, and says how long', async () => {
    const db = await database('ret_pause');
    await seedTables(db);
    const expire = () =>
      db.sql(`insert into audit_logs (action, created_at, label)
        select 'login', now() - 100 * interval '24 hours' - i * interval '1 second', 'go' from generate_series(1, 10000) i`);
    const rules = [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days' }];
    await expire();
    await db.sql('analyze audit_logs');
    const eager = (await retention(configFor(db, rules))).result.rules[0];
    expect(eager).toMatchObject({ rowsDeleted: 10_000, stoppedBecause: 'done', pausedMs: 0 });

    await expire();
    const { result } = await retention(configFor(db, rules, { pauseAfterBatch: '300%' }));
    const rested = result.rules[0];
    expect(rested).toMatchObject({ rowsDeleted: 10_000, stoppedBecause: 'done' });
    expect(rested?.batches).toBeGreaterThanOrEqual(5);
    // Three times each batch's time, asleep: most of the rule's time, and within it.
    expect(rested?.pausedMs).toBeGreaterThan((rested?.durationMs ?? 0) / 2);
    expect(rested?.pausedMs).toBeLessThanOrEqual(rested?.durationMs ?? 0);
    expect(await labels(db, 'audit_logs')).toEqual({});
  });

  it('skips rows an application has locked instead of waiting for them', async () => {
    const db = await database('ret_locked');
    await seedTables(db);
    await db.sql(`
      insert into notifications (is_read, created_at, label)
        select true, now() - interval '100 days', case when i = 1 then 'locked' else 'go' end from generate_series(1, 3000) i;
    `);
    const app = new Client({ connectionString: db.url });
    await app.connect();
    defer(() => app.end());
    await app.query('begin');
    await app.query("select id from notifications where label = 'locked' for update");
    const started = Date.now();
    const { code, result } = await retention(
      configFor(db, [
        { table: 'notifications', column: 'created_at', olderThan: '60 days', where: { is_read: true } },
      ]),
    );
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.rules[0]?.rowsDeleted).toBe(2999);
    await app.query('rollback');
    expect(await labels(db, 'notifications')).toEqual({ locked: 1 });
  });

  it('refuses to run while another retention run holds the database, and names it', async () => {
    const db = await database('ret_lock');
    await seedTables(db);
    await db.sql(`
      insert into audit_logs (action, created_at, label)
        select 'old', now() - 100 * interval '24 hours' - i * interval '1 second', 'go' from generate_series(1, 30000) i;
    `);
    const config = configFor(db, [{ table: 'audit_logs', column: 'created_at', olderThan: '90 days' }]);
    // Another run, as the database sees it: a session holding retention's advisory lock.
    const other = new Client({ connectionString: db.url, application_name: 'pgmaint/retention' });
    await other.connect();
    defer(() => other.end());
    expect(await tryJobLock(other, 'retention')).toBe(true);
    const pid = (await other.query('select pg_backend_pid() as pid')).rows[0]?.pid;
    const refused = await runCli(['retention', '--config', config, '--target', 't']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `another retention run is already working on this database (pid ${pid}, pgmaint/retention`,
    );
    expect(await labels(db, 'audit_logs')).toEqual({ go: 30000 });
    await releaseJobLock(other, 'retention');

    // Two runs started together: one works, the other reports the overlap.
    const [a, b] = await Promise.all([retention(config), retention(config)]);
    const outcomes = [a, b].map((run) => run.code).sort();
    expect(outcomes).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(loser.stderr).toContain('another retention run is already working on this database');
    expect(await labels(db, 'audit_logs')).toEqual({});
  });
});
