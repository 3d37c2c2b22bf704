import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import type { DemoContext } from '../demo/demo-context';
import { timescaledbStep } from '../demo/steps/timescaledb';
import { createBucket } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import type { LocalPostgres } from '../helpers/local-postgres';
import { startTimescaleDb, TIMESCALEDB_VERSION } from '../helpers/timescaledb-build';

/**
 * Retention, health and backup → restore of a TimescaleDB database, against a real TimescaleDB
 * (the Apache-licensed build from Debian's source package, test/helpers/timescaledb-build.ts) on its
 * own throwaway cluster. Built once per machine (about 3 minutes cold); a build that fails fails
 * these tests.
 */

// The MT5 market data table: one row per symbol every 6 hours over 6 years, in 30-day chunks.
const MARKET_DATA = `
  create table market_data (
    symbol text not null,
    timeframe text not null,
    "timestamp" timestamptz not null,
    open numeric(18, 5), high numeric(18, 5), low numeric(18, 5), close numeric(18, 5),
    volume bigint,
    primary key (symbol, timeframe, "timestamp")
  );
  select create_hypertable('market_data', by_range('timestamp', interval '30 days'));
  create index idx_market_data_symbol_timestamp on market_data (symbol, "timestamp" desc);
  insert into market_data
  select s, 'H6', now() - g * interval '6 hours', 1.1, 1.2, 1.0, 1.15, g
    from generate_series(0, 6 * 365 * 4) g, unnest(array['EURUSD', 'GBPUSD']) s;
  create table accounts (id int primary key, name text);
  insert into accounts values (1, 'demo'), (2, 'live');
`;

let server: LocalPostgres;
let url: string;
let bucket: string;

async function withClient<T>(work: (client: Client) => Promise<T>, database = 'market'): Promise<T> {
  const target = new URL(server.url);
  target.pathname = `/${database}`;
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function rows<T>(sql: string, values: unknown[] = [], database = 'market'): Promise<T[]> {
  return withClient(async (client) => (await client.query(sql, values)).rows as T[], database);
}

function configWith(retentionRules: unknown[]): string {
  return writeConfig({
    backupBucket: bucket,
    targets: { mt5: { url, retention: { rules: retentionRules } } },
  });
}

beforeAll(async () => {
  server = await startTimescaleDb();
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('create database market');
  await admin.end();
  const target = new URL(server.url);
  target.pathname = '/market';
  url = target.toString();
  await withClient(async (client) => {
    await client.query('create extension timescaledb');
    await client.query(MARKET_DATA);
  });
  bucket = await createBucket();
  // A cold build takes minutes on a busy machine.
}, 30 * 60_000);
afterAll(async () => server?.stop());

it(`runs TimescaleDB ${TIMESCALEDB_VERSION}, Apache-licensed`, async () => {
  const [facts] = await rows<{ version: string; license: string }>(
    "select extversion as version, current_setting('timescaledb.license') as license from pg_extension where extname = 'timescaledb'",
  );
  expect(facts).toEqual({ version: TIMESCALEDB_VERSION, license: 'apache' });
});

describe('retention on a hypertable', () => {
  const rules = [
    // The seed's weekly "chunks older than 5 years" (intervals go up to weeks: 5 × 365 + 1 days),
    // detected as a hypertable from its time column, then the 90-day rule.
    { table: 'market_data', column: 'timestamp', olderThan: '1826 days' },
    { table: 'market_data', hypertable: true, olderThan: '90 days' },
  ];

  it('lists in a dry run exactly the chunks whose range ends at or before each cutoff, with sizes, and drops nothing', async () => {
    const before = await rows<{ chunks: string }>(
      "select count(*) as chunks from timescaledb_information.chunks where hypertable_name = 'market_data'",
    );
    const preview = await runCliJson([
      'retention',
      '--config',
      configWith(rules),
      '--target',
      'mt5',
      '--dry-run',
      '--json',
    ]);
    expect(preview.rules).toHaveLength(2);
    for (const rule of preview.rules) {
      expect(rule).toMatchObject({ table: 'public.market_data', column: 'timestamp', hypertable: true });
      const expected = await rows<{ chunk: string }>(
        `select format('%s.%s', chunk_schema, chunk_name) as chunk from timescaledb_information.chunks
          where hypertable_name = 'market_data' and range_end <= $1::timestamptz order by range_start`,
        [rule.cutoff],
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(rule.chunksToDrop.map((c: { chunk: string }) => c.chunk)).toEqual(expected.map((r) => r.chunk));
      for (const chunk of rule.chunksToDrop) {
        expect(chunk.bytes).toBeGreaterThan(0);
        expect(new Date(chunk.rangeEnd).getTime()).toBeLessThanOrEqual(new Date(rule.cutoff).getTime());
      }
      expect(rule.rowsToDelete).toBeGreaterThan(0);
      expect(rule.tableBytes).toBeGreaterThan(0);
    }
    // The 5-year rule's chunks are a part of the 90-day rule's.
    expect(preview.rules[0].chunksToDrop.length).toBeLessThan(preview.rules[1].chunksToDrop.length);
    const human = await runCli(['retention', '--config', configWith(rules), '--target', 'mt5', '--dry-run']);
    expect(human.stdout).toMatch(
      /public\.market_data, older than 90 days .*: \d+ chunks to drop \([\d,]+ rows, /,
    );
    expect(human.stdout).toMatch(/chunk _timescaledb_internal\._hyper_\d+_\d+_chunk \[/);
    const after = await rows<{ chunks: string }>(
      "select count(*) as chunks from timescaledb_information.chunks where hypertable_name = 'market_data'",
    );
    expect(after).toEqual(before);
  });

  it('drops whole chunks past the cutoff and keeps the chunk that straddles it, with its older rows', async () => {
    const [newer] = await rows<{ rows: string }>(
      'select count(*) as rows from market_data where "timestamp" > now() - interval \'80 days\'',
    );
    const run = await runCliJson(['retention', '--config', configWith(rules), '--target', 'mt5', '--json']);
    expect(run.status).toBe('complete');
    const [fiveYears, ninetyDays] = run.rules;
    expect(fiveYears.chunksDropped.length).toBeGreaterThan(0);
    expect(ninetyDays.chunksDropped.length).toBeGreaterThan(0);
    const cutoff = ninetyDays.cutoff as string;
    for (const chunk of [...fiveYears.chunksDropped, ...ninetyDays.chunksDropped])
      expect(new Date(chunk.rangeEnd).getTime()).toBeLessThanOrEqual(new Date(cutoff).getTime());

    const left = await rows<{ range_start: Date; range_end: Date }>(
      "select range_start, range_end from timescaledb_information.chunks where hypertable_name = 'market_data' order by range_start",
    );
    // No chunk ending at or before the cutoff is left; the oldest one left straddles the cutoff.
    const oldest = left[0];
    if (!oldest) throw new Error('no chunk left');
    expect(oldest.range_end.getTime()).toBeGreaterThan(new Date(cutoff).getTime());
    expect(oldest.range_start.getTime()).toBeLessThanOrEqual(new Date(cutoff).getTime());
    // It holds rows older than the cutoff: a chunk with any newer row is never dropped.
    const [straddling] = await rows<{ older: string; oldest: Date }>(
      'select count(*) as older, min("timestamp") as oldest from market_data where "timestamp" <= $1::timestamptz',
      [cutoff],
    );
    expect(Number(straddling?.older)).toBeGreaterThan(0);
    expect(straddling?.oldest.getTime()).toBeGreaterThanOrEqual(oldest.range_start.getTime());
    const [newerAfter] = await rows<{ rows: string }>(
      'select count(*) as rows from market_data where "timestamp" > now() - interval \'80 days\'',
    );
    expect(Number(newerAfter?.rows)).toBeGreaterThanOrEqual(Number(newer?.rows));

    // Run again: nothing left to drop.
    const again = JSON.parse(
      (await runCli(['retention', '--config', configWith(rules), '--target', 'mt5', '--json'])).stdout,
    );
    expect(again.rules.map((r: { chunksDropped: unknown[] }) => r.chunksDropped)).toEqual([[], []]);
  });

  it('refuses "partitions": true on a hypertable and "hypertable": true on a plain table, naming the fix', async () => {
    const result = await runCli([
      'retention',
      '--config',
      configWith([
        { table: 'market_data', partitions: true, olderThan: '90 days' },
        { table: 'accounts', hypertable: true, olderThan: '90 days' },
      ]),
      '--target',
      'mt5',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'public.market_data is a TimescaleDB hypertable, not a partitioned table: use "hypertable": true',
    );
    expect(result.stderr).toContain('public.accounts is not a TimescaleDB hypertable');
  });

  it('refuses "where" and "premake" with "hypertable": true when the config is read', async () => {
    const result = await runCli([
      'retention',
      '--config',
      configWith([
        {
          table: 'market_data',
          hypertable: true,
          olderThan: '90 days',
          where: { symbol: 'EURUSD' },
          premake: 2,
        },
      ]),
      '--target',
      'mt5',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      '"where" cannot be used with "hypertable": true: whole chunks are dropped',
    );
    expect(result.stderr).toContain('"premake" cannot be used with "hypertable": true');
  });
});

describe('retention on a hypertable at exactly the cutoff', () => {
  // A date dimension: the cutoff is a day, so a chunk can end exactly on it and rows can sit exactly
  // on it, which a timestamptz cutoff (now() to the microsecond) never lets a test arrange.
  const DAYS = 12;
  let boundary: string;
  let aligned: number;

  beforeAll(async () => {
    await rows(`
      create table daily_ticks (day date not null, v int);
      select create_hypertable('daily_ticks', by_range('day', interval '3 days'));
      create table daily_ticks_rows (day date not null, v int)`);
    // Where 3-day chunks begin, found from a chunk TimescaleDB makes: the boundary 20 to 22 days ago.
    await rows('insert into daily_ticks values (current_date - 22, 0)');
    const [chunk] = await rows<{ range_end: string }>(
      "select range_end::date::text as range_end from timescaledb_information.chunks where hypertable_name = 'daily_ticks'",
    );
    boundary = chunk?.range_end ?? '';
    await rows('truncate daily_ticks');
    // One row a day from 6 days before the boundary to 5 days after: chunks [b-6, b-3), [b-3, b),
    // [b, b+3), [b+3, b+6); the same rows in a plain table for the row rule.
    for (const table of ['daily_ticks', 'daily_ticks_rows'])
      await rows(`insert into ${table} select $1::date + g, g from generate_series(-6, ${DAYS - 7}) g`, [
        boundary,
      ]);
    const [age] = await rows<{ days: number }>('select (current_date - $1::date)::int as days', [boundary]);
    aligned = age?.days ?? 0;
    // The cutoff pgmaint computes (now() - the age) falls on the boundary day.
    const [check] = await rows<{ day: string }>(
      'select (now() - make_interval(secs => $1))::date::text as day',
      [aligned * 86_400],
    );
    expect(check?.day).toBe(boundary);
  });
  afterAll(async () => {
    // One at a time: TimescaleDB refuses to drop a hypertable along with other tables.
    await rows('drop table daily_ticks');
    await rows('drop table daily_ticks_rows');
  });

  const rules = () => [
    // Cutoff on the boundary: chunks ending on it hold only older rows.
    { table: 'daily_ticks', hypertable: true, olderThan: `${aligned} days` },
    // Cutoff a day into [b, b+3): that chunk holds a row older than it, one on it and one newer.
    { table: 'daily_ticks', hypertable: true, olderThan: `${aligned - 1} days` },
    // The row rule on the same rows, the same age as the first.
    { table: 'daily_ticks_rows', column: 'day', olderThan: `${aligned} days` },
  ];
  const days = async (table: string) =>
    (await rows<{ day: string }>(`select day::text as day from ${table} order by day`)).map((r) => r.day);
  const shift = (offset: number) => {
    const day = new Date(`${boundary}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + offset);
    return day.toISOString().slice(0, 10);
  };

  it('lists in a dry run exactly the chunks entirely older than the cutoff, for either cutoff', async () => {
    const result = await runCliJson([
      'retention',
      '--config',
      configWith(rules()),
      '--target',
      'mt5',
      '--dry-run',
      '--json',
    ]);
    const [onBoundary, inside, rowRule] = result.rules;
    const ranges = (rule: { chunksToDrop: Array<{ rangeStart: string; rangeEnd: string }> }) =>
      rule.chunksToDrop.map((c) => [c.rangeStart.slice(0, 10), c.rangeEnd.slice(0, 10)]);
    const older = [
      [shift(-6), shift(-3)],
      [shift(-3), shift(0)],
    ];
    expect(ranges(onBoundary)).toEqual(older);
    expect(onBoundary.rowsToDelete).toBe(6);
    // The chunk the second cutoff falls in is not listed: it holds a row newer than the cutoff.
    expect(ranges(inside)).toEqual(older);
    expect(inside.rowsToDelete).toBe(6);
    // The row rule counts the same six rows: those strictly older than the cutoff day.
    expect(rowRule.rowsToDelete).toBe(6);
    expect(await days('daily_ticks')).toHaveLength(DAYS);
  });

  it('drops those chunks; the row on the cutoff survives, as under the row rule; the straddling chunk stays whole', async () => {
    const result = await runCliJson([
      'retention',
      '--config',
      configWith(rules()),
      '--target',
      'mt5',
      '--json',
    ]);
    const [onBoundary, inside] = result.rules;
    expect(onBoundary.chunksDropped).toHaveLength(2);
    expect(inside.chunksDropped).toEqual([]);
    const left = await days('daily_ticks');
    expect(left[0]).toBe(boundary);
    expect(left).toEqual(await days('daily_ticks_rows'));
    // The chunk [b, b+3) keeps the row older than the second cutoff (b), the one on it (b+1) and b+2.
    expect(left.slice(0, 3)).toEqual([shift(0), shift(1), shift(2)]);
    const chunks = await rows<{ range_start: string }>(
      "select range_start::date::text as range_start from timescaledb_information.chunks where hypertable_name = 'daily_ticks' order by range_start",
    );
    expect(chunks.map((c) => c.range_start)).toEqual([shift(0), shift(3)]);
  });
});

describe('health checks of TimescaleDB', () => {
  it('timescaledb_chunks: chunk count and size per hypertable; says the Apache build has no compression', async () => {
    const result = await runCli(['health', '--config', configWith([]), '--target', 'mt5', '--json']);
    const health = JSON.parse(result.stdout);
    const check = health.checks.find((c: { name: string }) => c.name === 'timescaledb_chunks');
    const [expected] = await rows<{ chunks: string; bytes: string }>(
      "select count(*) as chunks, hypertable_size('market_data') as bytes from timescaledb_information.chunks where hypertable_name = 'market_data'",
    );
    expect(check.status).toBe('ok');
    expect(check.value).toBeNull();
    expect(check.details.license).toBe('apache');
    expect(check.details.hypertables).toEqual([
      expect.objectContaining({
        schema: 'public',
        hypertable: 'market_data',
        chunks: Number(expected?.chunks),
        compressAfter: null,
        uncompressedPastPolicy: null,
      }),
    ]);
    // Within a page or two of the size read here (autovacuum may add a visibility map meanwhile).
    expect(Math.abs(check.details.hypertables[0].bytes - Number(expected?.bytes))).toBeLessThan(1_000_000);
    expect(check.message).toContain(`public.market_data ${expected?.chunks} chunk(s)`);
    expect(check.message).toContain('compression not checked: this is the Apache-licensed TimescaleDB build');
  });

  it('timescaledb_jobs: reads a real failed run of a TimescaleDB job, with its error', async () => {
    // add_job (user-defined actions) is TSL-licensed: the Apache build refuses it.
    await rows(
      "create procedure failing_action(job_id int, config jsonb) language plpgsql as $$ begin raise exception 'failing on purpose'; end $$",
    );
    await expect(rows("select add_job('failing_action', '1 hour')")).rejects.toThrow(
      /not supported under the current "apache" license/,
    );
    // Its own job-history retention job (a TSL policy) fails under the Apache license on its first
    // run, which the scheduler starts when the extension is created: a real failure record.
    const deadline = Date.now() + 120_000;
    let failed: Array<{ job_id: number }> = [];
    while (failed.length === 0 && Date.now() < deadline) {
      failed = await rows(
        "select job_id from timescaledb_information.job_stats where last_run_status = 'Failed'",
      );
      if (failed.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(failed.length).toBeGreaterThan(0);
    const result = await runCli(['health', '--config', configWith([]), '--target', 'mt5', '--json']);
    const check = JSON.parse(result.stdout).checks.find(
      (c: { name: string }) => c.name === 'timescaledb_jobs',
    );
    expect(check.status).toBe('warning');
    expect(check.value).toBe(1);
    expect(check.details.jobs).toEqual([
      expect.objectContaining({
        jobId: failed[0]?.job_id,
        procedure: 'policy_job_stat_history_retention',
        lastRunStatus: 'Failed',
        consecutiveFailures: 1,
        lastError: expect.stringContaining('not supported under the current "apache" license'),
      }),
    ]);
    expect(check.message).toMatch(
      /^1 TimescaleDB job\(s\) failing; worst 1 time\(s\) in a row \(\d+ .*apache/,
    );
  });
});

describe('backup → restore of a database with hypertables', () => {
  it('restores through timescaledb_pre_restore/post_restore with the same rows and hypertable metadata', async () => {
    const config = configWith([]);
    const backup = await runCli(['backup', '--config', config, '--target', 'mt5', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const restored = await runCliJson(['restore', '--config', config, '--target', 'mt5', '--json']);
    expect(restored).toMatchObject({ status: 'restored', mismatches: [] });

    const metadata = `
      select h.hypertable_schema, h.hypertable_name, h.num_dimensions, h.num_chunks,
             d.column_name, d.time_interval::text,
             (select count(*) from market_data) as rows,
             (select count(*) from accounts) as accounts,
             current_setting('timescaledb.restoring') as restoring
        from timescaledb_information.hypertables h
        join timescaledb_information.dimensions d using (hypertable_schema, hypertable_name)`;
    const source = await rows(metadata);
    const copy = await rows(metadata, [], restored.database);
    expect(source).toHaveLength(1);
    expect(copy).toEqual(source);
    expect(copy[0]).toMatchObject({ restoring: 'off' });
    // The restored database is a working TimescaleDB: new rows go to a new chunk.
    await withClient(async (client) => {
      await client.query(
        "insert into market_data values ('EURUSD', 'H6', now() + interval '400 days', 1, 1, 1, 1, 1)",
      );
      const chunks = await client.query(
        "select count(*)::int as n from timescaledb_information.chunks where hypertable_name = 'market_data'",
      );
      expect(chunks.rows[0].n).toBe(Number((source[0] as { num_chunks: number }).num_chunks) + 1);
    }, restored.database);
  });
});

describe('the demo on a server with TimescaleDB', () => {
  it('makes a hypertable and drops its chunks past 90 days', async () => {
    await withClient((client) => client.query('create database demo'), 'postgres');
    const demoUrl = new URL(server.url);
    demoUrl.pathname = '/demo';
    const configPath = writeConfig({ backupBucket: bucket, targets: { demo: { url: demoUrl.toString() } } });
    const said: string[] = [];
    const context: DemoContext = {
      configPath,
      config: parseConfig(JSON.parse(readFileSync(configPath, 'utf8'))),
      databaseUrl: demoUrl.toString(),
      cli: async (args, options = {}) => {
        const result = await runCli(args);
        if (!(options.expectExit ?? [0]).includes(result.code))
          throw new Error(`pgmaint ${args[0]} exited ${result.code}: ${result.stderr}`);
        return result;
      },
      sql: (text, values) => rows<Record<string, unknown>>(text, values, 'demo'),
      say: (line) => said.push(line),
    };
    await timescaledbStep.run(context);
    expect(said.join('\n')).toMatch(/market_data chunks (\d+) → (\d+)/);
    const [before, after] =
      /market_data chunks (\d+) → (\d+)/.exec(said.join('\n'))?.slice(1).map(Number) ?? [];
    expect(after).toBeLessThan(before ?? 0);
  });
});
