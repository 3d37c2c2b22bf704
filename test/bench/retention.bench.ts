import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
// Loaded here, not by main() inside the timed window: compiling and loading its retention modules
// there costs 100+ ms of this process's CPU in the middle of pgmaint's window.
import '../../functions/retention/definition';
import type { RetentionRun } from '../../functions/retention/result';
import { startLocalPostgres } from '../helpers/local-postgres';
import type { Benchmark } from './bench-context';

/** 10 million by default (the size); PGMAINT_BENCH_RETENTION_ROWS=2000000 runs both layouts in a few minutes. */
const ROWS_SETTING = process.env.PGMAINT_BENCH_RETENTION_ROWS ?? '10000000';
const ROWS = Number(ROWS_SETTING.replaceAll('_', ''));
/**
 * How the rows lie in the heap: `inOrder`, inserted oldest first as an application writes them over
 * time; `scattered`, times cycling through 200 days as ids grow (imports, tables clustered on another
 * key) and a tenth of the rows updated after insert (an update moves the row).
 */
type Layout = 'inOrder' | 'scattered';
const LAYOUTS: readonly Layout[] = ['inOrder', 'scattered'];
/** Each of the two idle windows (before the single DELETE, before pgmaint): 2 × 800 statements. */
const IDLE_MS = 8_000;
/** The writer's pace: one statement every 10 ms, alternating an insert and marking a random old notification read. */
const WRITER_INTERVAL_MS = 10;
/** Two identical tables, built the same way, so neither side runs on the other's leftovers. */
const SEED_TABLE = 'notifications_seed';
const PGMAINT_TABLE = 'notifications_pgmaint';
const SEED_DELETE = `delete from ${SEED_TABLE} where created_at < now() - interval '90 days'`;

interface WriterStats {
  readonly ops: number;
  readonly p99Ms: number;
  /** The longest single statement: how long the application was stuck behind our locks. */
  readonly maxMs: number;
  /** p99 of the inserts and of the updates of old rows apart: CPU contention vs waiting on row locks. */
  readonly insertP99Ms: number;
  readonly updateP99Ms: number;
}

/**
 * The issue's benchmark: a notifications table of ROWS rows, half older than 90 days, cleaned once by
 * the seeds' single DELETE and once by pgmaint, each while a writer inserts rows and marks random old
 * notifications read. Figures from one run, side by side: rows deleted per second, the writer's p99
 * and its longest stall, against the writer's idle p99.
 */
export const retentionBench: Benchmark = {
  name: "retention (batch shape per table layout and expired share) vs the seeds' single DELETE, in time order and scattered",
  target: 'on both layouts: ≥ 0.8× the single DELETE rows/s; writer p99 ≤ 2× idle p99; no writer stall > 1 s',
  async run() {
    if (!Number.isInteger(ROWS) || ROWS < 10_000 || ROWS % 2 !== 0)
      throw new Error(
        `PGMAINT_BENCH_RETENTION_ROWS=${ROWS_SETTING}: give an even whole number of rows, at least 10000 (e.g. 2000000; unset: 10000000)`,
      );
    const server = await startLocalPostgres();
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      const lines = [`table: ${ROWS.toLocaleString('en-US')} rows, half older than the 90-day cutoff`];
      let pass = true;
      for (const layout of LAYOUTS) {
        const outcome = await runLayout(server.url, admin, layout);
        lines.push(
          `### ${layout === 'inOrder' ? 'inserted in time order' : 'scattered (times cycle as ids grow, 10% updated after insert)'}`,
          ...outcome.lines,
        );
        pass &&= outcome.pass;
      }
      return { lines, pass };
    } finally {
      await admin.end().catch(() => {});
      await server.stop();
    }
  },
};

/** One layout: both tables built the same way, the single DELETE on one, pgmaint on the other, then both dropped. */
async function runLayout(
  url: string,
  admin: Client,
  layout: Layout,
): Promise<{ lines: string[]; pass: boolean }> {
  const half = Math.floor(ROWS / 2);
  await load(admin, SEED_TABLE, half, layout);
  await load(admin, PGMAINT_TABLE, half, layout);
  try {
    // The idle baseline is two windows, one before each cleanup, on the table it then cleans: one
    // short window let a passing hiccup of this shared machine decide the ratio.
    const idleWindow = (table: string) =>
      withWriter(url, admin, table, async () => {
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      });
    const idleBeforeSingle = await idleWindow(SEED_TABLE);

    let singleRows = 0;
    let singleMs = 0;
    // Timed inside the writer's window: its set-up (finding the old ids it updates) is not the DELETE's.
    const single = statsOf(
      await withWriter(url, admin, SEED_TABLE, async () => {
        const started = performance.now();
        singleRows = (await admin.query(SEED_DELETE)).rowCount ?? 0;
        singleMs = performance.now() - started;
      }),
    );

    const configPath = join(mkdtempSync(join(tmpdir(), 'pgmaint-bench-')), 'pgmaint.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        targets: {
          bench: {
            url,
            retention: {
              rules: [{ table: PGMAINT_TABLE, column: 'created_at', olderThan: '90 days' }],
              // The single DELETE does not vacuum either: compare the deletes alone.
              vacuumAbove: '100%',
            },
          },
        },
      }),
    );
    let pgmaintRows = 0;
    let batches = 0;
    let shape = '';
    let ruleMs = 0;
    const idleBeforePgmaint = await idleWindow(PGMAINT_TABLE);
    const idle = statsOf(idleBeforeSingle, idleBeforePgmaint);
    let pgmaintMs = 0;
    const pgmaintSamples = await withWriter(url, admin, PGMAINT_TABLE, async () => {
      const started = performance.now();
      let stdout = '';
      const io = {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: () => {},
        env: process.env,
        now: () => new Date(),
      };
      const code = await main(['retention', '--config', configPath, '--target', 'bench', '--json'], io);
      pgmaintMs = performance.now() - started;
      if (code !== 0) throw new Error(`pgmaint retention exited ${code}: ${stdout}`);
      const result = JSON.parse(stdout) as RetentionRun;
      pgmaintRows = result.totalRowsDeleted;
      batches = result.rules[0]?.batches ?? 0;
      ruleMs = result.rules[0]?.durationMs ?? 0;
      shape = `${result.rules[0]?.batchShape} (${result.rules[0]?.batchShapeReason})`;
    });
    const pgmaint = statsOf(pgmaintSamples);
    // Rows the writer updated while pgmaint ran can move behind its page-range pass: the next run's.
    const left = Number(
      (
        await admin.query<{ n: string }>(
          `select count(*) as n from ${PGMAINT_TABLE} where created_at < now() - interval '90 days'`,
        )
      ).rows[0]?.n ?? 0,
    );

    const singleRate = singleRows / (singleMs / 1000);
    const pgmaintRate = pgmaintRows / (pgmaintMs / 1000);
    const throughput = pgmaintRate / singleRate;
    const p99Ratio = pgmaint.p99Ms / idle.p99Ms;
    const line = (name: string, stats: WriterStats) =>
      `${name.padEnd(22)} writer p99 ${stats.p99Ms.toFixed(2)} ms (inserts ${stats.insertP99Ms.toFixed(2)}, updates of old rows ${stats.updateP99Ms.toFixed(2)}), longest stall ${stats.maxMs.toFixed(0)} ms (${stats.ops} statements)`;
    return {
      lines: [
        `${line('idle (no cleanup):', idle)}; the two windows apart: p99 ${statsOf(idleBeforeSingle).p99Ms.toFixed(2)} / ${statsOf(idleBeforePgmaint).p99Ms.toFixed(2)} ms`,
        `single DELETE:         ${singleRows.toLocaleString('en-US')} rows in ${(singleMs / 1000).toFixed(1)} s = ${Math.round(singleRate).toLocaleString('en-US')} rows/s`,
        line('  during it:', single),
        `pgmaint retention:     ${pgmaintRows.toLocaleString('en-US')} rows in ${(pgmaintMs / 1000).toFixed(1)} s (${batches} batches) = ${Math.round(pgmaintRate).toLocaleString('en-US')} rows/s; ${left.toLocaleString('en-US')} expired left for the next run`,
        `  batch shape:         ${shape}`,
        `  phases:              the rule (layout, batches) ${(ruleMs / 1000).toFixed(1)} s; connect, rule checks, run lock ${((pgmaintMs - ruleMs) / 1000).toFixed(1)} s`,
        line('  during it:', pgmaint),
        `throughput ratio:      ${throughput.toFixed(2)}× the single DELETE`,
        `writer p99 ratio:      ${p99Ratio.toFixed(2)}× idle`,
      ],
      pass: pgmaintRows + left === singleRows && throughput >= 0.8 && p99Ratio <= 2 && pgmaint.maxMs <= 1000,
    };
  } finally {
    await admin.query(`drop table if exists ${SEED_TABLE}, ${PGMAINT_TABLE}`);
  }
}

/**
 * Half the rows 91–191 days old, half younger than 90 days, laid out as `layout` says; indexed on
 * created_at and vacuumed (so the planner's statistics describe the layout). Autovacuum is off for
 * the table, so neither cleanup shares the machine with a VACUUM of the other's dead rows (the
 * single DELETE's table was being vacuumed while pgmaint ran): the deletes alone are compared.
 */
async function load(admin: Client, table: string, half: number, layout: Layout): Promise<void> {
  await admin.query(`
    create table ${table} (
      id bigserial primary key,
      user_id bigint not null,
      body text not null,
      is_read boolean not null default false,
      created_at timestamptz not null
    ) with (autovacuum_enabled = off)`);
  // The k-th row in time order; scattered, row i takes the time of k = (i × a prime) mod rows, a
  // permutation, so both layouts hold exactly the same times.
  const k = layout === 'inOrder' ? 'i' : `((i::int8 * 7919) % (2 * $1::int8)) + 1`;
  await admin.query(
    `insert into ${table} (user_id, body, created_at)
     select i % 100000, 'notice ' || i,
            case when k <= $1 then now() - interval '191 days' + (k::float8 / $1) * interval '100 days'
                 else now() - interval '89 days' + ((k - $1)::float8 / $1) * interval '89 days' end
     from generate_series(1, 2 * $1::int) i, lateral (select ${k} as k) t`,
    [half],
  );
  await admin.query(`create index ${table}_created_at_idx on ${table} (created_at)`);
  if (layout === 'scattered') {
    await admin.query(`vacuum ${table}`);
    await admin.query(`update ${table} set user_id = user_id + 1 where id % 10 = 0`);
  }
  await admin.query(`vacuum analyze ${table}`);
}

/** Runs `work` while a paced writer inserts and marks random old notifications read; returns its latencies. */
async function withWriter(
  url: string,
  admin: Client,
  table: string,
  work: () => Promise<void>,
): Promise<WriterSamples> {
  const range = (
    await admin.query<{ lo: string; hi: string }>(
      `select min(id)::text as lo, max(id)::text as hi from ${table} where created_at < now() - interval '90 days'`,
    )
  ).rows[0];
  const lo = Number(range?.lo ?? 1);
  const hi = Number(range?.hi ?? 1);
  // Every window starts from the same state: no checkpoint of what came before (the load, the other
  // cleanup, whose WAL asked for one) still writing its buffers out during it.
  await admin.query('checkpoint');
  const writer = startWriter({ url, table, lo, hi, intervalMs: WRITER_INTERVAL_MS });
  await writer.ready;
  try {
    await work();
  } finally {
    writer.stop();
  }
  return await writer.samples;
}

/**
 * The application: its own thread with its own event loop and connection, as it would be its own
 * process. In this process's event loop it would count the time pgmaint's JavaScript spends between
 * batches (parsing results, pacing, logging) as its statements' latency, which the single DELETE,
 * one awaited query, never costs it.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Client } = require(workerData.pgPath);
const { url, table, lo, hi, intervalMs } = workerData;
(async () => {
  const writer = new Client({ connectionString: url });
  await writer.connect();
  const inserts = [];
  const updates = [];
  let running = true;
  parentPort.on('message', () => { running = false; });
  parentPort.postMessage({ ready: true });
  for (let n = 0; running; n++) {
    const started = performance.now();
    if (n % 2 === 0) {
      await writer.query('insert into ' + table + " (user_id, body, created_at) values ($1, 'new', now())", [n]);
    } else {
      const id = lo + Math.floor(Math.random() * (hi - lo + 1));
      await writer.query('update ' + table + ' set is_read = true where id = $1', [id]);
    }
    const elapsed = performance.now() - started;
    (n % 2 === 0 ? inserts : updates).push(elapsed);
    if (elapsed < intervalMs) await new Promise((resolve) => setTimeout(resolve, intervalMs - elapsed));
  }
  await writer.end();
  parentPort.postMessage({ inserts, updates });
})();
`;

function startWriter(options: { url: string; table: string; lo: number; hi: number; intervalMs: number }): {
  ready: Promise<void>;
  samples: Promise<WriterSamples>;
  stop(): void;
} {
  const worker = new Worker(WRITER_SOURCE, {
    eval: true,
    workerData: { ...options, pgPath: require.resolve('pg') },
  });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const samples = new Promise<WriterSamples>((resolve, reject) => {
    worker.on('message', (message: { ready?: true } & Partial<WriterSamples>) => {
      if (message.ready) onReady();
      else if (message.inserts && message.updates)
        resolve({ inserts: message.inserts, updates: message.updates });
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the bench's writer thread exited ${code}`));
    });
  });
  // A writer that fails to start must fail the bench, not leave it waiting for "ready".
  const started = Promise.race([ready, samples.then(() => {})]);
  return { ready: started, samples, stop: () => worker.postMessage('stop') };
}

/** Statement latencies of one or more writer windows, in milliseconds. */
interface WriterSamples {
  readonly inserts: readonly number[];
  readonly updates: readonly number[];
}

function statsOf(...windows: readonly WriterSamples[]): WriterStats {
  const inserts = windows.flatMap((w) => w.inserts);
  const updates = windows.flatMap((w) => w.updates);
  const all = [...inserts, ...updates];
  return {
    ops: all.length,
    p99Ms: p99(all),
    maxMs: Math.max(...all),
    insertP99Ms: p99(inserts),
    updateP99Ms: p99(updates),
  };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}
