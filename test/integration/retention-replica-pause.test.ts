import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PACING, type Pacing } from '../../functions/retention/pacing';
import { deleteExpiredRows } from '../../functions/retention/row-deleter';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { silentLogger } from '../../functions/shared/logger';
import { type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';

/**
 * Batches pause between them only while a replica is behind or may be. A server of its own: the WAL
 * receiver this test connects would be a replica to every other test file's server.
 */
describe('retention pauses between batches for replicas, not otherwise', () => {
  let server: LocalPostgres;
  const ROWS = 10_000;
  // 100 rows a batch (one page), and a pause of the full 200 ms whenever the batches pause for a replica.
  const pacing: Pacing = {
    ...DEFAULT_PACING,
    initialBatch: 100,
    minBatch: 100,
    maxBatch: 100,
    pauseShare: 1_000,
    maxPauseMs: 200,
  };

  beforeAll(async () => {
    server = await startLocalPostgres();
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    await admin.query("create role app login password 'app-pw'").finally(() => admin.end());
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** Fills `events` with ROWS expired rows and deletes them as `url`'s role; the batches and the time taken. */
  async function run(url: string) {
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`drop table if exists events;
        create table events (id bigint, created_at timestamptz not null) with (autovacuum_enabled = off);
        insert into events select g, now() - interval '100 days' from generate_series(1, ${ROWS}) g;
        grant select, delete on events to app`);
      await admin.query('vacuum analyze events');
    } finally {
      await admin.end();
    }
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
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
      const started = performance.now();
      const deletion = await deleteExpiredRows(
        { client, logger: silentLogger, remainingMs: () => Number.POSITIVE_INFINITY, pacing },
        rule,
        cutoff,
      );
      expect(deletion).toMatchObject({ rowsDeleted: ROWS, stoppedBecause: 'done' });
      return { batches: deletion.batches, ms: performance.now() - started };
    } finally {
      await client.end();
    }
  }

  const appUrl = () => {
    const url = new URL(server.url);
    url.username = 'app';
    url.password = 'app-pw';
    return url.toString();
  };

  it('with no replica, does not pause between batches', async () => {
    const { batches, ms } = await run(appUrl());
    expect(batches).toBeGreaterThanOrEqual(50);
    // Pausing for a replica would take at least batches × 200 ms (10 s and more).
    expect(ms).toBeLessThan((batches * pacing.maxPauseMs) / 2);
  }, 60_000);

  it("pauses while a replica streams whose position this role can't see", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgmaint-receivewal-'));
    const receiver: ChildProcess = spawn(
      join(server.bindir, 'pg_receivewal'),
      ['-D', dir, '-d', server.url, '--no-loop', '--no-password'],
      { stdio: 'ignore' },
    );
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      for (const deadline = Date.now() + 20_000; ; ) {
        const streaming = await admin.query("select 1 from pg_stat_replication where state = 'streaming'");
        if (streaming.rowCount) break;
        if (Date.now() > deadline) throw new Error('pg_receivewal never started streaming');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The role without pg_read_all_stats sees the replica but not its position: it must assume it is behind.
      const { batches, ms } = await run(appUrl());
      expect(ms).toBeGreaterThanOrEqual((batches - 1) * pacing.maxPauseMs);
    } finally {
      await admin.end();
      receiver.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
