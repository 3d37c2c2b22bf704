import type { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { reindexJob } from '../../functions/reindex/definition';
import { handler } from '../../functions/reindex/handler';
import type { ReindexResult } from '../../functions/reindex/result';
import type { Alert } from '../../functions/shared/alerts';
import { parseConfig } from '../../functions/shared/config/load';
import { JobFailedError } from '../../functions/shared/errors';
import { silentLogger } from '../../functions/shared/logger';
import { noMetrics } from '../../functions/shared/metrics';
import { runJob } from '../../functions/shared/run-job';
import { createTopicInbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import type { TestDatabase } from '../helpers/database';
import { testResources } from '../helpers/test-resources';

/**
 * `pgmaint reindex` against the real PostgreSQL: each test gets its own database, because the job
 * looks at every index of the database it runs on.
 */
describe('reindex, end to end (CLI → PostgreSQL)', () => {
  const { database, defer } = testResources();

  async function session(db: TestDatabase): Promise<Client> {
    const client = await db.connect();
    defer(() => client.end());
    return client;
  }

  /** A table whose index on k keeps one entry in ten after the deletes: ~90% bloat, pages not freed. */
  async function bloatedTable(db: TestDatabase, table: string, rows: number): Promise<void> {
    await db.sql(`create table ${table} (id bigint not null, k int not null, note text)`);
    await db.sql(`insert into ${table} select i, i, 'row ' || i from generate_series(1, ${rows}) i`);
    await db.sql(`create index ${table}_k_idx on ${table} (k)`);
    await db.sql(`delete from ${table} where id % 10 <> 0`);
    await db.sql(`vacuum analyze ${table}`);
  }

  /** A freshly built index: no bloat. */
  async function tidyTable(db: TestDatabase, table: string, rows: number): Promise<void> {
    await db.sql(`create table ${table} (id bigint not null, k int not null)`);
    await db.sql(`insert into ${table} select i, i from generate_series(1, ${rows}) i`);
    await db.sql(`create index ${table}_k_idx on ${table} (k)`);
    await db.sql(`vacuum analyze ${table}`);
  }

  const configFor = (db: TestDatabase, reindex: Record<string, unknown> = {}) =>
    writeConfig({ targets: { t: { url: db.url, reindex: { minSize: '1 MB', ...reindex } } } });

  async function reindex(configPath: string, ...flags: string[]) {
    const out = await runCli(['reindex', '--config', configPath, '--target', 't', '--json', ...flags]);
    return { ...out, result: JSON.parse(out.stdout) as ReindexResult };
  }

  const sizeOf = async (db: TestDatabase, index: string) =>
    Number((await db.sql('select pg_relation_size($1::regclass) as s', [index]))[0]?.s);
  const filenode = async (db: TestDatabase, index: string) =>
    (await db.sql('select pg_relation_filenode($1::regclass) as f', [index]))[0]?.f;
  const invalidIndexes = async (db: TestDatabase) =>
    (await db.sql('select indexrelid::regclass::text as name from pg_index where not indisvalid')).map(
      (r) => r.name,
    );

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The pid of a REINDEX CONCURRENTLY stuck behind an open writer, once its _ccnew index exists. */
  const rebuildWaitingForWriters = (db: TestDatabase) =>
    waitFor('the rebuild to wait for the open writer', async () => {
      const rows = await db.sql(
        `select pid from pg_stat_progress_create_index
          where datname = current_database() and phase like 'waiting for writers%'`,
      );
      return rows[0]?.pid as number | undefined;
    });

  it.each([
    ['statistics', false],
    ['pgstatindex', true],
  ] as const)(
    'rebuilds a bloated index (%s estimate); it shrinks and passes amcheck',
    async (estimate, withPgstattuple) => {
      const db = await database('reindex_bloated');
      await db.sql('create extension amcheck');
      if (withPgstattuple) await db.sql('create extension pgstattuple');
      await bloatedTable(db, 'events', 200_000);
      const before = await sizeOf(db, 'events_k_idx');

      const { code, result, stderr } = await reindex(configFor(db));

      expect(code, stderr).toBe(0);
      expect(result).toMatchObject({ target: 't', status: 'ok', mode: 'concurrently', droppedLeftovers: [] });
      expect(result.indexes).toHaveLength(1);
      const [index] = result.indexes;
      expect(index).toMatchObject({
        name: 'public.events_k_idx',
        table: 'public.events',
        status: 'rebuilt',
        estimate,
      });
      expect(index?.sizeBefore).toBe(before);
      expect(index?.bloatBefore).toBeGreaterThan(70);
      expect(index?.durationMs).toBeGreaterThan(0);
      const after = await sizeOf(db, 'events_k_idx');
      expect(index?.sizeAfter).toBe(after);
      expect(after).toBeLessThan(before / 4);
      expect(result.bytesReclaimed).toBe(before - after);
      // heapallindexed: every row of the table has its entry in the rebuilt index.
      await db.sql("select bt_index_check('events_k_idx'::regclass, true)");
      expect(await invalidIndexes(db)).toEqual([]);
    },
  );

  it('drops a _ccnew leftover of an interrupted rebuild and only reports other invalid indexes', async () => {
    const db = await database('reindex_leftover');
    await db.sql('create table accounts (id int not null, email text not null)');
    await db.sql("insert into accounts select i % 100, 'user' || (i % 100) from generate_series(1, 1000) i");
    // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index, named as we choose.
    for (const name of ['accounts_id_idx_ccnew', 'accounts_email_broken']) {
      await expect(db.sql(`create unique index concurrently ${name} on accounts (id)`)).rejects.toThrow(
        /could not create unique index/,
      );
    }
    expect((await invalidIndexes(db)).sort()).toEqual(['accounts_email_broken', 'accounts_id_idx_ccnew']);

    const dry = await reindex(configFor(db), '--dry-run');
    expect(dry.result).toMatchObject({
      status: 'dry run',
      droppedLeftovers: ['public.accounts_id_idx_ccnew'],
    });
    expect((await invalidIndexes(db)).sort()).toEqual(['accounts_email_broken', 'accounts_id_idx_ccnew']);

    const { code, result, stderr } = await reindex(configFor(db));

    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({
      status: 'ok',
      droppedLeftovers: ['public.accounts_id_idx_ccnew'],
      invalidIndexes: ['public.accounts_email_broken'],
      indexes: [],
    });
    expect(await invalidIndexes(db)).toEqual(['accounts_email_broken']);
  });

  it('a rebuild cancelled midway leaves no invalid index behind and fails the run', async () => {
    const db = await database('reindex_cancel');
    await bloatedTable(db, 'orders', 200_000);
    const filenodeBefore = await filenode(db, 'orders_k_idx');
    // An open writer makes the rebuild wait right after it created its _ccnew index.
    const writer = await session(db);
    await writer.query('begin');
    await writer.query('insert into orders values (0, 0, null)');

    // Through the Lambda door this time: a failed run throws with the result and alerts once.
    const inbox = await createTopicInbox();
    process.env.PGMAINT_CONFIG = JSON.stringify({
      alerts: { topicArn: inbox.topicArn },
      targets: { t: { url: db.url, reindex: { minSize: '1 MB' } } },
    });
    const running = handler(
      { target: 't' },
      { awsRequestId: 'req-cancel', getRemainingTimeInMillis: () => 600_000 },
    )
      .then(() => undefined)
      .catch((error: unknown) => error);
    const pid = await rebuildWaitingForWriters(db);
    expect(await invalidIndexes(db)).toEqual(['orders_k_idx_ccnew']);
    await db.sql('select pg_cancel_backend($1)', [pid]);
    await writer.query('commit');
    const error = await running;

    expect(error).toBeInstanceOf(JobFailedError);
    const result = (error as JobFailedError).result as ReindexResult;
    expect(result.status).toBe('failed');
    expect(result.indexes).toMatchObject([
      { name: 'public.orders_k_idx', status: 'failed', sizeAfter: null },
    ]);
    expect(result.indexes[0]?.reason).toMatch(
      /canceling statement due to user request.*dropped its leftover/,
    );
    expect(result.droppedLeftovers).toEqual(['public.orders_k_idx_ccnew']);
    const alerts = await inbox.messages({ expect: 1 });
    expect(alerts.map((a) => a.subject)).toEqual(['pgmaint FAILED reindex t']);
    expect(alerts[0]?.message).toContain('canceling statement due to user request');
    expect(await invalidIndexes(db)).toEqual([]);
    expect(await filenode(db, 'orders_k_idx')).toBe(filenodeBefore);
  });

  it('a second run while one is rebuilding reports "already running" and touches nothing', async () => {
    const db = await database('reindex_twice');
    await bloatedTable(db, 'logs', 200_000);
    const writer = await session(db);
    await writer.query('begin');
    await writer.query('insert into logs values (0, 0, null)');

    const first = reindex(configFor(db));
    await rebuildWaitingForWriters(db);
    const second = await reindex(configFor(db));
    expect(second.code).toBe(0);
    expect(second.result).toMatchObject({
      target: 't',
      status: 'already running',
      indexes: [],
      droppedLeftovers: [],
    });
    // The first run's _ccnew is its rebuild in progress, not a leftover for the second to drop.
    expect(await invalidIndexes(db)).toEqual(['logs_k_idx_ccnew']);

    await writer.query('commit');
    const done = await first;
    expect(done.code).toBe(0);
    expect(done.result.indexes).toMatchObject([{ name: 'public.logs_k_idx', status: 'rebuilt' }]);
    expect(await invalidIndexes(db)).toEqual([]);
  });

  it('leaves indexes under the size or bloat floor alone; the dry run lists only what it would rebuild', async () => {
    const db = await database('reindex_floors');
    await bloatedTable(db, 'small_bloated', 40_000); // ~0.9 MB, under minSize
    await tidyTable(db, 'big_tidy', 300_000); // ~6.5 MB, no bloat
    await bloatedTable(db, 'big_bloated', 200_000); // ~4.4 MB, ~90% bloat
    const untouched = ['small_bloated_k_idx', 'big_tidy_k_idx'];
    const filenodes = await Promise.all(untouched.map((name) => filenode(db, name)));
    const config = configFor(db, { minSize: '2 MB', minBloat: '30%' });

    const dry = await reindex(config, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.result.status).toBe('dry run');
    expect(dry.result.indexes).toMatchObject([
      { name: 'public.big_bloated_k_idx', status: 'candidate', sizeAfter: null },
    ]);
    expect(dry.result.indexes[0]?.expectedGain).toBeGreaterThan((await sizeOf(db, 'big_bloated_k_idx')) / 2);
    expect(dry.stdout.trim().split('\n')).toHaveLength(1);

    const human = await runCli(['reindex', '--config', config, '--target', 't', '--dry-run']);
    expect(human.stdout).toMatch(
      /candidate +public\.big_bloated_k_idx on public\.big_bloated: .*expected gain/,
    );

    const { result } = await reindex(config);
    expect(result.indexes.map((i) => [i.name, i.status])).toEqual([['public.big_bloated_k_idx', 'rebuilt']]);
    expect(await Promise.all(untouched.map((name) => filenode(db, name)))).toEqual(filenodes);
  });

  it('a never-analyzed table: the dry run analyzes it first and lists its 90%-empty index, the real run rebuilds it', async () => {
    const db = await database('reindex_never_analyzed');
    // What a nightly cleanup leaves: 600,000 rows, 90% deleted, VACUUM, no ANALYZE (and autovacuum
    // kept away so that it cannot analyze the table meanwhile).
    await db.sql(
      'create table orders (id bigint not null, code text not null) with (autovacuum_enabled = off)',
    );
    await db.sql('insert into orders select i, md5(i::text) from generate_series(1, 600000) i');
    await db.sql('create index orders_code_idx on orders (code)');
    await db.sql('delete from orders where id % 10 <> 0');
    await db.sql('vacuum orders');
    const statsRows = async () =>
      Number((await db.sql("select count(*) as n from pg_stats where tablename = 'orders'"))[0]?.n);
    expect(await statsRows()).toBe(0);
    const before = await sizeOf(db, 'orders_code_idx');
    expect(before).toBeGreaterThan(20 * 1024 ** 2);
    const config = configFor(db, { minSize: '10 MB', minBloat: '30%' });

    const dry = await reindex(config, '--dry-run');

    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.result.indexes).toMatchObject([{ name: 'public.orders_code_idx', status: 'candidate' }]);
    expect(dry.result.analyzed).toMatchObject([{ table: 'public.orders' }]);
    expect(dry.result.analyzed[0]?.reason).toContain('public.orders has never been analyzed');
    expect(dry.result.notEstimated).toEqual([]);
    expect(dry.result.indexes[0]?.bloatBefore).toBeGreaterThan(70);
    // The one thing a dry run changes: the table now has planner statistics.
    expect(await statsRows()).toBeGreaterThan(0);

    const { code, result, stderr } = await reindex(config);

    expect(code, stderr).toBe(0);
    expect(result.analyzed).toEqual([]);
    expect(result.indexes.map((i) => [i.name, i.status])).toEqual([['public.orders_code_idx', 'rebuilt']]);
    expect(await sizeOf(db, 'orders_code_idx')).toBeLessThan(before / 4);
  });

  it('statistics older than a mass delete: the run analyzes the table first and says why', async () => {
    const db = await database('reindex_stale_stats');
    await db.sql('create table visits (id bigint not null, k int not null) with (autovacuum_enabled = off)');
    await db.sql('insert into visits select i, i from generate_series(1, 200000) i');
    await db.sql('create index visits_k_idx on visits (k)');
    await db.sql('analyze visits');
    await db.sql('delete from visits where id % 10 <> 0');
    await db.sql('vacuum visits');
    await waitFor('the delete to reach the statistics counters', async () => {
      const rows = await db.sql(
        "select n_mod_since_analyze from pg_stat_user_tables where relname = 'visits'",
      );
      return Number(rows[0]?.n_mod_since_analyze) >= 180_000 ? true : undefined;
    });

    const out = await runCli(['reindex', '--config', configFor(db), '--target', 't']);

    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(
      /analyzed +public\.visits first \(.*\): 180,000 rows of public\.visits changed since its last ANALYZE .*more than autovacuum's analyze threshold .*does not block writes/,
    );
    expect(out.stdout).toMatch(/rebuilt +public\.visits_k_idx on public\.visits/);
  });

  it('an index whose bloat cannot be estimated is listed under notEstimated with what to do, or measured by pgstatindex', async () => {
    const db = await database('reindex_not_estimated');
    // Columns of type name have no usable width statistics, whatever ANALYZE does.
    await db.sql('create table labels (id int not null, label name not null)');
    await db.sql("insert into labels select i, 'label ' || i from generate_series(1, 40000) i");
    await db.sql('create index labels_label_idx on labels (label)');
    await db.sql('vacuum analyze labels');
    const filenodeBefore = await filenode(db, 'labels_label_idx');
    const config = configFor(db);

    const dry = await reindex(config, '--dry-run');
    const real = await reindex(config);

    for (const { result } of [dry, real]) {
      expect(result.indexes).toEqual([]);
      expect(result.notEstimated).toMatchObject([
        {
          name: 'public.labels_label_idx',
          table: 'public.labels',
          sizeBytes: await sizeOf(db, 'labels_label_idx'),
        },
      ]);
      expect(result.notEstimated[0]?.reason).toContain('label (name) have no width statistics');
      expect(result.notEstimated[0]?.action).toContain('CREATE EXTENSION pgstattuple');
    }
    expect(await filenode(db, 'labels_label_idx')).toBe(filenodeBefore);
    const human = await runCli(['reindex', '--config', config, '--target', 't', '--dry-run']);
    expect(human.stdout).toContain('not estimated public.labels_label_idx on public.labels');

    await db.sql('create extension pgstattuple');
    const measured = await reindex(config, '--dry-run');
    expect(measured.result.notEstimated).toEqual([]);
  });

  it('skips an index while a transaction older than maxTransactionAge is open', async () => {
    const db = await database('reindex_old_xact');
    await bloatedTable(db, 'carts', 200_000);
    const filenodeBefore = await filenode(db, 'carts_k_idx');
    const idle = await session(db);
    await idle.query('begin');
    await idle.query('select 1');
    await waitFor('the transaction to age past 1 second', async () => {
      const rows = await db.sql(
        `select 1 from pg_stat_activity
          where datname = current_database() and state = 'idle in transaction' and now() - xact_start > interval '1.2 seconds'`,
      );
      return rows.length > 0 ? true : undefined;
    });

    const { code, result, stderr } = await reindex(configFor(db, { maxTransactionAge: '1 second' }));

    expect(code, stderr).toBe(0);
    expect(result.status).toBe('ok');
    expect(result.indexes).toMatchObject([{ name: 'public.carts_k_idx', status: 'skipped' }]);
    expect(result.indexes[0]?.reason).toMatch(/transaction has been open for .*idle in transaction/);
    expect(await filenode(db, 'carts_k_idx')).toBe(filenodeBefore);
  });

  it('skips an index the Lambda has no time left to rebuild', async () => {
    const db = await database('reindex_deadline');
    await bloatedTable(db, 'baskets', 200_000);
    const filenodeBefore = await filenode(db, 'baskets_k_idx');
    const alerts: Alert[] = [];

    const result = await runJob(
      reindexJob,
      { target: 't' },
      {
        config: parseConfig({ targets: { t: { url: db.url, reindex: { minSize: '1 MB' } } } }),
        logger: silentLogger,
        metrics: noMetrics,
        alerts: { publish: async (alert) => void alerts.push(alert) },
        readSecret: () => Promise.reject(new Error('no secrets here')),
        s3: () => {
          throw new Error('no store here');
        },
        // Half a second beyond the cleanup reserve: far less than two reads of the table.
        remainingMs: () => 30_500,
      },
    );

    expect(result.status).toBe('ok');
    expect(result.indexes).toMatchObject([{ name: 'public.baskets_k_idx', status: 'skipped' }]);
    expect(result.indexes[0]?.reason).toMatch(/not enough time left/);
    expect(alerts).toEqual([]);
    expect(await filenode(db, 'baskets_k_idx')).toBe(filenodeBefore);
  });

  it('vacuumAnalyze: true vacuums and analyzes tables with many dead rows, and only those', async () => {
    const db = await database('reindex_vacuum');
    // Autovacuum off for these tables, so only pgmaint can have vacuumed them.
    for (const table of ['churn', 'calm']) {
      await db.sql(`create table ${table} (id int) with (autovacuum_enabled = false)`);
      await db.sql(`insert into ${table} select generate_series(1, 20000)`);
    }
    await db.sql('delete from churn where id % 2 = 0');
    await db.sql('delete from calm where id <= 100');
    await waitFor('the dead rows to reach the statistics', async () => {
      const rows = await db.sql("select n_dead_tup from pg_stat_user_tables where relname = 'churn'");
      return Number(rows[0]?.n_dead_tup) >= 10_000 ? true : undefined;
    });

    const { code, result, stderr } = await reindex(configFor(db, { vacuumAnalyze: true }));

    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ status: 'ok', vacuumed: ['public.churn'] });
    const stats = await db.sql(
      'select relname, last_vacuum is not null as vacuumed, last_analyze is not null as analyzed from pg_stat_user_tables order by relname',
    );
    expect(stats).toEqual([
      { relname: 'calm', vacuumed: false, analyzed: false },
      { relname: 'churn', vacuumed: true, analyzed: true },
    ]);
  });

  it('mode "database" runs a plain REINDEX DATABASE after dropping leftovers', async () => {
    const db = await database('reindex_database');
    await bloatedTable(db, 'ledger', 200_000);
    const before = await sizeOf(db, 'ledger_k_idx');
    // REINDEX DATABASE would make this leftover a valid duplicate index; it must go first.
    await db.sql("insert into ledger values (10, 10, 'duplicate')");
    await expect(db.sql('create unique index concurrently ledger_k_idx_ccnew on ledger (k)')).rejects.toThrow(
      /could not create unique index/,
    );

    const { code, result, stderr } = await reindex(configFor(db, { mode: 'database' }));

    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({
      status: 'ok',
      mode: 'database',
      indexes: [],
      droppedLeftovers: ['public.ledger_k_idx_ccnew'],
    });
    expect(await invalidIndexes(db)).toEqual([]);
    expect(await db.sql("select 1 from pg_class where relname = 'ledger_k_idx_ccnew'")).toEqual([]);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.bytesReclaimed).toBeGreaterThan(before / 2);
    expect(await sizeOf(db, 'ledger_k_idx')).toBeLessThan(before / 4);
  });
});
