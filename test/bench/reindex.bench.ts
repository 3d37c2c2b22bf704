import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import type { ReindexResult } from '../../functions/reindex/result';
import { formatBytes } from '../../functions/shared/units';
import { type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';
import type { Benchmark } from './bench-context';

/**
 * A bloated btree index (half its entries deleted) under a steady pgbench insert load, rebuilt
 * twice on identical copies: by `pgmaint reindex` (REINDEX INDEX CONCURRENTLY) and by a plain
 * `REINDEX INDEX` (the seeds' way). From pgbench's per-transaction log we take the writers' longest
 * latency and p99 while each rebuild ran, and compare the rebuilt index with a fresh build.
 *
 * Then the never-analyzed case on a third copy, 90% of its rows deleted, then VACUUM and no ANALYZE
 * (what a nightly `DELETE` + `VACUUM` cron leaves): pgmaint has to ANALYZE the table before it can
 * estimate the index, and its run's time, ANALYZE included, is printed.
 *
 * PGMAINT_BENCH_REINDEX_MB sets the bloated index's size (default 1024, the "about 1 GB");
 * a smaller one (say 128) gives a quick run. PGMAINT_BENCH_REINDEX_TPS sets the write rate (200).
 */
const INDEX_MB = Number(process.env.PGMAINT_BENCH_REINDEX_MB ?? 1024);
const WRITE_TPS = Number(process.env.PGMAINT_BENCH_REINDEX_TPS ?? 200);
const WRITERS = 4;
/** Leaf bytes per md5 key in a fresh build: 48-byte tuple + 4-byte line pointer, pages 90% full. */
const BYTES_PER_ENTRY = 52 / 0.9;
/** Writer traffic recorded after a rebuild ends, so a writer it held up shows its full wait. */
const TAIL_MS = 3_000;
const NEVER_ANALYZED = 'bench_never_analyzed';

interface WriterStats {
  readonly transactions: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export const reindexBench: Benchmark = {
  name: 'reindex: pgmaint (REINDEX CONCURRENTLY) vs plain REINDEX INDEX under pgbench writes; a never-analyzed table',
  target:
    "writers' longest stall ≤ 1 s during pgmaint's rebuilds; size after ≤ 1.1× a fresh build; the never-analyzed table's index rebuilt",
  async run() {
    const server = await startLocalPostgres({
      extraSettings: { max_wal_size: "'16GB'", maintenance_work_mem: "'256MB'", autovacuum: 'off' },
    });
    const work = mkdtempSync(join(tmpdir(), 'pgmaint-bench-reindex-'));
    try {
      const rows = Math.round((INDEX_MB * 1024 ** 2) / BYTES_PER_ENTRY);
      const setupStarted = Date.now();
      // Separate databases, so pgmaint sees only its own copy; built side by side.
      await Promise.all([
        ...['bench_pgmaint', 'bench_plain'].map((name) =>
          bloatedCopy(server, name, rows, { keepEvery: 2, analyze: true }),
        ),
        bloatedCopy(server, NEVER_ANALYZED, rows, { keepEvery: 10, analyze: false }),
      ]);
      const setupSeconds = (Date.now() - setupStarted) / 1000;
      const sizeBefore = await indexSize(server, 'bench_pgmaint');

      const configPath = join(work, 'pgmaint.json');
      writeFileSync(
        configPath,
        JSON.stringify({
          targets: { bench: { url: dbUrl(server, 'bench_pgmaint'), reindex: { minSize: '1 MB' } } },
        }),
      );
      let reindexResult: ReindexResult | undefined;
      const pgmaint = await underLoad(server, 'bench_pgmaint', work, async () => {
        reindexResult = await pgmaintReindex(configPath);
      });
      const rebuilt = rebuiltIndex(reindexResult);
      const sizeAfter = await indexSize(server, 'bench_pgmaint');
      const freshSize = await withClient(server, 'bench_pgmaint', async (client) => {
        await client.query('create index bench_fresh_idx on bench (k)');
        const size = await client.query<{ s: string }>("select pg_relation_size('bench_fresh_idx') as s");
        return Number(size.rows[0]?.s);
      });

      const plain = await underLoad(server, 'bench_plain', work, () =>
        withClient(server, 'bench_plain', (client) => client.query('reindex index bench_k_idx')),
      );

      const neverConfig = join(work, 'never-analyzed.json');
      writeFileSync(
        neverConfig,
        JSON.stringify({
          targets: { bench: { url: dbUrl(server, NEVER_ANALYZED), reindex: { minSize: '1 MB' } } },
        }),
      );
      const neverBefore = await indexSize(server, NEVER_ANALYZED);
      const neverStats = await withClient(server, NEVER_ANALYZED, async (client) =>
        Number(
          (await client.query<{ n: string }>("select count(*) as n from pg_stats where tablename = 'bench'"))
            .rows[0]?.n,
        ),
      );
      let neverResult: ReindexResult | undefined;
      const never = await underLoad(server, NEVER_ANALYZED, work, async () => {
        neverResult = await pgmaintReindex(neverConfig);
      });
      const neverRebuilt = rebuiltIndex(neverResult);
      const neverAnalyze = neverResult?.analyzed.find((a) => a.table === 'public.bench');
      if (!neverAnalyze) throw new Error(`pgmaint did not ANALYZE first: ${JSON.stringify(neverResult)}`);
      const neverAfter = await indexSize(server, NEVER_ANALYZED);

      const ratio = sizeAfter / freshSize;
      const line = (label: string, run: { durationMs: number; writers: WriterStats }) =>
        `${label} rebuild ${(run.durationMs / 1000).toFixed(1)} s; writers: ${run.writers.transactions} txns, p99 ${run.writers.p99Ms.toFixed(0)} ms, longest ${run.writers.maxMs.toFixed(0)} ms`;
      return {
        lines: [
          `index: ${formatBytes(sizeBefore)} btree on md5 text, ${rows.toLocaleString('en')} entries, half deleted (pgmaint estimated ${rebuilt.bloatBefore}% bloat, ${rebuilt.estimate}); setup ${setupSeconds.toFixed(0)} s`,
          `load: pgbench, ${WRITERS} clients, ${WRITE_TPS} inserts/s into the indexed table`,
          line('pgmaint (REINDEX INDEX CONCURRENTLY):', pgmaint),
          line('plain REINDEX INDEX (seeds):         ', plain),
          `longest writer stall: pgmaint ${pgmaint.writers.maxMs.toFixed(0)} ms vs plain ${plain.writers.maxMs.toFixed(0)} ms`,
          `size after pgmaint: ${formatBytes(sizeAfter)}; fresh build: ${formatBytes(freshSize)}; ratio ${ratio.toFixed(3)}×`,
          `### never analyzed: ${formatBytes(neverBefore)} index, 90% of the rows deleted, VACUUM, no ANALYZE (${neverStats} pg_stats rows before)`,
          line('pgmaint (ANALYZE first, then REINDEX CONCURRENTLY):', never),
          `  of which ANALYZE ${(neverAnalyze.durationMs / 1000).toFixed(1)} s (${neverAnalyze.reason}); estimated ${neverRebuilt.bloatBefore}% bloat (${neverRebuilt.estimate}); index ${formatBytes(neverBefore)} → ${formatBytes(neverAfter)}`,
        ],
        pass: pgmaint.writers.maxMs <= 1000 && ratio <= 1.1 && never.writers.maxMs <= 1000,
      };
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

/** `pgmaint reindex --json` on one bench database, through the CLI's own entry point. */
async function pgmaintReindex(configPath: string): Promise<ReindexResult> {
  let stdout = '';
  const code = await main(['reindex', '--config', configPath, '--target', 'bench', '--json'], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: () => {},
    env: process.env,
    now: () => new Date(),
  });
  if (code !== 0) throw new Error(`pgmaint reindex exited ${code}: ${stdout}`);
  return JSON.parse(stdout) as ReindexResult;
}

function rebuiltIndex(result: ReindexResult | undefined) {
  const rebuilt = result?.indexes.find((i) => i.name === 'public.bench_k_idx');
  if (rebuilt?.status !== 'rebuilt') throw new Error(`pgmaint did not rebuild: ${JSON.stringify(result)}`);
  return rebuilt;
}

function dbUrl(server: LocalPostgres, database: string): string {
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(server: LocalPostgres, database: string, work: (client: Client) => Promise<T>) {
  const client = new Client({ connectionString: dbUrl(server, database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A table whose index on random md5 keys was built packed, then lost all but one entry in
 * `keepEvery`; vacuumed, and analyzed or (the never-analyzed case) not.
 */
async function bloatedCopy(
  server: LocalPostgres,
  database: string,
  rows: number,
  shape: { keepEvery: number; analyze: boolean },
): Promise<void> {
  await withClient(server, 'postgres', (client) => client.query(`create database ${database}`));
  await withClient(server, database, async (client) => {
    await client.query('create table bench (id bigint not null, k text not null, pad int not null)');
    await client.query('insert into bench select i, md5(i::text), 0 from generate_series(1, $1::bigint) i', [
      rows,
    ]);
    await client.query('create index bench_k_idx on bench (k)');
    await client.query('delete from bench where id % $1 <> 0', [shape.keepEvery]);
    await client.query(shape.analyze ? 'vacuum analyze bench' : 'vacuum bench');
  });
}

const indexSize = (server: LocalPostgres, database: string) =>
  withClient(server, database, async (client) =>
    Number((await client.query<{ s: string }>("select pg_relation_size('bench_k_idx') as s")).rows[0]?.s),
  );

/**
 * Runs `rebuild` while pgbench inserts at a steady rate, then the writers' latencies for every
 * transaction that overlapped the rebuild. With --rate, pgbench counts latency from each
 * transaction's scheduled start, so a writer held up by a lock shows the whole wait.
 */
async function underLoad(
  server: LocalPostgres,
  database: string,
  work: string,
  rebuild: () => Promise<unknown>,
): Promise<{ durationMs: number; writers: WriterStats }> {
  const script = join(work, `${database}.sql`);
  writeFileSync(
    script,
    [
      '\\set id random(1000000000, 9000000000)',
      'insert into bench (id, k, pad) values (:id, md5(:id::text), 1);',
      '',
    ].join('\n'),
  );
  const logPrefix = join(work, `${database}-log`);
  const pgbench = spawn(
    join(server.bindir, 'pgbench'),
    [
      '-n',
      '-h',
      '127.0.0.1',
      '-p',
      String(server.port),
      '-U',
      'postgres',
      '-c',
      String(WRITERS),
      '-j',
      '2',
      '-R',
      String(WRITE_TPS),
      '-T',
      '86400',
      '-f',
      script,
      '--log',
      `--log-prefix=${logPrefix}`,
      database,
    ],
    { cwd: work, env: { ...process.env, PGPASSWORD: server.password }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = exitOf(pgbench);
  try {
    await waitForWriters(server, database);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const started = Date.now();
    await rebuild();
    const ended = Date.now();
    await new Promise((resolve) => setTimeout(resolve, TAIL_MS));
    return {
      durationMs: ended - started,
      writers: await stopAndRead(server, database, exited, logPrefix, started, ended),
    };
  } finally {
    if (pgbench.exitCode === null) pgbench.kill('SIGKILL');
  }
}

function exitOf(child: ChildProcess): Promise<string> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve(stderr));
  });
}

async function waitForWriters(server: LocalPostgres, database: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const count = await withClient(server, 'postgres', async (client) =>
      Number(
        (
          await client.query<{ n: string }>(
            "select count(*) as n from pg_stat_activity where application_name = 'pgbench' and datname = $1",
            [database],
          )
        ).rows[0]?.n,
      ),
    );
    if (count >= WRITERS) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('pgbench writers did not connect within 30 s');
}

/**
 * pgbench flushes its per-transaction log only when it exits; ending its sessions makes every
 * client abort and pgbench exit with complete logs.
 */
async function stopAndRead(
  server: LocalPostgres,
  database: string,
  exited: Promise<string>,
  logPrefix: string,
  windowStart: number,
  windowEnd: number,
): Promise<WriterStats> {
  await withClient(server, 'postgres', (client) =>
    client.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pgbench' and datname = $1",
      [database],
    ),
  );
  const stderr = await exited;
  const dir = join(logPrefix, '..');
  const base = logPrefix.slice(dir.length + 1);
  const latencies: number[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${base}.`))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      // client_id transaction_no latency_us script_no epoch_s epoch_us [schedule_lag_us]
      const fields = line.trim().split(/\s+/);
      if (fields.length < 6) continue;
      const latencyMs = Number(fields[2]) / 1000;
      const endMs = Number(fields[4]) * 1000 + Number(fields[5]) / 1000;
      if (!Number.isFinite(latencyMs) || !Number.isFinite(endMs)) continue;
      if (endMs >= windowStart && endMs - latencyMs <= windowEnd) latencies.push(latencyMs);
    }
  }
  if (latencies.length === 0) throw new Error(`pgbench logged no transactions during the rebuild: ${stderr}`);
  latencies.sort((a, b) => a - b);
  return {
    transactions: latencies.length,
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? Number.NaN,
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
  };
}
