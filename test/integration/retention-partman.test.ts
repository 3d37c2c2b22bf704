import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RetentionRun } from '../../functions/retention/result';
import { runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';
import { withClient } from '../helpers/with-client';

/**
 * Partition sets pg_partman made and maintains (4.x from Debian in the test server, 5.x in a
 * cluster of its own): pgmaint drops exactly the expired partitions and leaves premaking to
 * pg_partman, whose run_maintenance() then still works and keeps its own names.
 */
type Major = 4 | 5;

interface PartmanSet {
  readonly table: string;
  readonly interval4: string;
  readonly interval5: string;
  /** pg_partman's to_char format for the partition suffix, per major. */
  readonly suffix4: string;
  readonly suffix5: string;
  readonly startAgo: string;
  readonly olderThan: string;
}

const SETS: readonly PartmanSet[] = [
  {
    table: 'ev_daily',
    interval4: 'daily',
    interval5: '1 day',
    suffix4: 'YYYY_MM_DD',
    suffix5: 'YYYYMMDD',
    startAgo: '10 days',
    olderThan: '5 days',
  },
  {
    table: 'ev_weekly',
    interval4: 'weekly',
    interval5: '1 week',
    suffix4: 'IYYY"w"IW',
    suffix5: 'YYYYMMDD',
    startAgo: '10 weeks',
    olderThan: '4 weeks',
  },
  {
    table: 'ev_monthly',
    interval4: 'monthly',
    interval5: '1 month',
    suffix4: 'YYYY_MM',
    suffix5: 'YYYYMMDD',
    startAgo: '8 months',
    olderThan: '95 days',
  },
  {
    table: 'ev_quarterly',
    interval4: 'quarterly',
    interval5: '3 months',
    suffix4: 'YYYY"q"Q',
    suffix5: 'YYYYMMDD',
    startAgo: '2 years',
    olderThan: '190 days',
  },
  {
    table: 'ev_hourly',
    interval4: 'hourly',
    interval5: '1 hour',
    suffix4: 'YYYY_MM_DD_HH24MI',
    suffix5: 'YYYYMMDD_HH24MISS',
    startAgo: '12 hours',
    olderThan: '5 hours',
  },
];

async function createSets(client: Client, major: Major): Promise<void> {
  await client.query('create schema partman; create extension pg_partman schema partman');
  for (const set of SETS) {
    await client.query(
      `create table public.${set.table} (id bigserial, at timestamptz not null, note text) partition by range (at)`,
    );
    const start = `now() - interval '${set.startAgo}'`;
    const created =
      major === 4
        ? `select partman.create_parent('public.${set.table}', 'at', 'native', '${set.interval4}', p_premake := 3, p_start_partition := (${start})::text)`
        : `select partman.create_parent('public.${set.table}', 'at', '${set.interval5}', p_premake := 3, p_start_partition := (${start})::text)`;
    await client.query(created);
    await client.query(
      `insert into public.${set.table} (at) select g from generate_series(${start}, now(), interval '${set.interval5}') g`,
    );
  }
}

interface PartitionRow {
  name: string;
  lower: string | null;
  upper: string | null;
  suffix_ok: boolean;
}

/** Each ranged partition with its bounds, and whether its name is pg_partman's for its lower bound. */
async function partitionsOf(client: Client, set: PartmanSet, major: Major): Promise<PartitionRow[]> {
  const format = major === 4 ? set.suffix4 : set.suffix5;
  const rows = await client.query<PartitionRow>(
    `with b as (
       select c.relname as name,
              (regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \\(''(.*)''\\) TO \\(''(.*)''\\)$')) as m
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = $1::regclass
     )
     select name, m[1] as lower, m[2] as upper,
            m[1] is not null and name = $2 || '_p' || to_char(m[1]::timestamptz, $3) as suffix_ok
     from b where m is not null order by m[1]::timestamptz`,
    [`public.${set.table}`, set.table, format],
  );
  return rows.rows;
}

function expectContiguousAndNamed(rows: readonly PartitionRow[]): void {
  expect(rows.filter((row) => !row.suffix_ok).map((row) => row.name)).toEqual([]);
  expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
  for (let i = 1; i < rows.length; i++) expect(rows[i]?.lower).toBe(rows[i - 1]?.upper);
}

async function journey(url: string, major: Major): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('set timezone = UTC');
    await createSets(client, major);
  });
  const before = new Map<string, PartitionRow[]>();
  await withClient(url, async (client) => {
    await client.query('set timezone = UTC');
    for (const set of SETS) {
      const rows = await partitionsOf(client, set, major);
      expectContiguousAndNamed(rows);
      before.set(set.table, rows);
    }
  });

  const rules = SETS.map((set, index) => ({
    table: set.table,
    partitions: true,
    olderThan: set.olderThan,
    // Asked of one set: pg_partman premakes it, so pgmaint must decline and say so.
    ...(index === 0 && { premake: 5 }),
  }));
  const configPath = writeConfig({ targets: { t: { url, retention: { rules } } } });
  const result = await runCliJson<RetentionRun>([
    'retention',
    '--config',
    configPath,
    '--target',
    't',
    '--json',
  ]);
  expect(result.status).toBe('complete');
  expect(result.warnings).toEqual([
    expect.stringMatching(
      /^public\.ev_daily: "premake" ignored, pg_partman maintains this set \(partman\.part_config: premake 3, interval /,
    ),
  ]);

  await withClient(url, async (client) => {
    await client.query('set timezone = UTC');
    for (const [index, set] of SETS.entries()) {
      const outcome = result.rules[index];
      expect(outcome?.premakeBy).toBe('pg_partman');
      expect(outcome?.partitionsCreated).toEqual([]);
      const rows = before.get(set.table) ?? [];
      const cutoff = new Date(outcome?.cutoff ?? '').getTime();
      const expired = rows.slice(0, -1).filter((row) => new Date(row.upper ?? '').getTime() <= cutoff);
      expect(expired.length, `${set.table}: some partitions expire`).toBeGreaterThan(0);
      expect(outcome?.partitionsDropped).toEqual(expired.map((row) => row.name));
      const left = await partitionsOf(client, set, major);
      expect(left.map((row) => row.name)).toEqual(rows.slice(expired.length).map((row) => row.name));
    }

    // pg_partman carries on after pgmaint: two more ahead per set, its names, twice in a row.
    await client.query('update partman.part_config set premake = premake + 2');
    await client.query('select partman.run_maintenance(p_analyze := false)');
    await client.query('select partman.run_maintenance(p_analyze := false)');
    for (const set of SETS) {
      const rows = before.get(set.table) ?? [];
      const after = await partitionsOf(client, set, major);
      expectContiguousAndNamed(after);
      const kept = after.filter((row) => rows.some((old) => old.name === row.name));
      expect(after.length - kept.length, `${set.table}: run_maintenance premade two more`).toBe(2);
    }
  });
}

describe('retention on pg_partman 4.x partition sets (Debian package, test server)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('retention_partman4');
  });
  afterAll(async () => db?.drop());

  it(`drops exactly the expired partitions, premakes nothing, and partman ${inject('partman4Version')}'s run_maintenance() keeps working`, async () => {
    await journey(db.url, 4);
  });
});

describe('retention on pg_partman 5.x partition sets (built from source, own cluster)', () => {
  let server: LocalPostgres;
  let url: string;
  beforeAll(async () => {
    const partman = inject('partman5');
    server = await startLocalPostgres({ bindir: partman.bindir, installRoot: partman.root });
    await withClient(server.url, (client) => client.query('create database partman5'));
    url = server.url.replace(/\/postgres$/, '/partman5');
  });
  afterAll(async () => server?.stop());

  it(`drops exactly the expired partitions, premakes nothing, and partman ${inject('partman5').version}'s run_maintenance() keeps working`, async () => {
    await journey(url, 5);
  });
});
