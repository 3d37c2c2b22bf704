import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../functions/retention/pacing';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import type { TestDatabase } from '../helpers/database';
import { testResources } from '../helpers/test-resources';

/**
 * Range batches delete directly (no FOR UPDATE first) and may meet a row an application is changing at
 * that moment. Here the application holds such a row, the batch waits for it (a long wait allowed,
 * so the moment is certain), and the application commits a change that takes the row out of the
 * rule: the batch must re-check and keep it, on a plain table (found by ctid) and on a partitioned
 * one (found by primary key).
 */
describe('retention range batches: a row changed while the batch waited is re-checked; ties are cut', () => {
  const { database, defer } = testResources();

  const tables = {
    plain: `create table notifications (id bigint primary key, is_read boolean not null, created_at timestamptz not null, label text not null)`,
    partitioned: `create table notifications (id bigint, is_read boolean not null, created_at timestamptz not null, label text not null, primary key (id, created_at)) partition by range (created_at);
      create table notifications_old partition of notifications for values from ('2000-01-01') to ('2100-01-01')`,
  };

  it.each(Object.entries(tables))('%s table', async (_, ddl) => {
    const db: TestDatabase = await database('ret_direct');
    await db.sql(`${ddl};
      create index on notifications (created_at);
      insert into notifications select g, true, now() - interval '100 days', case when g = 7 then 'flip' else 'go' end
        from generate_series(1, 20) g;`);
    const client = await db.connect();
    defer(() => client.end());
    const app = new Client({ connectionString: db.url });
    await app.connect();
    defer(() => app.end());

    const check = await resolveRules(
      client,
      [
        retentionRule.parse({
          table: 'notifications',
          column: 'created_at',
          olderThan: '60 days',
          where: { is_read: true },
        }),
      ],
      'rules',
    );
    expect(check.problems).toEqual([]);
    const rule = check.rules[0];
    if (rule?.kind !== 'rows') throw new Error('expected a row rule');
    const cutoff =
      (await client.query<{ c: string }>("select (now() - interval '60 days')::text as c")).rows[0]?.c ?? '';

    // The application marks one old notification unread again, and has not committed yet.
    await app.query('begin');
    await app.query("update notifications set is_read = false where label = 'flip'");
    const deleting = deleteExpiredRows(
      {
        client,
        logger: silentLogger,
        remainingMs: () => Number.POSITIVE_INFINITY,
        pacing: { ...DEFAULT_PACING, directLockWaitMs: 30_000 },
      },
      rule,
      cutoff,
    );
    // Commit only once the batch is waiting for that row.
    const watcher = await db.connect();
    defer(() => watcher.end());
    const deadline = Date.now() + 20_000;
    for (;;) {
      const waiting = await watcher.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '%delete from%'`,
      );
      if (waiting.rowCount) break;
      if (Date.now() > deadline) throw new Error('the batch never waited for the held row');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await app.query('commit');

    const result = await deleting;
    expect(result).toMatchObject({ rowsDeleted: 19, stoppedBecause: 'done' });
    const left = await db.sql('select label, is_read from notifications');
    expect(left).toEqual([{ label: 'flip', is_read: false }]);
  });

  it('cuts batches even when one day holds more rows than a batch (a date column)', async () => {
    const db: TestDatabase = await database('ret_ties');
    await db.sql(`
      create table visits (id bigint primary key, day date not null, label text not null);
      create index on visits (day);
      insert into visits select g, current_date - 100, 'go' from generate_series(1, 2500) g;
      insert into visits select g, current_date - 101, 'go' from generate_series(2501, 3700) g;
      insert into visits select g, current_date - 10, 'stay' from generate_series(3701, 3800) g;
      analyze visits;`);
    const client = await db.connect();
    defer(() => client.end());
    const check = await resolveRules(
      client,
      [retentionRule.parse({ table: 'visits', column: 'day', olderThan: '30 days' })],
      'rules',
    );
    const rule = check.rules[0];
    if (rule?.kind !== 'rows' || !rule.indexed) throw new Error('expected an indexed row rule');
    const cutoff =
      (await client.query<{ c: string }>("select (now() - interval '30 days')::text as c")).rows[0]?.c ?? '';
    const result = await deleteExpiredRows(
      {
        client,
        logger: silentLogger,
        remainingMs: () => Number.POSITIVE_INFINITY,
        pacing: { ...DEFAULT_PACING, initialBatch: 1_000, maxBatch: 1_000 },
      },
      rule,
      cutoff,
    );
    expect(result).toMatchObject({ rowsDeleted: 3700, stoppedBecause: 'done' });
    expect(result.batches).toBeGreaterThan(3);
    expect(await db.sql('select label, count(*)::int as n from visits group by label')).toEqual([
      { label: 'stay', n: 100 },
    ]);
  });
});
