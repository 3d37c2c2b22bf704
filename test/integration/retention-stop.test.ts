import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../functions/retention/pacing';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import { InterruptedError } from '../../functions/shared/stop-signals';
import { createTopicInbox } from '../helpers/aws';
import { startBinary, writeConfig } from '../helpers/cli';
import { until } from '../helpers/processes';
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

  it('SIGTERM to the process cancels the batch under way (rolled back whole), says what was deleted, exits 143 at once', async () => {
    const db = await database('ret_sigterm');
    // Deleting a row is quick for the first 1500 rows, then takes 20 s: the batch that meets the
    // 1501st row is caught mid-statement for as long as the test needs (a sequence is not rolled back).
    await db.sql(`create table events (id bigint primary key, created_at timestamptz not null);
      create index on events (created_at);
      insert into events select g, now() - interval '100 days' - g * interval '1 second' from generate_series(1, 20000) g;
      analyze events;
      create sequence deletes_seen;
      create function slow_after_1500() returns trigger language plpgsql as $$
        begin if nextval('deletes_seen') > 1500 then perform pg_sleep(20); end if; return old; end $$;
      create trigger slow_after_1500 before delete on events for each row execute function slow_after_1500();`);
    const inbox = await createTopicInbox();
    const config = writeConfig({
      alerts: { topicArn: inbox.topicArn },
      targets: {
        t: {
          url: db.url,
          retention: { rules: [{ table: 'events', column: 'created_at', olderThan: '60 days' }] },
        },
      },
    });
    const run = startBinary(['retention', '--config', config, '--target', 't']);
    defer(async () => {
      run.child.kill('SIGKILL');
    });
    await until('a batch to be caught mid-DELETE', async () => {
      const rows = await db.sql(
        `select 1 from pg_stat_activity where application_name = 'pgmaint/retention' and wait_event = 'PgSleep'`,
      );
      return rows.length > 0 ? true : undefined;
    });
    const left = async () => Number((await db.sql('select count(*)::int as n from events'))[0]?.n);
    const before = await left();
    const committed = 20_000 - before;
    expect(committed).toBeGreaterThan(0); // the first batches were committed

    const signalled = performance.now();
    run.child.kill('SIGTERM');
    const out = await run.done;
    const stopMs = performance.now() - signalled;

    expect(out.code, out.stderr).toBe(143);
    // Cancelled, not waited for: well inside the 30 s ECS gives a task between SIGTERM and SIGKILL.
    expect(stopMs).toBeLessThan(10_000);
    expect(await left()).toBe(before); // the batch under way rolled back whole
    const said = `deleted ${committed} rows before stopping (public.events: ${committed})`;
    expect(out.stderr).toContain(said);
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED retention t');
    expect(messages[0]?.message).toContain(`stopped by SIGTERM before it finished; ${said}`);
    await until('the retention sessions to end', async () => {
      const rows = await db.sql(
        "select count(*)::int as n from pg_stat_activity where application_name = 'pgmaint/retention'",
      );
      return rows[0]?.n === 0 ? true : undefined;
    });
  });
});
