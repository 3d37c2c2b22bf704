import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../functions/retention/pacing';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import { type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';

/**
 * A row rule's batches commit asynchronously: on a durable server (fsync and synchronous_commit on,
 * which the shared test server turns off for speed) a hundred batches cost a handful of WAL flushes,
 * the WAL writer's, instead of one flush per commit. The session is durable again afterwards.
 */
describe('retention batches commit without waiting for their WAL flush', () => {
  let server: LocalPostgres;

  beforeAll(async () => {
    server = await startLocalPostgres({ extraSettings: { fsync: 'on', synchronous_commit: 'on' } });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('flushes WAL far fewer times than it commits batches, and resets synchronous_commit after', async () => {
    const setup = new Client({ connectionString: server.url });
    await setup.connect();
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      // No index on created_at: page-range batches of one page (a 100-row ceiling), about 215 over 40,000 rows.
      await setup.query(`create table events (id bigint, created_at timestamptz not null) with (autovacuum_enabled = off);
      insert into events select g, now() - interval '100 days' from generate_series(1, 40000) g`);
      await setup.query('vacuum analyze events');
      const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      const walSyncs = async () => {
        // A backend's WAL statistics reach pg_stat_wal when it exits: wait for the retention session's.
        for (const deadline = Date.now() + 10_000; ; ) {
          const alive = await setup.query('select 1 from pg_stat_activity where pid = $1', [pid]);
          if (alive.rowCount === 0) break;
          if (Date.now() > deadline) throw new Error('the retention session did not exit');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return Number((await setup.query<{ n: string }>('select wal_sync as n from pg_stat_wal')).rows[0]?.n);
      };
      const check = await resolveRules(
        client,
        [retentionRule.parse({ table: 'events', column: 'created_at', olderThan: '60 days' })],
        'rules',
      );
      const rule = check.rules[0];
      if (rule?.kind !== 'rows') throw new Error('expected a row rule');
      const cutoff =
        (await client.query<{ c: string }>("select (now() - interval '60 days')::text as c")).rows[0]?.c ??
        '';
      const before = Number(
        (await setup.query<{ n: string }>('select wal_sync as n from pg_stat_wal')).rows[0]?.n,
      );
      const deletion = await deleteExpiredRows(
        {
          client,
          logger: silentLogger,
          remainingMs: () => Number.POSITIVE_INFINITY,
          pacing: { ...DEFAULT_PACING, initialBatch: 100, minBatch: 100, maxBatch: 100 },
        },
        rule,
        cutoff,
      );
      expect(deletion).toMatchObject({ rowsDeleted: 40_000, stoppedBecause: 'done', batchShape: 'tidRange' });
      expect(deletion.batches).toBeGreaterThanOrEqual(200);
      // What the rest of the run writes (partition DDL, VACUUM, the next rule's checks) is durable again.
      expect((await client.query('show synchronous_commit')).rows[0]?.synchronous_commit).toBe('on');
      await client.end();
      // Committed synchronously, every batch flushes once (≥ 200); asynchronously the WAL writer flushes
      // every wal_writer_delay (200 ms) or MB of WAL.
      expect((await walSyncs()) - before).toBeLessThan(deletion.batches / 2);
    } finally {
      await client.end().catch(() => {});
      await setup.end();
    }
  }, 120_000);
});
