import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../functions/retention/pacing';
import type { RetentionRun } from '../../functions/retention/result';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import type { TestDatabase } from '../helpers/database';
import { testResources } from '../helpers/test-resources';

/**
 * Retention on a table whose rows are not stored in time order: `created_at` cycles through 200 days
 * as ids grow and a tenth of the rows were updated after insert (an update moves the row). Every row
 * carries a label saying whether the rule must delete it ('go') or keep it (anything else); the
 * assertions compare labels, so one row too many or too few fails.
 */
describe('retention batch shapes: page ranges on a scattered table, index ranges on an in-order one', () => {
  const { database, defer } = testResources();
  const RULE = {
    table: 'notifications',
    column: 'created_at',
    olderThan: '90 days',
    where: { is_read: true },
  };

  /** 30,000 rows; the expired read ones are 'go'; the edge rows sit one minute either side of the cutoff. */
  async function scatteredTable(db: TestDatabase): Promise<void> {
    await db.sql(`
      create table notifications (id bigserial primary key, user_id bigint not null, is_read boolean not null,
                                  created_at timestamptz not null, label text not null);
      create index notifications_created_at_idx on notifications (created_at);
      create index on notifications (user_id, is_read);
      insert into notifications (user_id, is_read, created_at, label)
        select i % 500, i % 3 <> 0,
               now() - ((i * 7919) % 200) * interval '1 day' - (i % 1000) * interval '1 second', 'pending'
        from generate_series(1, 30000) i;
      insert into notifications (user_id, is_read, created_at, label) values
        (1, true, now() - interval '90 days' - interval '1 minute', 'edge-go'),
        (1, true, now() - interval '90 days' + interval '1 minute', 'edge-stay');
      -- Rows updated after insert: the new versions go to the end of the table.
      update notifications set user_id = user_id + 1 where id % 10 = 0;
      update notifications set label = case when is_read and created_at < now() - interval '90 days' then 'go'
                                            when created_at < now() - interval '90 days' then 'unread'
                                            else 'young' end
        where label = 'pending';
      update notifications set label = 'go' where label = 'edge-go';`);
    await db.sql('vacuum analyze notifications');
  }

  const configFor = (url: string) => writeConfig({ targets: { t: { url, retention: { rules: [RULE] } } } });

  async function retention(url: string) {
    const out = await runCli(['retention', '--config', configFor(url), '--target', 't', '--json']);
    return { ...out, result: JSON.parse(out.stdout || '{}') as RetentionRun };
  }

  async function labels(db: TestDatabase): Promise<Record<string, number>> {
    const rows = await db.sql('select label, count(*)::int as n from notifications group by label');
    return Object.fromEntries(rows.map((r) => [r.label, r.n]));
  }

  it('deletes exactly the expired rows matching where, by heap page ranges, and says why', async () => {
    const db = await database('ret_scatter');
    await scatteredTable(db);
    const before = await labels(db);
    expect(before.go).toBeGreaterThan(5_000);
    const correlation = (
      await db.sql(
        "select correlation from pg_stats where tablename = 'notifications' and attname = 'created_at'",
      )
    )[0]?.correlation;
    expect(Math.abs(Number(correlation))).toBeLessThan(0.5);

    const { code, result, stderr } = await retention(db.url);
    expect(code, stderr).toBe(0);
    expect(result.status).toBe('complete');
    expect(result.rules[0]).toMatchObject({
      batchShape: 'tidRange',
      rowsDeleted: before.go,
      heldRowsSkipped: 0,
      stoppedBecause: 'done',
    });
    expect(result.rules[0]?.batchShapeReason).toMatch(
      /correlation -?0\.\d\d of created_at .*not in time order/,
    );
    const { go: _gone, ...kept } = before;
    expect(await labels(db)).toEqual(kept);
    expect(kept['edge-stay']).toBe(1);

    // The human output names the shape and the reason too.
    const human = await runCli(['retention', '--config', configFor(db.url), '--target', 't']);
    expect(human.stdout).toMatch(/batches: heap page \(TID\) ranges \(correlation -?0\.\d\d of created_at/);
  });

  it('skips a row an open transaction holds, without waiting past its lock timeout and without UPDATE; the next run gets it', async () => {
    const db = await database('ret_scatter_held');
    await scatteredTable(db);
    const before = await labels(db);
    const role = `ret_${db.name.slice(-6)}`;
    await db.sql(`
      create role ${role} login password 'Role-Pass-1';
      grant select, delete on notifications to ${role};`);
    defer(() => db.sql(`drop owned by ${role}; drop role ${role}`));
    const url = new URL(db.url);
    url.username = role;
    url.password = 'Role-Pass-1';

    const app = new Client({ connectionString: db.url });
    await app.connect();
    defer(() => app.end());
    await app.query('begin');
    // An expired row in the middle of the heap, locked the way an application marking it read would.
    const held = await app.query<{ id: string }>(
      "select id from notifications where id = (select id from notifications where label = 'go' order by ctid offset 3000 limit 1) for update",
    );
    const heldId = held.rows[0]?.id;
    expect(heldId).toBeDefined();

    const started = Date.now();
    const first = await retention(url.toString());
    expect(first.code, first.stderr).toBe(0);
    // Finished while the row is still held: it never waited for the transaction to end.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(first.result.rules[0]).toMatchObject({
      batchShape: 'tidRange',
      rowsDeleted: (before.go ?? 0) - 1,
      heldRowsSkipped: 1,
      stoppedBecause: 'done',
    });
    expect(await db.sql('select id::text from notifications where label = $1', ['go'])).toEqual([
      { id: heldId },
    ]);

    await app.query('rollback');
    const next = await retention(url.toString());
    expect(next.code, next.stderr).toBe(0);
    expect(next.result.rules[0]).toMatchObject({ rowsDeleted: 1, heldRowsSkipped: 0 });
    expect((await labels(db)).go).toBeUndefined();
  });

  it('re-checks a row changed while its page-range batch waited for it, and keeps it', async () => {
    const db = await database('ret_scatter_change');
    await scatteredTable(db);
    const before = await labels(db);
    const client = await db.connect();
    defer(() => client.end());
    const check = await resolveRules(client, [retentionRule.parse(RULE)], 'rules');
    const rule = check.rules[0];
    if (rule?.kind !== 'rows') throw new Error('expected a row rule');
    const cutoff =
      (await client.query<{ c: string }>("select (now() - interval '90 days')::text as c")).rows[0]?.c ?? '';

    const sessionLockTimeout = (await client.query('show lock_timeout')).rows[0];
    // The application marks an old notification unread again and has not committed yet.
    const app = new Client({ connectionString: db.url });
    await app.connect();
    defer(() => app.end());
    await app.query('begin');
    const changed = await app.query<{ id: string }>(
      "update notifications set is_read = false where id = (select id from notifications where label = 'go' order by ctid offset 100 limit 1) returning id::text",
    );
    const deleting = deleteExpiredRows(
      {
        client,
        logger: silentLogger,
        remainingMs: () => Number.POSITIVE_INFINITY,
        // A long wait allowed, so the batch is certainly waiting on the row when the change commits.
        pacing: { ...DEFAULT_PACING, directLockWaitMs: 30_000 },
      },
      rule,
      cutoff,
    );
    const watcher = await db.connect();
    defer(() => watcher.end());
    const deadline = Date.now() + 20_000;
    for (;;) {
      const waiting = await watcher.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '%delete from%'`,
      );
      if (waiting.rowCount) break;
      if (Date.now() > deadline) throw new Error('the batch never waited for the changed row');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await app.query('commit');

    const result = await deleting;
    expect(result).toMatchObject({ batchShape: 'tidRange', stoppedBecause: 'done', heldRowsSkipped: 0 });
    // The batches' lock wait (30 s here) was the rule's own: the session has its lock_timeout back.
    expect((await client.query('show lock_timeout')).rows[0]).toEqual(sessionLockTimeout);
    expect(result.rowsDeleted).toBe((before.go ?? 0) - 1);
    expect(await db.sql("select id::text, is_read from notifications where label = 'go'")).toEqual([
      { id: changed.rows[0]?.id, is_read: false },
    ]);
  });

  /**
   * 28,000 read notifications in time order, one every `step` minutes up to about now: the older
   * than 90 days are 'go'. A 5-minute step spans 97 days (7% expired), a 10-minute one 194 (54%); the
   * 150-second offset keeps every row off the cutoff itself, which moves on while the test runs.
   */
  async function inOrderTable(db: TestDatabase, stepMinutes: number): Promise<void> {
    await db.sql(`
      create table notifications (id bigserial primary key, is_read boolean not null,
                                  created_at timestamptz not null, label text not null);
      create index on notifications (created_at);
      insert into notifications (is_read, created_at, label)
        select true, t, case when t < now() - interval '90 days' then 'go' else 'young' end
        from generate_series(1, 28000) i,
             lateral (select now() - (28000 - i) * ${stepMinutes} * interval '1 minute' - interval '150 seconds' as t) times;`);
    await db.sql('vacuum analyze notifications');
  }

  it('keeps index ranges on a table stored in time order with few rows expired', async () => {
    const db = await database('ret_inorder');
    await inOrderTable(db, 5);
    const before = await labels(db);
    expect(before.go).toBeGreaterThan(1_000);
    expect(before.go).toBeLessThan(0.1 * 28_000);
    const { code, result, stderr } = await retention(db.url);
    expect(code, stderr).toBe(0);
    expect(result.rules[0]).toMatchObject({ batchShape: 'indexRange', rowsDeleted: before.go });
    expect(result.rules[0]?.batchShapeReason).toMatch(
      /correlation 1\.00 of created_at .*stored in time order, index ranges/,
    );
    expect(await labels(db)).toEqual({ young: before.young });
  });

  /** Counts, from here on, the batches that walked the time index to find where their range ends. */
  async function countIndexWalks(db: TestDatabase): Promise<() => Promise<number>> {
    await db.sql('create extension if not exists pg_stat_statements');
    await db.sql('select pg_stat_statements_reset()');
    return async () => {
      const rows = await db.sql(`
        select coalesce(sum(calls), 0)::int as n from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database())
          and query like '%upper_ms%offset $1%'`);
      return Number(rows[0]?.n ?? 0);
    };
  }

  /** Two rows either side of the cutoff, and expired unread ones the rule's `where` keeps. */
  async function edgesAndUnread(db: TestDatabase): Promise<void> {
    await db.sql(`
      insert into notifications (is_read, created_at, label) values
        (true, now() - interval '90 days' - interval '1 minute', 'go'),
        (true, now() - interval '90 days' + interval '1 minute', 'edge-stay');
      update notifications set is_read = false, label = 'unread' where label = 'go' and id % 7 = 0;`);
  }

  it('sizes index ranges on an in-order table from its statistics, and deletes exactly the expired rows where they are out of date', async () => {
    const db = await database('ret_inorder_sized');
    await inOrderTable(db, 10);
    // After the ANALYZE: 3,000 rows within one hour 120 days ago, where the statistics saw six.
    await db.sql(`
      insert into notifications (is_read, created_at, label)
        select true, now() - interval '120 days' + i * interval '1 second', 'go' from generate_series(1, 3000) i;`);
    await edgesAndUnread(db);
    const before = await labels(db);
    expect(before.go).toBeGreaterThan(0.4 * 28_000);
    const indexWalks = await countIndexWalks(db);
    const { code, result, stderr } = await retention(db.url);
    expect(code, stderr).toBe(0);
    // Only the first batch walked the index (from the oldest row); the statistics sized every other range.
    expect(await indexWalks()).toBe(1);
    expect(result.rules[0]).toMatchObject({
      batchShape: 'indexRange',
      rowsDeleted: before.go,
      stoppedBecause: 'done',
    });
    expect(result.rules[0]?.batchShapeReason).toMatch(
      /correlation 1\.00 of created_at .*stored in time order, index ranges sized from its statistics/,
    );
    // About 1,000 rows a batch (0.25% of the table, at least 1,000): the ranges were cut, not one DELETE.
    expect(result.rules[0]?.batches).toBeGreaterThan(12);
    const { go: _gone, ...kept } = before;
    expect(await labels(db)).toEqual(kept);
    expect(kept['edge-stay']).toBe(1);
  });

  it('walks the index past the newest time the statistics saw, and deletes what was added since', async () => {
    const db = await database('ret_inorder_stale');
    // Analyzed when the table held only rows older than 100 days; the 100 days since came after.
    await db.sql(`
      create table notifications (id bigserial primary key, is_read boolean not null,
                                  created_at timestamp not null, label text not null);
      create index on notifications (created_at);
      insert into notifications (is_read, created_at, label)
        select true, localtimestamp - interval '200 days' + i * interval '5 minutes', 'go'
        from generate_series(1, 28000) i where i * interval '5 minutes' < interval '100 days';
      analyze notifications;
      insert into notifications (is_read, created_at, label)
        select true, t, case when t < localtimestamp - interval '90 days' then 'go' else 'young' end
        from generate_series(1, 28000) i,
             lateral (select localtimestamp - interval '100 days' + i * interval '5 minutes' as t) times
        where t < localtimestamp - interval '150 seconds'
          and abs(extract(epoch from t - (localtimestamp - interval '90 days'))) > 150;`);
    await edgesAndUnread(db);
    const before = await labels(db);
    expect(before.young).toBeGreaterThan(20_000);
    const indexWalks = await countIndexWalks(db);
    const { code, result, stderr } = await retention(db.url);
    expect(code, stderr).toBe(0);
    // The first batch, and every batch after the newest time the statistics saw (10 days, 2,880 rows).
    expect(await indexWalks()).toBeGreaterThan(2);
    expect(result.rules[0]).toMatchObject({ batchShape: 'indexRange', rowsDeleted: before.go });
    expect(result.rules[0]?.batchShapeReason).toMatch(/sized from its statistics/);
    const { go: _gone, ...kept } = before;
    expect(await labels(db)).toEqual(kept);
  });

  it('reads a table stored in time order by page ranges when most of it is expired and each batch is counted (maxRowsPerRun)', async () => {
    const db = await database('ret_inorder_most');
    await inOrderTable(db, 10);
    await edgesAndUnread(db);
    const before = await labels(db);
    expect(before.go).toBeGreaterThan(0.4 * 28_000);
    const config = writeConfig({
      targets: { t: { url: db.url, retention: { rules: [{ ...RULE, maxRowsPerRun: 1_000_000 }] } } },
    });
    const result = await runCliJson<RetentionRun>([
      'retention',
      '--config',
      config,
      '--target',
      't',
      '--json',
    ]);
    expect(result.rules[0]).toMatchObject({
      batchShape: 'tidRange',
      rowsDeleted: before.go,
      stoppedBecause: 'done',
    });
    expect(result.rules[0]?.batchShapeReason).toMatch(
      /correlation 1\.00 of created_at .*stored in time order, but about 5\d% of the rows are older than the cutoff: page ranges/,
    );
    const { go: _gone, ...kept } = before;
    expect(await labels(db)).toEqual(kept);
    expect(kept['edge-stay']).toBe(1);
  });
});
