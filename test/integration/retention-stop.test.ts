import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../functions/retention/pacing';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import { InterruptedError } from '../../functions/shared/stop-signals';
import { testResources } from '../helpers/test-resources';

describe('retention asked to stop (SIGINT/SIGTERM)', () => {
  const { database, defer } = testResources();

  it('stops after the batch under way: what it deleted stays deleted, the rest stays', async () => {
    const db = await database('ret_stop');
    await db.sql(`create table events (id bigint primary key, created_at timestamptz not null);
      create index on events (created_at);
      insert into events select g, now() - interval '100 days' - g * interval '1 second' from generate_series(1, 5000) g;
      analyze events;`);
    const client = await db.connect();
    defer(() => client.end());
    const check = await resolveRules(
      client,
      [retentionRule.parse({ table: 'events', column: 'created_at', olderThan: '60 days' })],
      'rules',
    );
    const rule = check.rules[0];
    if (rule?.kind !== 'rows') throw new Error('expected a row rule');
    const cutoff =
      (await client.query<{ c: string }>("select (now() - interval '60 days')::text as c")).rows[0]?.c ?? '';
    const stop = new AbortController();
    const seen: number[] = [];
    const run = deleteExpiredRows(
      {
        client,
        logger: silentLogger,
        remainingMs: () => Number.POSITIVE_INFINITY,
        pacing: DEFAULT_PACING,
        signal: stop.signal,
        onRows: (rows) => {
          seen.push(rows);
          // The signal comes while the first batch's pause runs.
          if (seen.length === 1) stop.abort(new InterruptedError('SIGTERM'));
        },
      },
      rule,
      cutoff,
    );
    await expect(run).rejects.toThrow('stopped by SIGTERM before it finished');
    expect(seen).toHaveLength(1); // no batch after the signal
    const firstBatch = seen[0] ?? 0;
    expect(firstBatch).toBeGreaterThan(0);
    expect(firstBatch).toBeLessThan(5_000);
    const left = await db.sql('select count(*)::int as n from events');
    expect(left[0]?.n).toBe(5_000 - firstBatch);
    // Nothing is held: the batch committed, no transaction stays open.
    expect((await client.query('select 1 as ok')).rows[0]?.ok).toBe(1);
    const open = await db.sql(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`,
    );
    expect(open[0]?.n).toBe(0);
  });
});
