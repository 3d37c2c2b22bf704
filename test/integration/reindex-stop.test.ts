import { describe, expect, it } from 'vitest';
import { reindexJob } from '../../functions/reindex/definition';
import type { Alert } from '../../functions/shared/alerts';
import { parseConfig } from '../../functions/shared/config/load';
import { silentLogger } from '../../functions/shared/logger';
import { noMetrics } from '../../functions/shared/metrics';
import { runJob } from '../../functions/shared/run-job';
import { InterruptedError } from '../../functions/shared/stop-signals';
import { runCliJson, startBinary, writeConfig } from '../helpers/cli';
import { testResources } from '../helpers/test-resources';

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('reindex asked to stop (SIGINT/SIGTERM) mid-rebuild', () => {
  const { database, defer } = testResources();

  it('cancels the REINDEX under way, drops its leftover, rebuilds nothing more, alerts once', async () => {
    const db = await database('reindex_stop');
    for (const table of ['orders', 'lines']) {
      await db.sql(`create table ${table} (id bigint not null, k int not null, note text)`);
      await db.sql(`insert into ${table} select i, i, 'row ' || i from generate_series(1, 200000) i`);
      await db.sql(`create index ${table}_k_idx on ${table} (k)`);
      await db.sql(`delete from ${table} where id % 10 <> 0`);
      await db.sql(`vacuum analyze ${table}`);
    }
    const filenodes = async () =>
      (
        await db.sql(
          "select relname, pg_relation_filenode(oid) as f from pg_class where relname in ('orders_k_idx', 'lines_k_idx') order by relname",
        )
      ).map((r) => `${r.relname}:${r.f}`);
    const before = await filenodes();
    // An open writer holds the first rebuild right after it created its _ccnew index.
    const writer = await db.connect();
    defer(() => writer.end());
    await writer.query('begin');
    await writer.query('insert into orders values (0, 0, null)');
    await writer.query('insert into lines values (0, 0, null)');

    const stop = new AbortController();
    const alerts: Alert[] = [];
    const running = runJob(
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
        signal: stop.signal,
      },
    ).catch((error: unknown) => error);

    const rebuilds = () =>
      db.sql(
        `select phase from pg_stat_progress_create_index where datname = current_database() and command like 'REINDEX%'`,
      );
    await until('the rebuild to wait for the writer', async () =>
      (await rebuilds()).some((r) => String(r.phase).startsWith('waiting for writers')),
    );
    stop.abort(new InterruptedError('SIGTERM'));
    // The writer stays open until the REINDEX is gone: it cannot have finished, only been cancelled.
    await until('the REINDEX to be cancelled', async () => (await rebuilds()).length === 0);
    await writer.query('commit'); // dropping the leftover concurrently waits for writers too
    const error = await running;

    expect(error).toBeInstanceOf(InterruptedError);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.error).toBe(
      'stopped by SIGTERM before it finished; cancelled the rebuild of public.lines_k_idx; dropped its leftover public.lines_k_idx_ccnew',
    );
    expect(
      await db.sql('select indexrelid::regclass::text as name from pg_index where not indisvalid'),
    ).toEqual([]);
    expect(await filenodes()).toEqual(before); // neither index was swapped for a rebuilt one
    const locks = await db.sql(
      "select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
    );
    expect(locks).toEqual([]); // the run's lock is released
  });

  it('SIGTERM to the process while a transaction stays open: exits 143 within the stop window, the next run drops the leftover first', async () => {
    const db = await database('reindex_sigterm');
    await db.sql('create table orders (id bigint not null, k int not null, note text)');
    await db.sql(`insert into orders select i, i, 'row ' || i from generate_series(1, 200000) i`);
    await db.sql('create index orders_k_idx on orders (k)');
    await db.sql('delete from orders where id % 10 <> 0');
    await db.sql('vacuum analyze orders');
    // A writer that stays open through the stop: the REINDEX waits for it, and so would the drop of
    // its leftover, for up to reindex.maxTransactionAge (5 minutes), were that wait not cut short.
    const writer = await db.connect();
    defer(() => writer.end());
    await writer.query('begin');
    await writer.query('insert into orders values (0, 0, null)');
    const config = writeConfig({ targets: { t: { url: db.url, reindex: { minSize: '1 MB' } } } });
    const run = startBinary(['reindex', '--config', config, '--target', 't']);
    defer(async () => {
      run.child.kill('SIGKILL');
    });
    await until('the rebuild to wait for the writer', async () =>
      (
        await db.sql(
          `select phase from pg_stat_progress_create_index where datname = current_database() and command like 'REINDEX%'`,
        )
      ).some((r) => String(r.phase).startsWith('waiting for writers')),
    );
    const signalled = performance.now();
    run.child.kill('SIGTERM');
    const out = await run.done;
    const stopMs = performance.now() - signalled;

    expect(out.code, out.stderr).toBe(143);
    expect(stopMs).toBeLessThan(20_000); // ECS sends SIGKILL 30 s after SIGTERM
    expect(out.stderr).toContain(
      'stopped by SIGTERM before it finished; cancelled the rebuild of public.orders_k_idx',
    );
    expect(out.stderr).toContain('the next reindex run drops it before anything else');
    await writer.query('commit');
    expect(
      await db.sql('select indexrelid::regclass::text as name from pg_index where not indisvalid'),
    ).toEqual([{ name: 'orders_k_idx_ccnew' }]);

    const next = await runCliJson(['reindex', '--config', config, '--target', 't', '--json']);
    expect(next.droppedLeftovers).toContain('public.orders_k_idx_ccnew');
    expect(
      await db.sql('select indexrelid::regclass::text as name from pg_index where not indisvalid'),
    ).toEqual([]);
  });
});
