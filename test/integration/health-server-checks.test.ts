import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { testTempDir } from '../helpers/temp-dirs';

interface Check {
  name: string;
  status: string;
  value: number | null;
  message: string;
  details: Record<string, unknown>;
}

type Thresholds = Record<string, Record<string, unknown>>;

/** Statistics reach pg_stat_* when a backend reports them: poll instead of sleeping a guessed time. */
async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The checks that compare a server against its limits and its own history (freeze age, WAL,
 * checkpoints, temp files, commit ratio, settings, version, maintenance age), each provoked on a
 * real PostgreSQL and run through the CLI.
 */
describe('health: server and maintenance checks, provoked for real', () => {
  let db: TestDatabase;
  let store: string;

  beforeAll(async () => {
    db = await createTestDatabase('health_server');
    store = pathToFileURL(testTempDir('health-state-')).toString();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** One health run; with `remember`, state (each check's counters) is kept in a folder store. */
  async function health(thresholds: Thresholds, remember = false) {
    const config = {
      ...(remember ? { backupBucket: store } : {}),
      targets: { t: { url: db.url, health: { thresholds } } },
    };
    const out = await runCli(['health', '--config', writeConfig(config), '--target', 't', '--json']);
    const result = JSON.parse(out.stdout) as { checks: Check[] };
    return (name: string): Check => {
      const found = result.checks.find((c) => c.name === name);
      if (!found) throw new Error(`no ${name} in ${out.stdout}\n${out.stderr}`);
      return found;
    };
  }

  it('autovacuum_freeze: the database age as a share of autovacuum_freeze_max_age, graded', async () => {
    // 500 transactions, each taking an xid: the database's age grows by at least that much.
    await db.sql('do $$ begin for i in 1..500 loop perform txid_current(); commit; end loop; end $$');
    const relaxed = (await health({}))('autovacuum_freeze');
    expect(relaxed.status).toBe('ok');
    const mine = (relaxed.details.databases as Array<{ database: string; xidAge: number }>).find(
      (d) => d.database === db.name,
    );
    expect(mine?.xidAge).toBeGreaterThanOrEqual(500);
    // 0.0001% of the default 200 million is 200 transactions.
    const strict = (await health({ autovacuum_freeze: { warning: '0.0001%' } }))('autovacuum_freeze');
    expect(strict.status).toBe('warning');
    expect(strict.message).toMatch(/of autovacuum_freeze_max_age/);
  });

  it('disabled_triggers: names a trigger left disabled, and is ok again once it is enabled', async () => {
    await db.sql(`
      create table audited (id int);
      create function audit_noop() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger audited_audit before insert on audited for each row execute function audit_noop();
      alter table audited disable trigger audited_audit;
    `);
    const disabled = (await health({}))('disabled_triggers');
    expect(disabled.status).toBe('warning');
    expect(disabled.message).toBe('1 disabled trigger(s): audited_audit on public.audited');
    await db.sql('alter table audited enable trigger audited_audit');
    expect((await health({}))('disabled_triggers').status).toBe('ok');
  });

  it('commit_ratio: many rollbacks are critical; the next run measures only what happened since', async () => {
    const client = await db.connect();
    for (let i = 0; i < 700; i++) {
      await client.query('begin');
      await client.query('select 1');
      await client.query('rollback');
    }
    for (let i = 0; i < 400; i++) await client.query('select 1');
    await client.end();
    await until(async () => {
      const [row] = await db.sql(
        'select xact_rollback::int as n from pg_stat_database where datname = current_database()',
      );
      return Number(row?.n) >= 700;
    });
    const first = (await health({}, true))('commit_ratio');
    expect(first.status).toBe('critical');
    expect(first.value).toBeLessThan(80);
    expect(first.message).toMatch(/since the statistics reset \(\d+ rolled back\)$/);
    const second = (await health({}, true))('commit_ratio');
    expect(second.status).toBe('skipped');
    expect(second.message).toMatch(/^skipped: only \d+ transaction\(s\) over .* since the previous run/);
  });

  it('temp_files: a sort that spills past work_mem shows as the bytes it wrote', async () => {
    await db.sql(`
      set work_mem = '64kB';
      select count(*) from (select g from generate_series(1, 200000) g order by g desc) s;
    `);
    await until(async () => {
      const [row] = await db.sql(
        'select temp_bytes::float8 as b from pg_stat_database where datname = current_database()',
      );
      return Number(row?.b) > 0;
    });
    const spilled = (await health({ temp_files: { warning: '1 kB' } }))('temp_files');
    expect(spilled.status).toBe('warning');
    expect(spilled.details.bytes).toBeGreaterThan(1024 * 1024);
    expect(spilled.message).toMatch(
      / written to temporary files \(\d+ file\(s\)\) over .* since the statistics reset$/,
    );
    expect((await health({}))('temp_files').status).toBe('ok');
  });

  it('checkpoints: requested checkpoints since the previous run, from the view of this server version', async () => {
    const requested = async () =>
      withAdmin(async (client) => {
        const [{ num }] = (await client.query("select current_setting('server_version_num')::int as num"))
          .rows;
        const sql =
          num >= 170000
            ? 'select num_requested::int as n from pg_stat_checkpointer'
            : 'select checkpoints_req::int as n from pg_stat_bgwriter';
        return Number((await client.query(sql)).rows[0]?.n);
      });
    await health({}, true); // remembers the counters
    const before = await requested();
    await withAdmin(async (client) => {
      for (let i = 0; i < 3; i++) await client.query('checkpoint');
    });
    await until(async () => (await requested()) >= before + 3);
    const forced = (await health({}, true))('checkpoints');
    expect(forced.status).toBe('warning');
    expect(forced.details.requested).toBeGreaterThanOrEqual(3);
    expect(forced.message).toMatch(/checkpoints were requested, not timed .* since the previous run$/);
  });

  it('wal_files: WAL in pg_wal against max_wal_size', async () => {
    const wal = (await health({}))('wal_files');
    expect(wal.status).toBe('ok');
    expect(wal.details.files).toBeGreaterThanOrEqual(1);
    expect(wal.message).toMatch(/% of max_wal_size/);
    // One 16 MB segment is at least 1% of the default 1 GB max_wal_size.
    expect((await health({ wal_files: { warning: '1%' } }))('wal_files').status).toBe('warning');
  });

  it('settings: each expected value that differs or names no setting is counted', async () => {
    const [row] = await db.sql("select current_setting('max_connections') as shown");
    const settings = (
      await health({
        settings: {
          expect: { max_connections: String(row?.shown), work_mem: '123MB', no_such_setting: 'on' },
        },
      })
    )('settings');
    expect(settings.status).toBe('warning');
    expect(settings.value).toBe(2);
    expect(settings.message).toBe(
      'work_mem = 4MB (expected 123MB); no_such_setting: no such setting on this server',
    );
    expect((await health({}))('settings').status).toBe('skipped');
  });

  it('server_version: a minor release below the required floor warns, naming both', async () => {
    const [row] = await db.sql("select current_setting('server_version_num')::int as num");
    const major = Math.floor(Number(row?.num) / 10_000);
    const version = (
      await health({ server_version: { warning: null, critical: null, minimumVersions: [`${major}.999`] } })
    )('server_version');
    expect(version.status).toBe('warning');
    expect(version.message).toContain(`below the required ${major}.999`);
    expect(version.details.major).toBe(major);
  });

  it('last_vacuum_analyze: a changing table autovacuum never visits is named', async () => {
    await db.sql(`
      create table neglected (id int, note text) with (autovacuum_enabled = off);
      insert into neglected select g, 'x' from generate_series(1, 20000) g;
    `);
    await until(async () => {
      const [row] = await db.sql(
        "select n_mod_since_analyze::int as n from pg_stat_user_tables where relname = 'neglected'",
      );
      return Number(row?.n) >= 20000;
    });
    const stale = (await health({ last_vacuum_analyze: { warning: '1 second' } }))('last_vacuum_analyze');
    expect(stale.status).toBe('warning');
    expect(stale.message).toMatch(
      /^public\.neglected: 20,000 rows changed since its last analyze, never vacuumed or analyzed/,
    );
    await db.sql('analyze neglected');
    await until(async () => {
      const [row] = await db.sql(
        "select n_mod_since_analyze::int as n from pg_stat_user_tables where relname = 'neglected'",
      );
      return Number(row?.n) === 0;
    });
    expect(
      (await health({ last_vacuum_analyze: { warning: '1 second' } }))('last_vacuum_analyze').status,
    ).toBe('ok');
  });
});
