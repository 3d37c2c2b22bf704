import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { RetentionPreview, RetentionRun } from '../../functions/retention/result';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import type { TestDatabase } from '../helpers/database';
import { testResources } from '../helpers/test-resources';

/** `"partitions": true` rules against real range-partitioned tables: drop whole partitions, premake new ones. */
describe('retention partition rules, end to end (CLI → PostgreSQL)', () => {
  const { database, defer } = testResources();

  /**
   * The seeds' trades: daily partitions from 120 days ago to 2 days ahead plus a default partition
   * (so detaching cannot be CONCURRENTLY). ledger: monthly, 14 months back to next month, no default,
   * rows up to 400 days old: inside the oldest partition on any date (14 months back from the 1st
   * of a month is at least 424 days).
   * archive: daily, all long expired.
   */
  async function seedPartitioned(db: TestDatabase): Promise<void> {
    await db.sql(`
      create table trades (id bigserial, symbol text not null, executed_at timestamptz not null, primary key (id, executed_at))
        partition by range (executed_at);
      do $$
      declare d date;
      begin
        for d in select generate_series(current_date - 120, current_date + 2, interval '1 day')::date loop
          execute format('create table %I partition of trades for values from (%L) to (%L)', 'trades_' || to_char(d, 'YYYYMMDD'), d, d + 1);
        end loop;
      end $$;
      create table trades_default partition of trades default;
      insert into trades (symbol, executed_at) select 'EURUSD', now() - (i % 120) * interval '1 day' from generate_series(1, 2400) i;
      insert into trades (symbol, executed_at) values ('OLD', now() - interval '400 days');

      create table ledger (id bigint not null, booked_on date not null) partition by range (booked_on);
      do $$
      declare m date;
      begin
        for m in select generate_series(date_trunc('month', current_date) - interval '14 months', date_trunc('month', current_date) + interval '1 month', interval '1 month')::date loop
          execute format('create table %I partition of ledger for values from (%L) to (%L)', 'ledger_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
        end loop;
      end $$;
      insert into ledger select i, current_date - (i % 400) from generate_series(1, 4000) i;

      create table archive (id bigint not null, at timestamptz not null) partition by range (at);
      create table archive_a partition of archive for values from ('2020-01-01') to ('2020-01-02');
      create table archive_b partition of archive for values from ('2020-01-02') to ('2020-01-03');
      create table archive_c partition of archive for values from ('2020-01-03') to ('2020-01-04');
      insert into archive values (1, '2020-01-01 12:00'), (2, '2020-01-02 12:00'), (3, '2020-01-03 12:00');
    `);
  }

  const RULES = [
    { table: 'trades', partitions: true, olderThan: '90 days', premake: 3 },
    { table: 'public.ledger', partitions: true, olderThan: '365 days', premake: 2 },
    { table: 'archive', partitions: true, olderThan: '30 days' },
  ];

  const configFor = (db: TestDatabase, rules: unknown[]) =>
    writeConfig({ targets: { t: { url: db.url, retention: { rules } } } });

  async function run(configPath: string, ...flags: string[]) {
    const out = await runCli(['retention', '--config', configPath, '--target', 't', '--json', ...flags]);
    return { ...out, result: JSON.parse(out.stdout || '{}') as RetentionRun };
  }

  async function partitionsOf(db: TestDatabase, table: string): Promise<string[]> {
    const rows = await db.sql(
      'select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = $1::regclass order by 1',
      [table],
    );
    return rows.map((row) => String(row.name));
  }

  /** Partitions whose upper bound is at or before the cutoff, computed independently of pgmaint. */
  async function expectedExpired(
    db: TestDatabase,
    table: string,
    cutoff: string | undefined,
  ): Promise<string[]> {
    const rows = await db.sql(
      `select c.relname as name
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = $1::regclass
          and pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
          and btrim((regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\((.*)\\)'))[1], '''')::timestamptz <= $2::timestamptz
        order by 1`,
      [table, cutoff],
    );
    return rows.map((row) => String(row.name));
  }

  it('drops exactly the expired partitions (never the default, never the newest) and premakes ahead; dry run agrees', async () => {
    const db = await database('ret_parts');
    await seedPartitioned(db);
    const config = configFor(db, RULES);
    const trades = await partitionsOf(db, 'trades');
    const ledger = await partitionsOf(db, 'ledger');

    const planned = await runCliJson<RetentionPreview>([
      'retention',
      '--config',
      config,
      '--target',
      't',
      '--json',
      '--dry-run',
    ]);
    const expiredTrades = await expectedExpired(db, 'trades', planned.rules[0]?.cutoff);
    expect(expiredTrades).toHaveLength(30);
    expect(planned.rules[0]?.partitionsToDrop).toEqual(expiredTrades);
    const inExpired = await db.sql(
      'select count(*)::int as n from trades where tableoid::regclass::text = any($1)',
      [expiredTrades],
    );
    expect(planned.rules[0]?.rowsToDelete).toBe(inExpired[0]?.n);
    expect(planned.rules[0]?.rowsToDelete).toBeGreaterThan(0);
    expect(planned.rules[0]?.partitionsToCreate).toHaveLength(1);
    expect(planned.rules[2]?.partitionsToDrop).toEqual(['archive_a', 'archive_b']);
    expect(await partitionsOf(db, 'trades')).toEqual(trades);

    const { code, result, stderr } = await run(config);
    expect(code, stderr).toBe(0);
    expect(result.status).toBe('complete');
    const [tradesRule, ledgerRule, archiveRule] = result.rules;

    // trades: the 30 expired days go; the day holding the cutoff, the default partition and its 400-day-old row stay.
    expect(tradesRule?.partitionsDropped).toEqual(expiredTrades);
    expect(await expectedExpired(db, 'trades', tradesRule?.cutoff)).toEqual([]);
    expect(await partitionsOf(db, 'trades')).toContain('trades_default');
    expect((await db.sql("select count(*)::int as n from trades where symbol = 'OLD'"))[0]?.n).toBe(1);
    // premake 3: three daily partitions after today's, named like the others.
    const ahead = await db.sql(
      "select to_char(current_date + k, 'YYYYMMDD') as day from generate_series(1, 3) k order by k",
    );
    const afterRun = await partitionsOf(db, 'trades');
    for (const { day } of ahead) expect(afterRun).toContain(`trades_${day}`);
    expect(tradesRule?.partitionsCreated).toEqual(planned.rules[0]?.partitionsToCreate);
    expect(tradesRule?.partitionsCreated).toEqual([`trades_${ahead[2]?.day}`]);
    const bounds = await db.sql(
      'select pg_get_expr(relpartbound, oid) as b, (current_date + 3)::timestamptz::text as lo, (current_date + 4)::timestamptz::text as hi from pg_class where relname = $1',
      [`trades_${ahead[2]?.day}`],
    );
    expect(bounds[0]?.b).toBe(`FOR VALUES FROM ('${bounds[0]?.lo}') TO ('${bounds[0]?.hi}')`);

    // ledger (no default partition: detached CONCURRENTLY): expired months go, two months ahead exist.
    expect(ledgerRule?.partitionsDropped.length).toBeGreaterThanOrEqual(1);
    expect(await expectedExpired(db, 'ledger', ledgerRule?.cutoff)).toEqual([]);
    const months = await db.sql(
      "select to_char(date_trunc('month', current_date) + k * interval '1 month', 'YYYY_MM') as m from generate_series(1, 2) k order by k",
    );
    const ledgerAfter = await partitionsOf(db, 'ledger');
    expect(ledgerAfter).toEqual(
      [
        ...ledger.filter((name) => !ledgerRule?.partitionsDropped.includes(name)),
        ...(ledgerRule?.partitionsCreated ?? []),
      ].sort(),
    );
    for (const { m } of months) expect(ledgerAfter).toContain(`ledger_${m}`);
    expect(ledgerRule?.partitionsCreated).toEqual([`ledger_${months[1]?.m}`]);
    // Every row of a day after the cutoff's month is still there.
    const young = await db.sql(
      `select count(*)::int as n from generate_series(1, 4000) i
        where current_date - (i % 400) >= date_trunc('month', $1::timestamptz)::date
          and not exists (select 1 from ledger where id = i)`,
      [ledgerRule?.cutoff],
    );
    expect(young[0]?.n).toBe(0);

    // archive: everything expired, but the newest partition is never dropped.
    expect(archiveRule?.partitionsDropped).toEqual(['archive_a', 'archive_b']);
    expect(await partitionsOf(db, 'archive')).toEqual(['archive_c']);

    // Idempotent: a second run has nothing to drop or create.
    const again = await run(config);
    expect(again.result.rules.map((r) => [r.partitionsDropped.length, r.partitionsCreated.length])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });

  it('premakes on the grid the bounds are laid out in (UTC months), not the database timezone, named like their neighbours', async () => {
    const db = await database('ret_parts_tz');
    // metrics' names carry their UTC dates; events' carry none, so only its UTC midnights tell the zone.
    await db.sql(`
      create table metrics (at timestamptz not null) partition by range (at);
      create table events (at timestamptz not null) partition by range (at);
      do $$
      declare m timestamp; i int := 0;
      begin
        for m in select generate_series(date_trunc('month', now() at time zone 'UTC') - interval '3 months',
                                        date_trunc('month', now() at time zone 'UTC'), interval '1 month') loop
          i := i + 1;
          execute format('create table %I partition of metrics for values from (%L) to (%L)',
                         'metrics_p' || to_char(m, 'YYYYMMDD'), m at time zone 'UTC', (m + interval '1 month') at time zone 'UTC');
          execute format('create table %I partition of events for values from (%L) to (%L)',
                         'events_' || chr(96 + i), m at time zone 'UTC', (m + interval '1 month') at time zone 'UTC');
        end loop;
      end $$;
    `);
    await db.sql(`alter database ${db.name} set timezone = 'America/New_York'`);
    const rules = ['metrics', 'events'].map((table) => ({
      table,
      partitions: true,
      olderThan: '400 days',
      premake: 3,
    }));
    const { code, result, stderr } = await run(configFor(db, rules));
    expect(code, stderr).toBe(0);
    expect(result.warnings).toEqual([]);

    const client = await db.connect();
    defer(() => client.end());
    await client.query("set timezone = 'UTC'");
    for (const [index, table] of ['metrics', 'events'].entries()) {
      const rows = (
        await client.query<{ name: string; lower: string; upper: string; utc_name: string }>(
          `with b as (
             select c.relname as name, regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \\(''(.*)''\\) TO \\(''(.*)''\\)$') as m
             from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = $1::regclass
           )
           select name, m[1] as lower, m[2] as upper, $1 || '_p' || to_char(m[1]::timestamptz, 'YYYYMMDD') as utc_name
           from b order by m[1]::timestamptz`,
          [table],
        )
      ).rows;
      const created = result.rules[index]?.partitionsCreated ?? [];
      expect(created.length, table).toBeGreaterThanOrEqual(3);
      for (const [i, row] of rows.entries()) {
        expect(row.lower, `${row.name} starts a UTC month`).toMatch(/^\d{4}-\d{2}-01 00:00:00\+00$/);
        if (i > 0) expect(row.lower).toBe(rows[i - 1]?.upper);
      }
      const made = rows.filter((row) => created.includes(row.name));
      expect(made.map((row) => row.name)).toEqual(created);
      expect(made.map((row) => row.name)).toEqual(made.map((row) => row.utc_name));
    }
  });

  it('gives up on a partition when the parent stays locked, reports lockTimeout, and leaves everything in place', async () => {
    const db = await database('ret_parts_lock');
    await seedPartitioned(db);
    const reader = new Client({ connectionString: db.url });
    await reader.connect();
    defer(() => reader.end());
    // A long-running reader of trades: a plain DETACH needs ACCESS EXCLUSIVE on the parent.
    await reader.query('begin');
    await reader.query('select count(*) from trades');
    const before = await partitionsOf(db, 'trades');
    const started = Date.now();
    const { code, result } = await run(configFor(db, [RULES[0]]));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.status).toBe('incomplete');
    expect(result.rules[0]).toMatchObject({
      stoppedBecause: 'lockTimeout',
      partitionsDropped: [],
      partitionsCreated: [],
    });
    expect(await partitionsOf(db, 'trades')).toEqual(before);
    // The reader was never disturbed.
    await reader.query('select 1');
    await reader.query('commit');
  });

  it('rejects partition rules on tables that are not range-partitioned by time', async () => {
    const db = await database('ret_parts_bad');
    await db.sql(`
      create table plain (id int primary key, at timestamptz not null);
      create table by_number (n int not null) partition by range (n);
      create table by_list (kind text not null, at timestamptz not null) partition by list (kind);
      create table by_time (at timestamptz not null, kind text) partition by range (at);
    `);
    const rules = [
      { table: 'plain', partitions: true, olderThan: '1 day' },
      { table: 'by_number', partitions: true, olderThan: '1 day' },
      { table: 'by_list', partitions: true, olderThan: '1 day' },
      { table: 'by_time', partitions: true, column: 'kind', olderThan: '1 day' },
    ];
    const out = await runCli(['retention', '--config', configFor(db, rules), '--target', 't']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('rules[0] (plain): public.plain is not a partitioned table');
    expect(out.stderr).toContain(
      'rules[1] (by_number): public.by_number is partitioned on "n", not on a timestamp or date',
    );
    expect(out.stderr).toContain(
      'rules[2] (by_list): public.by_list is not range-partitioned on a single column',
    );
    expect(out.stderr).toContain(
      'rules[3] (by_time): column "kind" is not the partition key of public.by_time',
    );
    // Fields that do not go together are refused with the config, before connecting.
    const shapes = await runCli([
      'retention',
      '--config',
      configFor(db, [
        { table: 'by_time', partitions: true, olderThan: '1 day', where: { kind: 'x' } },
        { table: 'plain', column: 'at', olderThan: '1 day', premake: 2 },
      ]),
      '--target',
      't',
    ]);
    expect(shapes.code).toBe(2);
    expect(shapes.stderr).toContain(
      'targets.t.retention.rules[0].where: "where" cannot be used with "partitions"',
    );
    expect(shapes.stderr).toContain(
      'targets.t.retention.rules[1].premake: "premake" needs "partitions": true',
    );
  });
});
