import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import { startLocalPostgres } from '../helpers/local-postgres';
import { type Benchmark, medianMs } from './bench-context';

const TABLES = 10_000;
/** Tables created per transaction: each holds a lock per relation until commit. */
const BATCH = 250;

/**
 * The whole health suite (config → connect → all checks → result) on a catalog of 10,000 tables
 * and 20,000 indexes, and on the demo database, against a bare connect + `select 1` measured
 * side by side.
 */
export const healthSuiteBench: Benchmark = {
  name: 'health suite on 10,000 tables + 20,000 indexes and on the demo database',
  target: 'large catalog < 1 s, demo database < 200 ms',
  async run() {
    const server = await startLocalPostgres();
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

      const dir = mkdtempSync(join(tmpdir(), 'pgmaint-bench-'));
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
      return {
        lines: [
          `setup: ${counts?.tables} tables, ${counts?.indexes} indexes in ${setupSeconds.toFixed(0)} s`,
          `bare connect + select 1:          ${baseline.toFixed(1)} ms (median of 11)`,
          `health, 10,000 tables + 20,000 indexes: ${largeMs.toFixed(0)} ms (median of 7; ${(largeMs / baseline).toFixed(1)}× the bare connect)`,
          `health, demo database:            ${demoMs.toFixed(0)} ms (median of 11; ${(demoMs / baseline).toFixed(1)}× the bare connect)`,
        ],
        pass: largeMs < 1000 && demoMs < 200,
      };
    } finally {
      await server.stop();
    }
  },
};

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
