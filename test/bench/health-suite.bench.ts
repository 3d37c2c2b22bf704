import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import { startLocalPostgres } from '../helpers/local-postgres';
import { withClient } from '../helpers/with-client';
import { type Benchmark, medianMs } from './bench-context';
import {
  CHECK_POSTGRES_SUITE,
  checkPostgresPath,
  checkPostgresTarget,
  describeTimes,
  machineLoad,
  sharedInstalledCli,
  timeProcess,
} from './health-process';

const TABLES = 10_000;
/** Tables created per transaction: each holds a lock per relation until commit. */
const BATCH = 250;
/** A whole `pgmaint health` process on the demo database, as Nagios starts it. */
const PROCESS_TARGET_MS = 250;
const PROCESSES = 21;
/** Rounds of check_postgres's actions (one process each): it takes a second or more per round. */
const CHECK_POSTGRES_ROUNDS = 3;

/**
 * The whole health suite (config → connect → all checks → result) on a catalog of 10,000 tables
 * and 20,000 indexes, and on the demo database, against a bare connect + `select 1` measured
 * side by side.
 */
export const healthSuiteBench: Benchmark = {
  name: 'health suite on 10,000 tables + 20,000 indexes and on the demo database',
  target: `in-process: large catalog < 1 s, demo database < 200 ms; a whole health process on the demo database ≤ ${PROCESS_TARGET_MS} ms`,
  async run() {
    const server = await startLocalPostgres();
    let dir: string | undefined;
    try {
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('create database bench_large');
      await admin.query('create database bench_demo');
      await admin.end();
      const urlOf = (database: string) => {
        const url = new URL(server.url);
        url.pathname = `/${database}`;
        return url.toString();
      };
      const large = urlOf('bench_large');
      const demo = urlOf('bench_demo');
      const setupStarted = Date.now();
      await withClient(large, async (client) => {
        for (let first = 0; first < TABLES; first += BATCH) {
          // Two indexes per table (the primary key and one more), ten rows each, so pg_stats has rows.
          await client.query(`
            do $$ begin
              for i in ${first}..${first + BATCH - 1} loop
                execute format('create table t_%s (id int primary key, v int, note text)', i);
                execute format('create index t_%s_v on t_%s (v)', i, i);
                execute format('insert into t_%s select g, g %% 3, md5(g::text) from generate_series(1, 10) g', i);
              end loop;
            end $$`);
        }
        await client.query('analyze');
      });
      await withClient(demo, (client) =>
        client.query(readFileSync(join(__dirname, '..', 'demo', 'seed.sql'), 'utf8')),
      );
      const counts = await withClient(large, async (client) => {
        const { rows } = await client.query<{ tables: number; indexes: number }>(
          `select count(*) filter (where c.relkind = 'r')::int as tables, count(*) filter (where c.relkind = 'i')::int as indexes
             from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`,
        );
        return rows[0];
      });
      const setupSeconds = (Date.now() - setupStarted) / 1000;

      dir = mkdtempSync(join(tmpdir(), 'pgmaint-bench-'));
      const configPath = join(dir, 'pgmaint.json');
      writeFileSync(configPath, JSON.stringify({ targets: { large: { url: large }, demo: { url: demo } } }));
      const io = { stdout: () => {}, stderr: () => {}, env: process.env, now: () => new Date() };
      const suite = (target: string) => async () => {
        const code = await main(['health', '--config', configPath, '--target', target, '--json'], io);
        if (code === 3) throw new Error(`health ${target} reported unknown checks`);
      };
      const baseline = await medianMs(11, () => withClient(large, (client) => client.query('select 1')));
      await suite('large')(); // first run warms the catalog caches, as a 15-minute schedule would
      const largeMs = await medianMs(7, suite('large'));
      await suite('demo')();
      const demoMs = await medianMs(11, suite('demo'));
      const cli = await sharedInstalledCli();
      const args = ['health', '--config', configPath, '--target', 'demo'];
      // Nagios codes 0-2 are answers: the demo database has a warning or two by design.
      const compiled = await timeProcess(cli.bin, args, PROCESSES, {
        cwd: cli.dir,
        cpu: true,
        ok: [0, 1, 2],
      });
      const npx = await timeProcess('npx', ['pgmaint', ...args], 1, { cwd: cli.dir, ok: [0, 1, 2] });
      const lines = [
        `setup: ${counts?.tables} tables, ${counts?.indexes} indexes in ${setupSeconds.toFixed(0)} s`,
        'in-process (main() in this process, modules already loaded):',
        `  bare connect + select 1:          ${baseline.toFixed(1)} ms (median of 11)`,
        `  health, 10,000 tables + 20,000 indexes: ${largeMs.toFixed(0)} ms (median of 7; ${(largeMs / baseline).toFixed(1)}× the bare connect)`,
        `  health, demo database:            ${demoMs.toFixed(0)} ms (median of 11; ${(demoMs / baseline).toFixed(1)}× the bare connect)`,
        `whole processes on the demo database, the compiled CLI as installed from the packed package (Node ${process.version}):`,
        `  ${describeTimes('pgmaint health (every check):', compiled, PROCESS_TARGET_MS)}`,
        `  ${describeTimes('npx pgmaint health:', npx)} (for reference)`,
      ];
      const checkPostgres = checkPostgresPath();
      if (checkPostgres) {
        const target = checkPostgresTarget(demo);
        const rounds: number[] = [];
        for (let round = 0; round < CHECK_POSTGRES_ROUNDS; round++) {
          let total = 0;
          for (const action of CHECK_POSTGRES_SUITE)
            total += (
              await timeProcess(checkPostgres, [...action, ...target.args], 1, {
                env: target.env,
                ok: [0, 1, 2],
              })
            ).medianMs;
          rounds.push(total);
        }
        rounds.sort((a, b) => a - b);
        const theirs = rounds[Math.floor(rounds.length / 2)] ?? Number.NaN;
        lines.push(
          `  ${checkPostgres}, ${CHECK_POSTGRES_SUITE.length} actions one process each: ${theirs.toFixed(0)} ms a round (median of ${CHECK_POSTGRES_ROUNDS}); pgmaint health ${(compiled.medianMs / theirs).toFixed(2)}× that`,
        );
      } else {
        lines.push('  check_postgres is not installed (apt-get install check-postgres): no comparison');
      }
      lines.push(machineLoad());
      return {
        lines,
        pass: largeMs < 1000 && demoMs < 200 && compiled.medianMs <= PROCESS_TARGET_MS,
      };
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      await server.stop();
    }
  },
};
