import { pathToFileURL } from 'node:url';
import { Client } from 'pg';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReindexResult } from '../../functions/reindex/result';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { type LocalPostgres, serverBindir, startLocalPostgres } from '../helpers/local-postgres';
import { testTempDir } from '../helpers/temp-dirs';

interface Check {
  name: string;
  status: string;
  value: number | null;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The checks and the reindex estimate whose catalog views differ on PostgreSQL 17
 * (pg_replication_slots.inactive_since, pg_stat_* and pg_sequence as 17 has them), on the
 * embedded PostgreSQL 17 server.
 */
describe('health and reindex statistics on PostgreSQL 17', () => {
  let server: LocalPostgres;
  let url: string;
  const sql = async (text: string, values?: unknown[]) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    server = await startLocalPostgres({ bindir: serverBindir(17) });
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database app');
    await admin.end();
    const target = new URL(server.url);
    target.pathname = '/app';
    url = target.toString();
  }, 120_000);
  afterAll(async () => server?.stop());

  const config = (sections: Record<string, unknown> = {}) =>
    writeConfig({ targets: { t: { url, ...sections } } });

  it('health: a never-analyzed table, a sequence from -2^31, a busy long transaction and an inactive slot', async () => {
    expect((await sql('show server_version_num'))[0]?.server_version_num).toMatch(/^17/);
    await sql(
      "create table loaded (id bigint, pad text) with (autovacuum_enabled = false); insert into loaded select g, repeat('x', 200) from generate_series(1, 60000) g",
    );
    await sql(
      "create sequence signed_seq as integer minvalue -2147483648 start -2147483648; select setval('signed_seq', 1900000000)",
    );
    await sql("select pg_create_physical_replication_slot('idle_slot', true)");
    const busy = new Client({ connectionString: url });
    await busy.connect();
    await busy.query('begin');
    const pid = (await busy.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    let chatting = true;
    const chatter = (async () => {
      while (chatting) {
        await busy.query('select 1');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      const deadline = Date.now() + 15_000;
      while (
        (
          await sql(
            "select 1 from pg_stat_activity where pid = $1 and now() - xact_start > interval '1.5 s'",
            [pid],
          )
        ).length === 0
      ) {
        if (Date.now() > deadline) throw new Error('the transaction did not age');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const thresholds = {
        long_transactions: { warning: '1 second', critical: '1 hour' },
        idle_in_transaction: { warning: '1 second', critical: '1 hour' },
        table_bloat: { minSize: '5 MB' },
      };
      const out = await runCli([
        'health',
        '--config',
        config({ health: { thresholds } }),
        '--target',
        't',
        '--json',
      ]);
      const checks = (JSON.parse(out.stdout) as { checks: Check[] }).checks;
      const check = (name: string) => {
        const found = checks.find((c) => c.name === name);
        if (!found) throw new Error(`no ${name} in ${out.stdout}`);
        return found;
      };

      // Only the table without statistics leaves something unknown.
      expect(checks.filter((c) => c.status === 'unknown').map((c) => c.name)).toEqual(['table_bloat']);
      expect(check('table_bloat').message).toMatch(/public\.loaded \(\d+(\.\d)? MB, never analyzed\)/);
      expect(check('sequence_exhaustion')).toMatchObject({ status: 'critical', value: 94.24 });
      expect(check('long_transactions').status).toBe('warning');
      expect(check('long_transactions').message).toContain(`(pid ${pid}, `);
      expect(check('idle_in_transaction').status).toBe('ok');
      // 17 records since when a slot is inactive: no backup store needed to know.
      const slots = check('replication_slots');
      expect(slots.status).toBe('ok');
      expect(slots.message).not.toContain('cannot know');
      const slot = (slots.details.slots as Array<{ slot: string; inactiveSince: string | null }>)[0];
      expect(slot?.slot).toBe('idle_slot');
      const [recorded] = await sql(
        "select inactive_since from pg_replication_slots where slot_name = 'idle_slot'",
      );
      expect(recorded?.inactive_since).toBeInstanceOf(Date);
      expect(slot?.inactiveSince).toBe(new Date(recorded?.inactive_since as Date).toISOString());
    } finally {
      chatting = false;
      await chatter;
      await busy.end();
      await sql("select pg_drop_replication_slot('idle_slot')");
    }
  });

  it('checkpoints: requested checkpoints since the previous run, read from pg_stat_checkpointer', async () => {
    // Counters are compared with the previous run's, which a store keeps.
    const store = pathToFileURL(testTempDir('pg17-state-')).toString();
    const path = writeConfig({ backupBucket: store, targets: { t: { url } } });
    const checkpoints = async () => {
      const out = await runCli(['health', '--config', path, '--target', 't', '--json']);
      const found = (JSON.parse(out.stdout) as { checks: Check[] }).checks.find(
        (c) => c.name === 'checkpoints',
      );
      if (!found) throw new Error(`no checkpoints in ${out.stdout}\n${out.stderr}`);
      return found;
    };
    const requested = async () =>
      Number((await sql('select num_requested::int as n from pg_stat_checkpointer'))[0]?.n);
    await checkpoints();
    const before = await requested();
    for (let i = 0; i < 3; i++) await sql('checkpoint');
    const deadline = Date.now() + 20_000;
    while ((await requested()) < before + 3) {
      if (Date.now() > deadline) throw new Error('pg_stat_checkpointer never counted the checkpoints');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const forced = await checkpoints();
    expect(forced.status).toBe('warning');
    expect(forced.details.requested).toBeGreaterThanOrEqual(3);
    expect(forced.message).toMatch(/checkpoints were requested, not timed .* since the previous run$/);
  });

  it('reindex: a never-analyzed table is analyzed, in the dry run too, and its emptied index listed', async () => {
    await sql('create table orders (id bigint not null, k int not null) with (autovacuum_enabled = false)');
    await sql('insert into orders select i, i from generate_series(1, 200000) i');
    await sql('create index orders_k_idx on orders (k)');
    await sql('delete from orders where id % 10 <> 0');
    await sql('vacuum orders');
    const result = await runCliJson<ReindexResult>([
      'reindex',
      '--config',
      config({ reindex: { minSize: '1 MB' } }),
      '--target',
      't',
      '--json',
      '--dry-run',
    ]);
    expect(result.analyzed.map((a) => a.table)).toEqual(['public.orders']);
    expect(result.indexes).toMatchObject([{ name: 'public.orders_k_idx', status: 'candidate' }]);
    expect(result.notEstimated).toEqual([]);
  });
});
