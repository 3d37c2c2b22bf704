import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResult } from '../../functions/health/definition';
import { handler } from '../../functions/health/handler';
import { backupKey, manifestKey } from '../../functions/shared/backup-catalog';
import { s3Store } from '../../functions/shared/store';
import { createBucket, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { ranHere } from '../helpers/handler-result';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';
import { testTempDir } from '../helpers/temp-dirs';

interface Check {
  name: string;
  status: string;
  value: number | null;
  unit: string | null;
  thresholds: { warning: string | null; critical: string | null };
  message: string;
  details: Record<string, unknown>;
  recommendation: string | null;
}
interface Result {
  target: string;
  status: string;
  startedAt: string;
  durationMs: number;
  checks: Check[];
}

const CHECK_NAMES = [
  'connection',
  'connections',
  'long_running_queries',
  'idle_in_transaction',
  'long_transactions',
  'blocked_queries',
  'prepared_transactions',
  'database_size',
  'cache_hit_ratio',
  'xid_wraparound',
  'autovacuum_freeze',
  'dead_tuples',
  'last_vacuum_analyze',
  'table_bloat',
  'index_bloat',
  'invalid_indexes',
  'unused_indexes',
  'duplicate_indexes',
  'disabled_triggers',
  'sequence_exhaustion',
  'replication_slots',
  'replication_lag',
  'wal_archiving',
  'wal_files',
  'checkpoints',
  'slow_queries',
  'temp_files',
  'commit_ratio',
  'backup_freshness',
  'backup_size_change',
  'backup_copies',
  'restore_drill',
  'timescaledb_jobs',
  'timescaledb_chunks',
  'server_version',
  'settings',
];

const UNGRADED: Thresholds = UNGRADED_SERVER_WIDE;

type Thresholds = Record<string, Record<string, string | number | null>>;

const tag = () => randomBytes(3).toString('hex');

async function connectTo(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Polls a condition (statistics, session states) instead of sleeping a guessed time. */
async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('health: every check provoked for real on PostgreSQL', () => {
  let db: TestDatabase;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    db = await createTestDatabase('health_checks');
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await db?.drop();
  });

  const health = async (thresholds: Thresholds = {}, extra: Record<string, unknown> = {}, url = db.url) => {
    const config = {
      ...extra,
      targets: { t: { url, health: { thresholds: { ...UNGRADED, ...thresholds } } } },
    };
    const out = await runCli(['health', '--config', writeConfig(config), '--target', 't', '--json']);
    const result = JSON.parse(out.stdout) as Result;
    const check = (name: string) => {
      const found = result.checks.find((c) => c.name === name);
      if (!found) throw new Error(`no ${name} in ${out.stdout}`);
      return found;
    };
    return { out, result, check };
  };

  it('reports every check, in the result shape, on a fresh database: ok or skipped with a reason', async () => {
    const { out, result, check } = await health();
    expect(out.code).toBe(0);
    expect(result.status).toBe('ok');
    expect(result.target).toBe('t');
    expect(Number.isNaN(Date.parse(result.startedAt))).toBe(false);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.checks.map((c) => c.name)).toEqual(CHECK_NAMES);
    for (const c of result.checks) {
      expect(Object.keys(c).sort()).toEqual(
        ['details', 'message', 'name', 'recommendation', 'status', 'thresholds', 'unit', 'value'].sort(),
      );
      expect(['ok', 'skipped']).toContain(c.status);
      expect(c.recommendation).toBeNull();
    }
    expect(check('idle_in_transaction').thresholds).toEqual({ warning: '5 minutes', critical: '30 minutes' });
    expect(check('cache_hit_ratio').message).toMatch(/^skipped: only \d+ blocks accessed/);
    expect(check('slow_queries').message).toBe(
      'skipped: pg_stat_statements is not installed in this database',
    );
    expect(check('timescaledb_jobs').message).toBe('skipped: TimescaleDB is not installed in this database');
    expect(check('timescaledb_chunks').message).toBe(
      'skipped: TimescaleDB is not installed in this database',
    );
    expect(check('replication_lag').message).toBe(
      'skipped: no standby or subscriber streams from this server',
    );
    expect(check('wal_archiving').message).toBe('skipped: archive_mode is off');
    expect(check('backup_freshness').message).toBe('skipped: no backup store configured (backupBucket)');
    expect(check('restore_drill').status).toBe('skipped');
    expect(check('database_size').value).toBeGreaterThan(1024 * 1024);
  });

  it('human output is a table with one row per check', async () => {
    const out = await runCli([
      'health',
      '--config',
      writeConfig({ targets: { t: { url: db.url, health: { thresholds: UNGRADED } } } }),
      '--target',
      't',
    ]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    // The first line is a Nagios plugin's: status, what is worst, and perfdata for every value.
    expect(lines[0]).toMatch(/^PGMAINT OK - \d+ check\(s\) ok, \d+ skipped \| 'connection'=[\d.]+s;1;;0; /);
    expect(lines[1]).toMatch(new RegExp(`^t: OK \\(${CHECK_NAMES.length} checks in \\d+ ms\\)$`));
    expect(lines[3]).toMatch(/^STATUS\s+CHECK\s+VALUE\s+THRESHOLDS\s+MESSAGE$/);
    expect(lines.find((l) => /^ok\s+connections\s/.test(l))).toMatch(/\swarn 80% crit 95%\s/);
    expect(lines.filter((l) => /^(ok|skipped)\s+[a-z_]+\s/.test(l))).toHaveLength(CHECK_NAMES.length);
  });

  it('rejects bad thresholds naming each path, before connecting', async () => {
    const out = await runCli([
      'health',
      '--config',
      writeConfig({
        targets: {
          t: {
            url: db.url,
            health: {
              thresholds: {
                idle_in_transaction: { warning: '5 parsecs' },
                connections: { critical: '120%' },
                no_such_check: { warning: 1 },
                connection: { minSize: '1 MB' },
              },
            },
          },
        },
      }),
      '--target',
      't',
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(
      'targets.t.health.thresholds.idle_in_transaction.warning: expected a duration like "5 minutes" or "100 ms" (units: ms, seconds, minutes, hours, days, weeks) or null, got "5 parsecs"',
    );
    expect(out.stderr).toContain(
      'targets.t.health.thresholds.connections.critical: expected a number like 50, or a share like "80%" or null, got "120%"',
    );
    expect(out.stderr).toContain('targets.t.health.thresholds.no_such_check: unknown check');
    expect(out.stderr).toContain(
      'targets.t.health.thresholds.connection.minSize: connection has no size floor',
    );
  });

  it('idle_in_transaction: a session left in an open transaction', async () => {
    const idle = await connectTo(db.url);
    cleanups.push(() => idle.end());
    await idle.query('begin');
    await idle.query('select 1');
    const pid = (await idle.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    await until(async () => {
      const rows = await db.sql(
        "select 1 from pg_stat_activity where pid = $1 and state = 'idle in transaction' and clock_timestamp() - state_change > interval '1.2 seconds'",
        [pid],
      );
      return rows.length === 1;
    });
    const { out, result, check } = await health({
      idle_in_transaction: { warning: '1 second', critical: '1 hour' },
    });
    const c = check('idle_in_transaction');
    expect(c.status).toBe('warning');
    expect(c.value).toBeGreaterThanOrEqual(1);
    expect(c.unit).toBe('seconds');
    expect(c.thresholds).toEqual({ warning: '1 second', critical: '1 hour' });
    expect((c.details.top as Array<{ pid: number }>).map((s) => s.pid)).toContain(pid);
    expect(c.recommendation).toContain('idle_in_transaction_session_timeout');
    expect(result.status).toBe('warning');
    expect(out.code).toBe(1);
    await idle.query('rollback');
    const after = await health({ idle_in_transaction: { warning: '1 second', critical: '1 hour' } });
    expect(after.check('idle_in_transaction').status).toBe('ok');
  });

  it('long_transactions: a transaction kept open by a stream of short statements, which idle_in_transaction calls ok', async () => {
    const busy = await connectTo(db.url);
    cleanups.push(() => busy.end());
    await busy.query('begin');
    const pid = (await busy.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    let chatting = true;
    const chatter = (async () => {
      while (chatting) {
        await busy.query('select 1');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await until(async () => {
        const rows = await db.sql(
          "select 1 from pg_stat_activity where pid = $1 and clock_timestamp() - xact_start > interval '1.5 seconds'",
          [pid],
        );
        return rows.length === 1;
      });
      const { check } = await health({
        long_transactions: { warning: '1 second', critical: '1 hour' },
        idle_in_transaction: { warning: '1 second', critical: '1 hour' },
      });
      expect(check('idle_in_transaction').status).toBe('ok');
      const c = check('long_transactions');
      expect(c.status).toBe('warning');
      expect(c.unit).toBe('seconds');
      expect(c.value).toBeGreaterThanOrEqual(1.5);
      expect(c.thresholds).toEqual({ warning: '1 second', critical: '1 hour' });
      expect(c.message).toMatch(
        new RegExp(`^oldest open transaction began \\d+(\\.\\d)? s ago \\(pid ${pid}, `),
      );
      expect((c.details.top as Array<{ pid: number }>)[0]?.pid).toBe(pid);
      expect(c.details.overWarning).toBe(1);
      expect(c.recommendation).toContain('vacuum cannot remove dead rows');
      const critical = (
        await health({ long_transactions: { warning: '500 ms', critical: '1 second' } })
      ).check('long_transactions');
      expect(critical.status).toBe('critical');
    } finally {
      chatting = false;
      await chatter;
    }
    await busy.query('rollback');
    expect(
      (await health({ long_transactions: { warning: '1 second' } })).check('long_transactions').status,
    ).toBe('ok');
  });

  it('blocked_queries and long_running_queries: a lock held by another connection', async () => {
    await db.sql('create table locked (id int)');
    const holder = await connectTo(db.url);
    const waiter = await connectTo(db.url);
    cleanups.push(
      () => holder.end(),
      () => waiter.end(),
    );
    await holder.query('begin');
    await holder.query('lock table locked in access exclusive mode');
    const holderPid = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    const waiterPid = (await waiter.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    const waiting = waiter.query('select count(*) from locked').catch(() => undefined);
    await until(async () => {
      const rows = await db.sql(
        "select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock' and clock_timestamp() - query_start > interval '1.2 seconds'",
        [waiterPid],
      );
      return rows.length === 1;
    });
    const { check } = await health({
      blocked_queries: { warning: '1 second' },
      long_running_queries: { warning: '500 ms', critical: '1 second' },
    });
    const blocked = check('blocked_queries');
    expect(blocked.status).toBe('warning');
    expect(blocked.details.waiting).toBe(1);
    const top = (blocked.details.top as Array<{ pid: number; blockedBy: number[]; relation: string }>)[0];
    expect(top).toMatchObject({ pid: waiterPid, blockedBy: [holderPid], relation: 'locked' });
    expect(blocked.message).toContain(`blocked by ${holderPid} on locked`);
    const long = check('long_running_queries');
    expect(long.status).toBe('critical');
    expect((long.details.top as Array<{ pid: number; query: string }>)[0]).toMatchObject({
      pid: waiterPid,
      query: 'select count(*) from locked',
    });
    await holder.query('rollback');
    await waiting;
  });

  it('prepared_transactions: a two-phase transaction left prepared', async () => {
    const gid = `pgmaint-test-${tag()}`;
    await db.sql('create table if not exists two_phase (id int)');
    const client = await connectTo(db.url);
    try {
      await client.query('begin');
      await client.query('insert into two_phase values (1)');
      await client.query(`prepare transaction '${gid}'`);
    } finally {
      await client.end();
    }
    cleanups.push(() => db.sql(`rollback prepared '${gid}'`));
    await until(async () => {
      const rows = await db.sql(
        "select 1 from pg_prepared_xacts where gid = $1 and clock_timestamp() - prepared > interval '1.2 seconds'",
        [gid],
      );
      return rows.length === 1;
    });
    const { check } = await health({ prepared_transactions: { warning: '1 second' } });
    const c = check('prepared_transactions');
    expect(c.status).toBe('warning');
    expect(c.message).toContain(`"${gid}"`);
    await db.sql(`rollback prepared '${gid}'`);
    expect(
      (await health({ prepared_transactions: { warning: '1 second' } })).check('prepared_transactions')
        .status,
    ).toBe('ok');
  });

  it('sequence_exhaustion: a serial sequence set near the integer maximum, and a bigint sequence feeding an int column', async () => {
    await db.sql('create table nearly_full (id serial primary key)');
    await db.sql("select setval('nearly_full_id_seq', 2040109466)"); // 95% of 2147483647
    const { check } = await health();
    const c = check('sequence_exhaustion');
    expect(c.status).toBe('critical');
    expect(c.value).toBeCloseTo(95, 0);
    expect(c.message).toContain('public.nearly_full_id_seq feeding nearly_full.id (integer)');

    await db.sql("select setval('nearly_full_id_seq', 1)");
    await db.sql('create sequence wide_seq as bigint');
    await db.sql("create table narrow (id int primary key default nextval('wide_seq'))");
    await db.sql('alter sequence wide_seq owned by narrow.id');
    await db.sql("select setval('wide_seq', 1717986918)"); // 80% of the int column, 0.00002% of bigint
    const wide = (await health()).check('sequence_exhaustion');
    expect(wide.status).toBe('warning');
    expect(wide.message).toContain('public.wide_seq feeding narrow.id (integer)');
  });

  it('sequence_exhaustion: the whole range of a sequence from -2^31, and a sequence feeding a column only through DEFAULT nextval', async () => {
    await db.sql('create sequence signed_seq as integer minvalue -2147483648 start -2147483648');
    cleanups.push(() => db.sql('drop sequence if exists signed_seq'));
    await db.sql("select setval('signed_seq', 1900000000)"); // 94.24% of -2^31..2^31-1
    const high = (await health()).check('sequence_exhaustion');
    expect(high.status).toBe('critical');
    expect(high.value).toBe(94.24);
    expect(high.message).toContain(
      'public.signed_seq has used 94.24% of its range (at 1,900,000,000, counting up to 2,147,483,647)',
    );

    await db.sql("select setval('signed_seq', -1000000000)");
    const low = (await health()).check('sequence_exhaustion');
    const signed = (low.details.top as Array<{ sequence: string; usedPercent: number }>).find(
      (s) => s.sequence === 'signed_seq',
    );
    expect(signed?.usedPercent).toBe(26.72);
    await db.sql('drop sequence signed_seq');

    // No OWNED BY: the column default is the only link between the bigint sequence and the int column.
    await db.sql('create sequence ticket_seq as bigint');
    await db.sql("create table tickets (id int primary key default nextval('ticket_seq'))");
    cleanups.push(() => db.sql('drop table if exists tickets; drop sequence if exists ticket_seq'));
    await db.sql("select setval('ticket_seq', 2040109466)"); // 95% of the int column
    const fed = (await health()).check('sequence_exhaustion');
    expect(fed.status).toBe('critical');
    expect(fed.value).toBe(95);
    expect(fed.message).toContain('public.ticket_seq feeding tickets.id (integer) has used 95% of its range');
    await db.sql('drop table tickets; drop sequence ticket_seq');
  });

  it('invalid_indexes: a failed CREATE INDEX CONCURRENTLY, then the _ccnew leftover of a failed REINDEX CONCURRENTLY', async () => {
    await db.sql('create table dup (v int)');
    await db.sql('insert into dup values (1), (1)');
    await expect(db.sql('create unique index concurrently dup_v on dup (v)')).rejects.toThrow(
      /could not create unique index/,
    );
    const first = (await health()).check('invalid_indexes');
    expect(first.status).toBe('warning');
    expect(first.value).toBe(1);
    expect(first.message).toBe('1 invalid index(es): public.dup_v');
    expect(first.recommendation).toContain('CREATE INDEX CONCURRENTLY failed');

    await expect(db.sql('reindex index concurrently dup_v')).rejects.toThrow(/could not create unique index/);
    const second = (await health()).check('invalid_indexes');
    expect(second.value).toBe(2);
    expect(second.message).toContain('public.dup_v_ccnew');
    expect(second.message).toContain('(1 left by an interrupted REINDEX CONCURRENTLY)');
    expect(second.recommendation).toContain('_ccnew');
    expect(second.status).toBe('warning');
  });

  it('replication_slots: a slot left inactive holds WAL back', async () => {
    const slot = `pgmaint_test_${tag()}`;
    await db.sql('select pg_create_physical_replication_slot($1, true)', [slot]);
    cleanups.push(() => db.sql('select pg_drop_replication_slot($1)', [slot]));
    await db.sql(
      'create table wal_maker as select g, repeat(md5(g::text), 4) as pad from generate_series(1, 5000) g',
    );
    const { check } = await health({ replication_slots: { warning: '64 kB', critical: '10 GB' } });
    const c = check('replication_slots');
    expect(c.status).toBe('warning');
    expect(c.unit).toBe('bytes');
    const mine = (c.details.slots as Array<{ slot: string; active: boolean; retainedBytes: number }>).find(
      (s) => s.slot === slot,
    );
    expect(mine).toMatchObject({ active: false });
    expect(mine?.retainedBytes).toBeGreaterThan(64 * 1024);

    // PostgreSQL 15 without a backup store: nothing records since when the slot is inactive.
    const blind = (await health()).check('replication_slots');
    expect(blind.status).toBe('unknown');
    expect(blind.message).toContain(
      `cannot know how long ${slot} has been inactive: PostgreSQL before 17 does not record it, and without a backup store (backupBucket)`,
    );
    expect(blind.recommendation).toContain('configure a backup store');

    // PostgreSQL 15 does not record since when a slot is inactive: health remembers when it first
    // saw it so, in the state object, and warns once that is longer ago than inactiveFor.
    const withStore = {
      backupBucket: pathToFileURL(testTempDir('health-state-')).toString(),
    };
    const inactiveFor = { replication_slots: { inactiveFor: '1 second' } };
    const firstSeen = (await health(inactiveFor, withStore)).check('replication_slots');
    expect(firstSeen.status).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the condition is time itself
    const stale = (await health(inactiveFor, withStore)).check('replication_slots');
    expect(stale.status).toBe('warning');
    expect(stale.message).toContain(`or more: ${slot}`);
    await db.sql('select pg_drop_replication_slot($1)', [slot]);
  });

  it('dead_tuples: more dead rows than live in a table vacuum never visited', async () => {
    await db.sql('create table churn (id int) with (autovacuum_enabled = false)');
    await db.sql('insert into churn select generate_series(1, 10000)');
    await db.sql('delete from churn where id <= 6000');
    await until(async () => {
      const rows = await db.sql("select n_dead_tup from pg_stat_user_tables where relname = 'churn'");
      return Number(rows[0]?.n_dead_tup) >= 6000;
    });
    const c = (await health()).check('dead_tuples');
    expect(c.status).toBe('critical');
    expect(c.value).toBe(150);
    expect(c.message).toContain('public.churn has 6000 dead rows for 4000 live (150%)');
    await db.sql('vacuum churn');
  });

  it('table_bloat and index_bloat: most rows deleted and vacuumed, the space stays', async () => {
    await db.sql(
      "create table bloated with (autovacuum_enabled = false) as select g as id, repeat('x', 60) as pad from generate_series(1, 100000) g",
    );
    await db.sql('create index bloated_id on bloated (id)');
    await db.sql('analyze bloated');
    const floors = { table_bloat: { minSize: '1 MB' }, index_bloat: { minSize: '1 MB' } };
    const before = await health(floors);
    expect(before.check('table_bloat').value).toBeLessThan(15);
    expect(before.check('index_bloat').value).toBeLessThan(15);

    await db.sql('delete from bloated where id % 5 <> 0');
    await db.sql('vacuum analyze bloated');
    const { check } = await health(floors);
    const table = check('table_bloat');
    expect(table.status).toBe('critical');
    expect(table.value).toBeGreaterThan(70);
    expect(table.message).toMatch(/^public\.bloated: about \d+(\.\d)?% bloat/);
    const index = check('index_bloat');
    expect(index.status).toBe('critical');
    expect(index.value).toBeGreaterThan(70);
    expect(index.message).toContain('public.bloated_id on bloated');
    expect(index.recommendation).toContain('REINDEX INDEX CONCURRENTLY');

    const defaults = await health();
    expect(defaults.check('table_bloat').message).toBe('no table of 10 MB or more');
  });

  it('table_bloat and index_bloat: a never-analyzed table is named with its real size, not left out', async () => {
    // Loaded after its index was built, never vacuumed nor analyzed: relpages says 0 (the table) and
    // 1 (the index), pg_stats has nothing.
    await db.sql(
      'create table loaded_tonight (id bigint not null, pad text not null) with (autovacuum_enabled = false)',
    );
    cleanups.push(() => db.sql('drop table if exists loaded_tonight'));
    await db.sql('create index loaded_tonight_id on loaded_tonight (id)');
    await db.sql("insert into loaded_tonight select g, repeat('x', 200) from generate_series(1, 250000) g");
    const [facts] = await db.sql(
      "select relpages, pg_relation_size('loaded_tonight') as bytes from pg_class where relname = 'loaded_tonight'",
    );
    expect(facts?.relpages).toBe(0);
    expect(Number(facts?.bytes)).toBeGreaterThan(50 * 1024 ** 2);
    await until(async () => {
      const rows = await db.sql(
        "select n_live_tup from pg_stat_user_tables where relname = 'loaded_tonight'",
      );
      return Number(rows[0]?.n_live_tup) === 250_000;
    });

    const floors = { index_bloat: { minSize: '1 MB' } };
    const { check } = await health(floors);
    const table = check('table_bloat');
    expect(table.status).toBe('unknown');
    expect(table.value).toBeNull();
    expect(table.message).toMatch(
      /^no table of 10 MB or more could be estimated; bloat unknown for 1 table\(s\) without statistics: public\.loaded_tonight \(5\d(\.\d)? MB, never analyzed\); ANALYZE them/,
    );
    expect(table.details.withoutStatistics).toEqual([
      { schema: 'public', table: 'loaded_tonight', bytes: Number(facts?.bytes), why: 'never analyzed' },
    ]);
    expect(table.recommendation).toContain('Run ANALYZE');
    const index = check('index_bloat');
    expect(index.message).toMatch(
      /public\.loaded_tonight_id on loaded_tonight \(\d+(\.\d)? MB, never analyzed\)/,
    );
    expect(index.details.withoutStatistics).toMatchObject([
      { index: 'loaded_tonight_id', why: 'never analyzed' },
    ]);

    await db.sql('analyze loaded_tonight');
    const analyzed = await health(floors);
    expect(analyzed.check('table_bloat').status).toBe('ok');
    expect(analyzed.check('table_bloat').message).toMatch(/^public\.loaded_tonight: about \d+(\.\d)?% bloat/);
    expect(analyzed.check('table_bloat').details.withoutStatistics).toEqual([]);
    expect(analyzed.check('index_bloat').details.withoutStatistics).toEqual([]);
    await db.sql('drop table loaded_tonight');
  });

  it("index_bloat: the reindex job's floor is health's, and what health reports the job clears", async () => {
    await db.sql(
      "create table floor_demo with (autovacuum_enabled = false) as select g as id, repeat('x', 60) as pad from generate_series(1, 100000) g",
    );
    await db.sql('create index floor_demo_id on floor_demo (id)');
    await db.sql('delete from floor_demo where id % 5 <> 0');
    await db.sql('vacuum analyze floor_demo');
    const indexBytes = Number((await db.sql("select pg_relation_size('floor_demo_id') as b"))[0]?.b);
    expect(indexBytes).toBeGreaterThan(1024 * 1024);
    expect(indexBytes).toBeLessThan(10 * 1024 * 1024);
    const reindex = { minSize: '1 MB', schedule: 'cron(0 4 ? * SUN *)' };
    const run = async (job: string, section: Record<string, unknown>) => {
      const config = writeConfig({ targets: { t: { url: db.url, reindex: section } } });
      const out = await runCli([job, '--config', config, '--target', 't', '--json']);
      return { out, result: JSON.parse(out.stdout) };
    };
    const checkOf = (result: Result) => result.checks.find((c) => c.name === 'index_bloat');

    // Below the default reindex floor (100 MB): neither health nor the job looks at it.
    const unseen = await run('health', {});
    expect(checkOf(unseen.result)?.status).toBe('ok');
    expect(checkOf(unseen.result)?.message).toBe('no index of 100 MB or more');

    // With reindex.minSize 1 MB, health sees it and says the job will rebuild it.
    const seen = await run('health', reindex);
    const bloat = checkOf(seen.result);
    expect(bloat?.status).toBe('critical');
    const top = bloat?.details.top as Array<{ index: string; bytes: number }>;
    expect(top.map((i) => i.index)).toContain('floor_demo_id');
    expect(bloat?.recommendation).toBe(
      'The reindex job (cron(0 4 ? * SUN *)) rebuilds it at its next run, worst first; to do it now, run `pgmaint reindex --target t`.',
    );
    const rebuilt = await run('reindex', reindex);
    expect(rebuilt.out.code, rebuilt.out.stderr).toBe(0);
    expect(rebuilt.result.indexes.map((i: { name: string }) => i.name)).toContain('public.floor_demo_id');
    const after = await run('health', reindex);
    const cleared = checkOf(after.result);
    expect(cleared?.status, cleared?.message).toBe('ok');
    await db.sql('drop table floor_demo');
  });

  it('unused_indexes and duplicate_indexes: informational, and alerting once thresholds are set', async () => {
    await db.sql('create table pairs (a int, b int)');
    await db.sql('create index pairs_a on pairs (a)');
    await db.sql('create index pairs_a_b on pairs (a, b)');
    await db.sql('create unique index pairs_b_unique on pairs (b)');
    await db.sql('create index pairs_b on pairs (b)');
    const informational = await health({ unused_indexes: { minSize: '8 kB' } });
    const unused = informational.check('unused_indexes');
    expect(unused.status).toBe('ok');
    const unusedNames = (unused.details.indexes as Array<{ index: string }>).map((i) => i.index);
    expect(unusedNames).toEqual(expect.arrayContaining(['pairs_a', 'pairs_a_b', 'pairs_b']));
    expect(unusedNames).not.toContain('pairs_b_unique');
    const duplicates = informational.check('duplicate_indexes');
    expect(duplicates.status).toBe('ok');
    const pairs = (duplicates.details.indexes as Array<{ index: string; coveredBy: string }>)
      .filter((d) => d.index.startsWith('pairs'))
      .map((d) => `${d.index}<${d.coveredBy}`)
      .sort();
    expect(pairs).toEqual(['pairs_a<pairs_a_b', 'pairs_b<pairs_b_unique']);

    const strict = await health({
      unused_indexes: { warning: 1, minSize: '8 kB' },
      duplicate_indexes: { warning: 1 },
    });
    expect(strict.check('unused_indexes').status).toBe('warning');
    expect(strict.check('duplicate_indexes').status).toBe('warning');
    expect(strict.check('duplicate_indexes').recommendation).toContain('DROP INDEX CONCURRENTLY');
  });

  it('cache_hit_ratio, xid_wraparound, connections, database_size: measured, and judged by the thresholds given', async () => {
    const { check } = await health({
      cache_hit_ratio: { warning: '100%', critical: '1%' },
      xid_wraparound: { warning: 1 },
      connections: { warning: '0.1%' },
      database_size: { warning: '1 MB', critical: '100 GB' },
    });
    const cache = check('cache_hit_ratio');
    const [stats] = await db.sql(
      'select blks_hit as hits, blks_read as reads from pg_stat_database where datname = current_database()',
    );
    const expected = (100 * Number(stats?.hits)) / (Number(stats?.hits) + Number(stats?.reads));
    expect(cache.value).toBeLessThan(100);
    expect(Math.abs((cache.value ?? 0) - expected)).toBeLessThan(0.5);
    expect(cache.status).toBe('warning');
    expect(check('xid_wraparound')).toMatchObject({ status: 'warning', unit: 'count' });
    expect(check('connections').status).toBe('warning');
    expect(check('connections').message).toMatch(/^\d+ of \d+ connections in use/);
    expect(check('database_size')).toMatchObject({ status: 'warning', unit: 'bytes' });
  });

  it('slow_queries: pg_stat_statements with a statement slower than the threshold', async () => {
    await db.sql('create extension if not exists pg_stat_statements');
    const client = await connectTo(db.url);
    try {
      for (let i = 0; i < 12; i++) await client.query('select pg_sleep(0.02)');
    } finally {
      await client.end();
    }
    const { check } = await health({ slow_queries: { warning: '10 ms', critical: '10 seconds' } });
    const c = check('slow_queries');
    expect(c.status).toBe('warning');
    expect(c.unit).toBe('ms');
    expect(c.value).toBeGreaterThanOrEqual(20);
    expect(c.message).toContain('pg_sleep');
  });

  it('a check held up by a lock becomes unknown and every other check still runs', async () => {
    await db.sql('create extension if not exists pg_stat_statements');
    const locker = await connectTo(db.url);
    cleanups.push(() => locker.end());
    await locker.query('begin');
    await locker.query('lock table pg_stat_statements in access exclusive mode');
    const { out, result, check } = await health();
    const slow = check('slow_queries');
    expect(slow.status).toBe('unknown');
    expect(slow.message).toBe('could not run: canceling statement due to lock timeout');
    expect(result.checks).toHaveLength(CHECK_NAMES.length);
    expect(result.checks.filter((c) => c.status === 'unknown').map((c) => c.name)).toEqual(['slow_queries']);
    expect(check('invalid_indexes').status).toBe('warning');
    expect(check('timescaledb_jobs').status).toBe('skipped');
    expect(out.code).toBe(1); // the invalid index's warning outranks unknown
    await locker.query('rollback');
  });

  it('backup_freshness, backup_size_change and restore_drill read the backup catalog and the drill state', async () => {
    const bucket = await createBucket();
    const store = s3Store(new S3Client({ forcePathStyle: true }), bucket);
    const now = Date.now();
    const manifest = (hoursAgo: number, bytes: number) => {
      const finished = new Date(now - hoursAgo * 3600_000);
      const key = backupKey('t', new Date(finished.getTime() - 60_000));
      // A whole manifest: health parses what it reads with the manifest's schema.
      const body = {
        formatVersion: 1,
        target: 't',
        database: 't',
        key,
        startedAt: new Date(finished.getTime() - 60_000).toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: 60_000,
        bytes,
        sha256: '0'.repeat(64),
        serverVersion: '15.4',
        serverVersionNum: 150004,
        pgDumpVersion: '18.0',
        archiveVersion: '1.16.0',
        compression: 'zstd:3',
        databaseSizeBytes: bytes * 4,
        tables: [],
        rowCountsExact: false,
      };
      return { key, body };
    };
    const extra = { backupBucket: bucket };
    const noBackups = await health({}, extra);
    expect(noBackups.check('backup_freshness').message).toBe(
      'skipped: target "t" has no backup section and no backup',
    );
    expect(noBackups.check('restore_drill').message).toBe('skipped: no restore drill has run for t yet');

    for (const m of [manifest(60, 10_000_000), manifest(30, 4_000_000)])
      await store.put(manifestKey(m.key), JSON.stringify(m.body));
    await store.put(
      'state/t/restore-drill.json',
      JSON.stringify({
        finishedAt: new Date(now - 9 * 86_400_000).toISOString(),
        status: 'passed',
        backupKey: 'x',
        durationMs: 4000,
        mismatches: [],
      }),
    );
    const { check } = await health({}, extra);
    expect(check('backup_freshness')).toMatchObject({ status: 'warning', unit: 'seconds' });
    expect(check('backup_freshness').value).toBeCloseTo(30 * 3600, -2);
    expect(check('backup_size_change')).toMatchObject({ status: 'warning', value: 60 });
    expect(check('backup_size_change').message).toContain('60% smaller');
    expect(check('restore_drill').status).toBe('warning');
    expect(check('restore_drill').message).toMatch(/^last restore drill passed 9\.0 days ago/);

    await store.put(
      'state/t/restore-drill.json',
      JSON.stringify({
        finishedAt: new Date(now - 3600_000).toISOString(),
        status: 'failed',
        backupKey: 'x',
        durationMs: 4000,
        mismatches: [{ table: 'public.orders', expected: 10, actual: 9 }],
      }),
    );
    const failed = await health({}, extra);
    expect(failed.check('restore_drill').status).toBe('critical');
    expect(failed.check('restore_drill').recommendation).toContain('The last restore drill failed');
  });

  it('the Lambda handler writes an EMF metric for every numeric value, by target and check', async () => {
    process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { t: { url: db.url } } });
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let result: HealthResult;
    try {
      result = ranHere(
        await handler({ target: 't' }, { awsRequestId: 'req-emf', getRemainingTimeInMillis: () => 60_000 }),
      );
    } finally {
      process.stdout.write = write;
    }
    const documents = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
          },
      );
    const byCheck = (name: string) => documents.find((d) => d.check === name && 'HealthCheckValue' in d);
    for (const check of result.checks.filter((c) => c.value !== null)) {
      const document = byCheck(check.name);
      expect(document, check.name).toBeDefined();
      expect(document?.HealthCheckValue).toBe(check.value);
      expect(document?.target).toBe('t');
      expect(document?._aws.CloudWatchMetrics[0]?.Namespace).toBe('pgmaint');
      expect(document?._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(
        expect.arrayContaining(['target', 'check']),
      );
    }
    expect(byCheck('xid_wraparound')?.HealthCheckStatus).toBe(0);
    expect(documents.find((d) => d.check === 'invalid_indexes')?.HealthCheckStatus).toBe(1);
    expect(byCheck('timescaledb_jobs')).toBeUndefined(); // skipped: no value, no metric
  });

  it('near the Lambda deadline, starts no more checks and returns what it has', async () => {
    process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { t: { url: db.url } } });
    let asked = 0;
    // Plenty of time for the first three checks, then less than a statement timeout.
    const remaining = () => (++asked <= 3 ? 60_000 : 9_000);
    const result = ranHere(
      await handler({ target: 't' }, { awsRequestId: 'req-late', getRemainingTimeInMillis: remaining }),
    );
    expect(result.checks).toHaveLength(CHECK_NAMES.length);
    expect(result.checks.slice(0, 3).map((c) => c.status)).toEqual(['ok', 'ok', 'ok']);
    for (const check of result.checks.slice(3)) {
      expect(check.status).toBe('unknown');
      expect(check.message).toBe('could not run: not started: the run is about to reach its time limit');
    }
    expect(result.status).toBe('unknown');
  });

  it('passes as a role with only pg_monitor: nothing unknown, what it cannot read is said', async () => {
    const role = `health_monitor_${tag()}`;
    const password = `pw-${tag()}-A1`;
    await db.sql(`create role ${role} login password '${password}' in role pg_monitor`);
    cleanups.push(() => withAdmin(async (c) => c.query(`drop role if exists ${role}`)));
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const { result, check } = await health({ table_bloat: { minSize: '1 MB' } }, {}, url.toString());
    expect(result.checks.filter((c) => c.status === 'unknown')).toEqual([]);
    expect(check('connection').status).toBe('ok');
    expect(check('invalid_indexes').status).toBe('warning');
    expect(check('sequence_exhaustion').status).toBe('skipped');
    expect(check('sequence_exhaustion').message).toMatch(/not readable by this role \(grant SELECT/);
    expect(check('table_bloat').status).toBe('skipped');
    expect(check('table_bloat').message).toContain('statistics hidden from this role');
    expect(check('table_bloat').message).toContain('grant SELECT on them');
    expect(check('database_size').value).toBeGreaterThan(0);
  });
});

describe('health alerts only when a check changes state (SNS via the AWS emulator, state in S3)', () => {
  let db: TestDatabase;
  let inbox: Inbox;
  let bucket: string;
  let idle: Client | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('health_alerts');
    inbox = await createTopicInbox();
    bucket = await createBucket();
  });
  afterAll(async () => {
    await idle?.end().catch(() => {});
    await db?.drop();
  });

  const run = (thresholds: Thresholds, withStore = true) =>
    runCli([
      'health',
      '--config',
      writeConfig({
        alerts: { topicArn: inbox.topicArn },
        ...(withStore ? { backupBucket: bucket } : {}),
        targets: { watched: { url: db.url, health: { thresholds: { ...UNGRADED, ...thresholds } } } },
      }),
      '--target',
      'watched',
      '--json',
    ]);

  it('stays silent while ok, sends one message per change, none while unchanged, and one on recovery', async () => {
    const quiet = await run({});
    expect(quiet.code).toBe(0);
    expect(await inbox.messages()).toHaveLength(0);

    idle = await connectTo(db.url);
    await idle.query('begin');
    await idle.query('select 1');
    await until(async () => {
      const rows = await db.sql(
        "select 1 from pg_stat_activity where datname = current_database() and state = 'idle in transaction' and clock_timestamp() - state_change > interval '1.2 seconds'",
      );
      return rows.length === 1;
    });
    const provoked = { idle_in_transaction: { warning: '1 second' }, database_size: { warning: '1 MB' } };
    const second = await run(provoked);
    expect(second.code).toBe(1);
    let messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint WARNING health watched');
    expect(messages[0]?.message).toContain('idle_in_transaction: ok -> warning');
    expect(messages[0]?.message).toContain('database_size: ok -> warning');
    expect(messages[0]?.message).toContain('what to do: An application opened a transaction');

    const third = await run(provoked);
    expect(third.code).toBe(1);
    expect(await inbox.messages()).toHaveLength(1);

    const escalated = await run({ ...provoked, database_size: { warning: '1 MB', critical: '2 MB' } });
    expect(escalated.code).toBe(2);
    messages = await inbox.messages({ expect: 2 });
    expect(messages).toHaveLength(2);
    expect(messages[1]?.subject).toBe('pgmaint CRITICAL health watched');
    expect(messages[1]?.message).toContain('database_size: warning -> critical');
    expect(messages[1]?.message).not.toContain('idle_in_transaction');

    await idle.query('rollback');
    const recovered = await run({ idle_in_transaction: { warning: '1 second' } });
    expect(recovered.code).toBe(0);
    messages = await inbox.messages({ expect: 3 });
    expect(messages).toHaveLength(3);
    expect(messages[2]?.subject).toBe('pgmaint RECOVERED health watched');
    expect(messages[2]?.message).toContain('idle_in_transaction: warning -> ok');
    expect(messages[2]?.message).toContain('database_size: critical -> ok');

    const store = s3Store(new S3Client({ forcePathStyle: true }), bucket);
    const state = JSON.parse((await store.get('state/watched/health.json'))?.toString() ?? '{}');
    expect(state.checks.idle_in_transaction.status).toBe('ok');
    expect(state.checks.slow_queries.status).toBe('skipped');

    await run({ idle_in_transaction: { warning: '1 second' } });
    expect(await inbox.messages()).toHaveLength(3);
  });

  it('without a backup store, alerts on every run that is not ok and says why', async () => {
    const before = (await inbox.messages()).length;
    await run({ database_size: { warning: '1 MB' } }, false);
    await run({ database_size: { warning: '1 MB' } }, false);
    const messages = (await inbox.messages({ expect: before + 2 })).slice(before);
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message.subject).toBe('pgmaint WARNING health watched');
      expect(message.message).toContain('cannot remember check states between runs');
    }
    await run({}, false);
    // Compared as a list, so a failure shows the alert that should not have been sent.
    expect((await inbox.messages()).slice(before + 2)).toEqual([]);
  });
});
