import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
// Loaded here, not by main() inside the timed window: compiling and loading its retention modules
// there costs 100+ ms of this process's CPU in the middle of pgmaint's window.
import '../../functions/retention/definition';
import type { RetentionRun } from '../../functions/retention/result';
import { MAX_PAUSE_PERCENT } from '../../functions/shared/config/sections';
import { parsePercent } from '../../functions/shared/units';
import { startLocalPostgres } from '../helpers/local-postgres';
import { urlOfDatabase, withClient } from '../helpers/with-client';
import type { Benchmark } from './bench-context';

/** 10 million by default (the issue's size); PGMAINT_BENCH_RETENTION_ROWS=2000000 runs both layouts in a few minutes. */
const ROWS_SETTING = process.env.PGMAINT_BENCH_RETENTION_ROWS ?? '10000000';
const ROWS = Number(ROWS_SETTING.replaceAll('_', ''));
/**
 * How the rows lie in the heap: `inOrder`, inserted oldest first as an application writes them over
 * time; `scattered`, times cycling through 200 days as ids grow (imports, tables clustered on another
 * key) and a tenth of the rows updated after insert (an update moves the row).
 */
type Layout = 'inOrder' | 'scattered';
const ALL_LAYOUTS: readonly Layout[] = ['inOrder', 'scattered'];
/** PGMAINT_BENCH_RETENTION_LAYOUTS=inOrder (or scattered) runs one layout; both by default. */
const LAYOUTS_SETTING = process.env.PGMAINT_BENCH_RETENTION_LAYOUTS ?? ALL_LAYOUTS.join(',');
const LAYOUTS = LAYOUTS_SETTING.split(',').map((name) => name.trim()) as Layout[];
/** PGMAINT_BENCH_RETENTION_PAUSE=25% runs pgmaint with that `pauseAfterBatch`; none by default. */
const PAUSE_SETTING = process.env.PGMAINT_BENCH_RETENTION_PAUSE ?? '0%';
/** The idle window before each round: 500 statements of the writer (pooled over every round). */
const IDLE_MS = 5_000;
/** The writer's pace: one statement every 10 ms, alternating an insert and marking a random old notification read. */
const WRITER_INTERVAL_MS = 10;

interface WriterStats {
  readonly ops: number;
  readonly p99Ms: number;
  /** The longest single statement: how long the application was stuck behind our locks. */
  readonly maxMs: number;
  /** p99 of the inserts and of the updates of old rows apart: CPU contention vs waiting on row locks. */
  readonly insertP99Ms: number;
  readonly updateP99Ms: number;
  /** p99 of the same statements' time inside the server, commit included, as its log records it. */
  readonly inDatabaseP99Ms: number;
}

/**
 * A notifications table of ROWS rows, half older than 90 days, cleaned ROUNDS_PER_SIDE times by the seeds'
 * single DELETE and as often by pgmaint (A-B-B-A, each round in a fresh clone of one loaded
 * database), each while a writer inserts rows
 * and marks random old notifications read. Figures from one run, side by side: rows deleted per
 * second over each side's rounds, the writer's p99 and its longest stall, against its idle p99.
 */
export const retentionBench: Benchmark = {
  name: "retention (batch shape per table layout and expired share) vs the seeds' single DELETE, in time order and scattered",
  target: 'on both layouts: ≥ 0.8× the single DELETE rows/s; writer p99 ≤ 2× idle p99; no writer stall > 1 s',
  async run() {
    const unknown = LAYOUTS.filter((layout) => !ALL_LAYOUTS.includes(layout));
    if (LAYOUTS.length === 0 || unknown.length > 0)
      throw new Error(
        `PGMAINT_BENCH_RETENTION_LAYOUTS=${LAYOUTS_SETTING}: give ${ALL_LAYOUTS.join(' and/or ')}, comma-separated (unset: both)`,
      );
    if (!Number.isInteger(ROUNDS_PER_SIDE) || ROUNDS_PER_SIDE < 2 || ROUNDS_PER_SIDE % 2 !== 0)
      throw new Error(
        `PGMAINT_BENCH_RETENTION_ROUNDS=${ROUNDS_SETTING}: give an even whole number of rounds per side, at least 2 (unset: 4)`,
      );
    if (parsePercent(PAUSE_SETTING, MAX_PAUSE_PERCENT) === undefined)
      throw new Error(
        `PGMAINT_BENCH_RETENTION_PAUSE=${PAUSE_SETTING}: give a percentage of each batch's time, 0% to ${MAX_PAUSE_PERCENT}% (unset: 0%)`,
      );
    if (!Number.isInteger(ROWS) || ROWS < 10_000 || ROWS % 2 !== 0)
      throw new Error(
        `PGMAINT_BENCH_RETENTION_ROWS=${ROWS_SETTING}: give an even whole number of rows, at least 10000 (e.g. 2000000; unset: 10000000)`,
      );
    // The writer's session logs each statement's duration; the prefix names the window it belongs to.
    const server = await startLocalPostgres({ extraSettings: { log_line_prefix: "'%a '" } });
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    try {
      const lines = [
        `table: ${ROWS.toLocaleString('en-US')} rows, half older than the 90-day cutoff; pgmaint's pauseAfterBatch ${PAUSE_SETTING}`,
      ];
      let pass = true;
      for (const layout of LAYOUTS) {
        const outcome = await runLayout(server, admin, layout);
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

type Side = 'single' | 'pgmaint';
/**
 * A-B-B-A, repeated, each round in a database of its own cloned from one loaded template: whatever
 * drifts during the run (the kernel's caches, the shared machine's load) weighs on both sides alike.
 * One round here swings by a third (3.1 s and 4.6 s for the same work); with two rounds a side, two
 * quiet runs gave in-order pgmaint 1.00× and 0.72× the single DELETE. Cloning a database copies its
 * files, far quicker than loading 10 million rows again, so each side gets several rounds.
 */
const ROUNDS_SETTING = process.env.PGMAINT_BENCH_RETENTION_ROUNDS ?? '4';
/** Rounds of each side, an even number (PGMAINT_BENCH_RETENTION_ROUNDS; 4 by default). */
const ROUNDS_PER_SIDE = Number(ROUNDS_SETTING);
const ROUNDS: readonly Side[] = Array.from({ length: ROUNDS_PER_SIDE / 2 }, () => [
  'single' as const,
  'pgmaint' as const,
  'pgmaint' as const,
  'single' as const,
]).flat();

interface Round {
  readonly side: Side;
  readonly rows: number;
  readonly ms: number;
  readonly idle: WriterSamples;
  /** The same writer beside busy loops of the lowest priority, no database work (see `busyLoops`). */
  readonly busy: WriterSamples;
  readonly during: WriterSamples;
  /** pgmaint: expired rows it left for the next run (updated behind its pass), its batches and shape. */
  readonly left: number;
  readonly batches: number;
  readonly shape: string;
  readonly ruleMs: number;
}

/** One layout: the rounds, then the figures of each side over its rounds. */
async function runLayout(
  server: BenchServer,
  admin: Client,
  layout: Layout,
): Promise<{ lines: string[]; pass: boolean }> {
  const { url } = server;
  const half = Math.floor(ROWS / 2);
  const template = `bench_${layout.toLowerCase()}`;
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const rounds: Round[] = [];
  const strategy = await fileCopy(admin);
  let loaded = '';
  try {
    loaded = await withClient(urlOfDatabase(url, template), (loader) => load(loader, half, layout));
    for (const [index, side] of ROUNDS.entries()) {
      const database = `${template}_${index + 1}`;
      await admin.query(`create database ${database} template ${template}${strategy}`);
      try {
        const roundUrl = urlOfDatabase(url, database);
        const round = { url: roundUrl, logFile: server.logFile, name: `${layout}-${index + 1}` };
        rounds.push(await withClient(roundUrl, (client) => runRound(round, client, side)));
      } finally {
        await admin.query(`drop database if exists ${database} with (force)`);
      }
    }
  } finally {
    await admin.query(`drop database if exists ${template} with (force)`);
  }
  const of = (side: Side) => rounds.filter((round) => round.side === side);
  const rate = (side: Side) => {
    const mine = of(side);
    return sum(mine.map((r) => r.rows)) / (sum(mine.map((r) => r.ms)) / 1000);
  };
  const idle = statsOf(...rounds.map((r) => r.idle));
  const busy = statsOf(...rounds.map((r) => r.busy));
  const single = statsOf(...of('single').map((r) => r.during));
  const pgmaint = statsOf(...of('pgmaint').map((r) => r.during));
  const throughput = rate('pgmaint') / rate('single');
  const p99Ratio = pgmaint.p99Ms / idle.p99Ms;
  const inDatabaseRatio = pgmaint.inDatabaseP99Ms / idle.inDatabaseP99Ms;
  const exact = rounds.every((r) => r.rows + r.left === half);
  const line = (name: string, stats: WriterStats) =>
    `${name.padEnd(22)} writer p99 ${stats.p99Ms.toFixed(2)} ms (inserts ${stats.insertP99Ms.toFixed(2)}, updates of old rows ${stats.updateP99Ms.toFixed(2)}; in the database ${stats.inDatabaseP99Ms.toFixed(2)}), longest stall ${stats.maxMs.toFixed(0)} ms (${stats.ops} statements)`;
  const roundLine = (r: Round, i: number) =>
    r.side === 'single'
      ? `  round ${i + 1}, single DELETE: ${r.rows.toLocaleString('en-US')} rows in ${(r.ms / 1000).toFixed(1)} s; idle p99 before it ${statsOf(r.idle).p99Ms.toFixed(2)} ms`
      : `  round ${i + 1}, pgmaint:       ${r.rows.toLocaleString('en-US')} rows in ${(r.ms / 1000).toFixed(1)} s (${r.batches} batches; the rule ${(r.ruleMs / 1000).toFixed(1)} s, connect/checks/lock ${((r.ms - r.ruleMs) / 1000).toFixed(1)} s), ${r.left.toLocaleString('en-US')} expired left for the next run; idle p99 before it ${statsOf(r.idle).p99Ms.toFixed(2)} ms`;
  return {
    lines: [
      `  table as loaded:     ${loaded}`,
      ...rounds.map(roundLine),
      `  batch shape:         ${of('pgmaint')[0]?.shape}`,
      line('idle (no cleanup):', idle),
      line(`${availableParallelism()} busy loops, nice 19:`, busy),
      `single DELETE:         ${Math.round(rate('single')).toLocaleString('en-US')} rows/s over its rounds`,
      line('  during it:', single),
      `pgmaint retention:     ${Math.round(rate('pgmaint')).toLocaleString('en-US')} rows/s over its rounds`,
      line('  during it:', pgmaint),
      `throughput ratio:      ${throughput.toFixed(2)}× the single DELETE`,
      `writer p99 ratio:      ${p99Ratio.toFixed(2)}× idle (in the database: ${inDatabaseRatio.toFixed(2)}×)`,
      `  for scale:           ${(busy.p99Ms / idle.p99Ms).toFixed(2)}× idle beside the busy loops alone (in the database: ${(busy.inDatabaseP99Ms / idle.inDatabaseP99Ms).toFixed(2)}×)`,
      ...(exact ? [] : ['ROWS DIFFER: a round deleted (or left) other than exactly the expired half']),
    ],
    pass: exact && throughput >= 0.8 && p99Ratio <= 2 && pgmaint.maxMs <= 1000,
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The cleaned table, in each round's own database. */
const TABLE = 'notifications';

/**
 * PostgreSQL 15+ clones a database through the WAL by default, block by block through shared buffers;
 * FILE_COPY copies its files instead, as 13 and 14 always do, so a clone leaves neither WAL nor
 * buffers of its own to the round's windows.
 */
async function fileCopy(admin: Client): Promise<string> {
  const version = Number((await admin.query<{ v: string }>('show server_version_num')).rows[0]?.v ?? 0);
  return version >= 150000 ? ' strategy = file_copy' : '';
}

/**
 * One round in a fresh copy of the loaded database: an idle window of the writer (the baseline, pooled
 * over every round: one short window let a passing hiccup of this shared machine decide the ratio),
 * then the side's cleanup while the writer runs.
 */
async function runRound(round: RoundDatabase, client: Client, side: Side): Promise<Round> {
  const { url } = round;
  const idle = await withWriter(round, 'idle', client, async () => {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  });
  const busy = await withWriter(round, 'busy', client, () => busyLoops(IDLE_MS));
  if (side === 'single') {
    let rows = 0;
    let ms = 0;
    // Timed inside the writer's window: its set-up (finding the old ids it updates) is not the DELETE's.
    const during = await withWriter(round, 'during', client, async () => {
      const started = performance.now();
      rows =
        (await client.query(`delete from ${TABLE} where created_at < now() - interval '90 days'`)).rowCount ??
        0;
      ms = performance.now() - started;
    });
    return { side, rows, ms, idle, busy, during, left: 0, batches: 1, shape: '', ruleMs: ms };
  }
  const configPath = join(mkdtempSync(join(tmpdir(), 'pgmaint-bench-')), 'pgmaint.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      targets: {
        bench: {
          url,
          retention: {
            rules: [{ table: TABLE, column: 'created_at', olderThan: '90 days' }],
            // The single DELETE does not vacuum either: compare the deletes alone.
            vacuumAbove: '100%',
            pauseAfterBatch: PAUSE_SETTING,
          },
        },
      },
    }),
  );
  let result: RetentionRun | undefined;
  let ms = 0;
  const during = await withWriter(round, 'during', client, async () => {
    const started = performance.now();
    let stdout = '';
    const io = {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: (text: string) => {
        if (process.env.PGMAINT_BENCH_VERBOSE) process.stderr.write(text);
      },
      env: process.env,
      now: () => new Date(),
    };
    const verbose = process.env.PGMAINT_BENCH_VERBOSE ? ['--verbose'] : [];
    const code = await main(
      ['retention', '--config', configPath, '--target', 'bench', '--json', ...verbose],
      io,
    );
    ms = performance.now() - started;
    if (code !== 0) throw new Error(`pgmaint retention exited ${code}: ${stdout}`);
    result = JSON.parse(stdout) as RetentionRun;
  });
  rmSync(dirname(configPath), { recursive: true, force: true });
  // Rows the writer updated while pgmaint ran can move behind its page-range pass: the next run's.
  const left = Number(
    (
      await client.query<{ n: string }>(
        `select count(*) as n from ${TABLE} where created_at < now() - interval '90 days'`,
      )
    ).rows[0]?.n ?? 0,
  );
  const rule = result?.rules[0];
  return {
    side,
    rows: result?.totalRowsDeleted ?? 0,
    ms,
    idle,
    busy,
    during,
    left,
    batches: rule?.batches ?? 0,
    shape: `${rule?.batchShape} (${rule?.batchShapeReason})`,
    ruleMs: rule?.durationMs ?? 0,
  };
}

/**
 * Half the rows 91–191 days old, half younger than 90 days, laid out as `layout` says; indexed on
 * created_at and vacuumed (so the planner's statistics describe the layout). Autovacuum is off for
 * the table, so neither cleanup shares the machine with a VACUUM of the other's dead rows (the
 * single DELETE's table was being vacuumed while pgmaint ran): the deletes alone are compared.
 */
async function load(admin: Client, half: number, layout: Layout): Promise<string> {
  // The bench's server commits asynchronously; VACUUM cannot mark a row visible to all before its
  // commit is on disk, so a VACUUM straight after the load left every page not all-visible and every
  // row unhinted, which a table that has lived in production is not (and each cleanup's first read of
  // a page then wrote it again to set the hints). Committing the load synchronously lets VACUUM set them.
  await admin.query('set synchronous_commit = on');
  await admin.query(`
    create table ${TABLE} (
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
    `insert into ${TABLE} (user_id, body, created_at)
     select i % 100000, 'notice ' || i,
            case when k <= $1 then now() - interval '191 days' + (k::float8 / $1) * interval '100 days'
                 else now() - interval '89 days' + ((k - $1)::float8 / $1) * interval '89 days' end
     from generate_series(1, 2 * $1::int) i, lateral (select ${k} as k) t`,
    [half],
  );
  await admin.query(`create index ${TABLE}_created_at_idx on ${TABLE} (created_at)`);
  if (layout === 'scattered') {
    await admin.query(`vacuum ${TABLE}`);
    await admin.query(`update ${TABLE} set user_id = user_id + 1 where id % 10 = 0`);
  }
  await admin.query(`vacuum analyze ${TABLE}`);
  await admin.query('reset synchronous_commit');
  const pages = (
    await admin.query<{ pages: number; visible: number }>(
      `select relpages as pages, relallvisible as visible from pg_class where relname = $1`,
      [TABLE],
    )
  ).rows[0];
  const share = pages && pages.pages > 0 ? (100 * pages.visible) / pages.pages : 0;
  return `${pages?.pages.toLocaleString('en-US')} pages, ${share.toFixed(0)}% of them all-visible`;
}

/**
 * Keeps every core busy for `ms` with loops of the lowest CPU priority (nice 19) that touch no database:
 * what the writer's p99 becomes on this machine when nothing else is idle, however little the other work
 * matters to the scheduler. On a 2-core virtual machine, two such loops (no database work at all)
 * raised it about as much as pgmaint's cleanup did, or more (4.1-4.7× idle, pgmaint 2.2-4.6×): the
 * writer's slowest statements waited for a free core, outside the server. Printed for scale beside the
 * verdict, which it does not change.
 */
async function busyLoops(ms: number): Promise<void> {
  const loops = Array.from({ length: availableParallelism() }, () =>
    // Each ends by itself soon after the window, should this process die before it can kill them.
    spawn(process.execPath, ['-e', `const end = Date.now() + ${ms + 2_000}; while (Date.now() < end) {}`], {
      stdio: 'ignore',
    }),
  );
  try {
    for (const loop of loops) if (loop.pid !== undefined) setPriority(loop.pid, 19);
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    for (const loop of loops) loop.kill('SIGKILL');
  }
}

/** Waits until the kernel has written every dirty page to disk (sync(2), through coreutils' `sync`). */
function flushOsWrites(): void {
  const result = spawnSync('sync', { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`sync failed: ${result.error?.message ?? `exit ${result.status}`}`);
}

/** The bench's server: where rounds connect, and the log its writer sessions' statement durations go to. */
interface BenchServer {
  readonly url: string;
  readonly logFile: string;
}

/** One round's database, and the name that tells its writer windows apart in the server's log. */
interface RoundDatabase extends BenchServer {
  readonly name: string;
}

/** Runs `work` while a paced writer inserts and marks random old notifications read; returns its latencies. */
async function withWriter(
  round: RoundDatabase,
  phase: 'idle' | 'busy' | 'during',
  admin: Client,
  work: () => Promise<void>,
): Promise<WriterSamples> {
  const { url } = round;
  const range = (
    await admin.query<{ lo: string; hi: string }>(
      `select min(id)::text as lo, max(id)::text as hi from ${TABLE} where created_at < now() - interval '90 days'`,
    )
  ).rows[0];
  const lo = Number(range?.lo ?? 1);
  const hi = Number(range?.hi ?? 1);
  // Every window starts from the same state: no checkpoint of what came before (the load, the other
  // cleanup, whose WAL asked for one) still writing its buffers out during it, and no write-back of
  // them by the kernel either: the bench's server runs with fsync off, so CHECKPOINT only hands its
  // pages to the OS, which writes them out 30 s later (dirty_expire_centisecs), in the middle of the
  // next windows. `sync` waits until they are on disk.
  await admin.query('checkpoint');
  flushOsWrites();
  const name = `writer-${round.name}-${phase}`;
  const logStart = statSync(round.logFile).size;
  const writer = startWriter({ url, name, table: TABLE, lo, hi, intervalMs: WRITER_INTERVAL_MS });
  await writer.ready;
  try {
    await work();
  } finally {
    writer.stop();
  }
  const samples = await writer.samples;
  return { ...samples, inDatabase: loggedDurations(round.logFile, logStart, name) };
}

/**
 * The durations the server logged for the writer session named `name` (log_line_prefix '%a ',
 * log_min_duration_statement = 0): each statement's time from its arrival to its commit, without
 * the trip to and from the writer and the waits for a CPU at either end. The writer's session ended
 * before this reads them, so every one is there; they come after `from`, the log's size when its
 * window began (the whole log, read after each of a run's windows, grows to megabytes).
 */
function loggedDurations(logFile: string, from: number, name: string): number[] {
  const prefix = `${name} LOG:  duration: `;
  return appendedSince(logFile, from)
    .split('\n')
    .filter((line) => line.startsWith(prefix) && line.includes(' ms  statement: '))
    .map((line) => Number.parseFloat(line.slice(prefix.length)));
}

/** What was written to `path` after its first `from` bytes. */
function appendedSince(path: string, from: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.max(0, fstatSync(fd).size - from));
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
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
const { url, name, table, lo, hi, intervalMs } = workerData;
(async () => {
  // The server logs each statement's duration for this session, under its name (the bench's user is a superuser).
  const writer = new Client({ connectionString: url, application_name: name, options: '-c log_min_duration_statement=0' });
  await writer.connect();
  const inserts = [];
  const updates = [];
  let running = true;
  // once: a listener left on the port would keep this thread, and the bench with it, alive after its last window.
  parentPort.once('message', () => { running = false; });
  parentPort.postMessage({ ready: true });
  for (let n = 0; running; n++) {
    const started = performance.now();
    if (n % 2 === 0) {
      // Whole statements, no parameters (n and id are integers this loop makes): a statement sent
      // with parameters commits at the protocol's Sync, after the server has logged its duration,
      // and the commit is where the writer waits when anything does.
      await writer.query('insert into ' + table + " (user_id, body, created_at) values (" + n + ", 'new', now())");
    } else {
      const id = lo + Math.floor(Math.random() * (hi - lo + 1));
      await writer.query('update ' + table + ' set is_read = true where id = ' + id);
    }
    const elapsed = performance.now() - started;
    (n % 2 === 0 ? inserts : updates).push(elapsed);
    if (elapsed < intervalMs) await new Promise((resolve) => setTimeout(resolve, intervalMs - elapsed));
  }
  await writer.end();
  parentPort.postMessage({ inserts, updates });
})();
`;

function startWriter(options: {
  url: string;
  name: string;
  table: string;
  lo: number;
  hi: number;
  intervalMs: number;
}): {
  ready: Promise<void>;
  samples: Promise<ClientSamples>;
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
  const samples = new Promise<ClientSamples>((resolve, reject) => {
    worker.on('message', (message: { ready?: true } & Partial<ClientSamples>) => {
      if (message.ready) onReady();
      else if (message.inserts && message.updates) {
        resolve({ inserts: message.inserts, updates: message.updates });
        void worker.terminate();
      }
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

/** Statement latencies of one writer window as the writer saw them, in milliseconds. */
interface ClientSamples {
  readonly inserts: readonly number[];
  readonly updates: readonly number[];
}

/** …and the same statements' durations as the server logged them. */
interface WriterSamples extends ClientSamples {
  readonly inDatabase: readonly number[];
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
    inDatabaseP99Ms: p99(windows.flatMap((w) => w.inDatabase)),
  };
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}
