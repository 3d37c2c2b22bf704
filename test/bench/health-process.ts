import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * `pgmaint health` as Nagios runs it: a whole process, started cold each time. Measured on the
 * compiled CLI as users install it (the packed tarball, npm install), not the checkout's
 * bin/pgmaint.js, which compiles TypeScript through tsx on every start.
 */

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

export interface InstalledCli {
  /** node_modules/.bin/pgmaint of a fresh project with the package installed. */
  readonly bin: string;
  /** That project's directory: `npx pgmaint` there runs the installed package. */
  readonly dir: string;
  remove(): void;
}

/** npm pack (which builds dist/) and npm install of the tarball into a fresh project. */
export async function installPackedCli(): Promise<InstalledCli> {
  const dir = mkdtempSync(join(tmpdir(), 'pgmaint-bench-cli-'));
  const env = { ...process.env, npm_config_update_notifier: 'false' };
  const options = { env, maxBuffer: 16 * 1024 * 1024 };
  const packed = await run('npm', ['pack', '--pack-destination', dir, '--silent'], { ...options, cwd: ROOT });
  const tarball = join(dir, packed.stdout.trim().split('\n').pop() ?? '');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    ...options,
    cwd: dir,
  });
  const bin = join(dir, 'node_modules', '.bin', 'pgmaint');
  if (!existsSync(bin)) throw new Error(`npm install of ${tarball} left no ${bin}`);
  return { bin, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ProcessTimes {
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  /** The process's own CPU (user + system), median: what a loaded machine does not inflate as much. */
  readonly cpuMedianMs?: number;
}

/** The CPU a process used, written as it exits by a one-line preload (well under a millisecond). */
const CPU_PRELOAD = `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeFileSync(process.env.PGMAINT_BENCH_CPU_FILE, String((u.user + u.system) / 1000)); });`;

/**
 * Starts `command args` `runs` times one after another, each to its exit, and times it from spawn
 * to exit. `ok` says which exit codes count (Nagios codes 0-2 are answers, not failures).
 */
export async function timeProcess(
  command: string,
  args: readonly string[],
  runs: number,
  options: {
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly cpu?: boolean;
    readonly ok?: readonly number[];
  } = {},
): Promise<ProcessTimes> {
  const scratch = mkdtempSync(join(tmpdir(), 'pgmaint-bench-cpu-'));
  const preload = join(scratch, 'cpu.cjs');
  writeFileSync(preload, CPU_PRELOAD);
  const cpuFile = join(scratch, 'cpu.txt');
  const base = { ...process.env, ...options.env };
  const env = options.cpu
    ? {
        ...base,
        NODE_OPTIONS: `${base.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
        PGMAINT_BENCH_CPU_FILE: cpuFile,
      }
    : base;
  const wall: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const { code, stderr } = await exitOf(command, args, { cwd: options.cwd, env });
      wall.push(performance.now() - started);
      if (!(options.ok ?? [0]).includes(code ?? -1))
        throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').pop()}`);
      if (options.cpu) cpu.push(Number(readFileSync(cpuFile, 'utf8')));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    runs,
    medianMs: quantile(wall, 0.5),
    p90Ms: quantile(wall, 0.9),
    ...(options.cpu ? { cpuMedianMs: quantile(cpu, 0.5) } : {}),
  };
}

function exitOf(
  command: string,
  args: readonly string[],
  options: { cwd?: string | undefined; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Nearest-rank quantile. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export function describeTimes(label: string, times: ProcessTimes, targetMs?: number): string {
  const cpu = times.cpuMedianMs === undefined ? '' : `, CPU ${times.cpuMedianMs.toFixed(0)} ms`;
  const ratio =
    targetMs === undefined ? '' : `; ${(times.medianMs / targetMs).toFixed(2)}× the ${targetMs} ms target`;
  return `${label} median ${times.medianMs.toFixed(0)} ms, p90 ${times.p90Ms.toFixed(0)} ms (${times.runs} processes${cpu})${ratio}`;
}

/** check_postgres (Debian's check-postgres package, or the upstream script), if this machine has it. */
export function checkPostgresPath(): string | undefined {
  return ['/usr/bin/check_postgres.pl', '/usr/bin/check_postgres'].find((path) => existsSync(path));
}

/** check_postgres's connection options and password for a postgres:// URL. */
export function checkPostgresTarget(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  return {
    args: [
      `--host=${parsed.hostname}`,
      `--port=${parsed.port || '5432'}`,
      `--dbuser=${decodeURIComponent(parsed.username) || 'postgres'}`,
      `--dbname=${parsed.pathname.replace(/^\//, '') || 'postgres'}`,
    ],
    env: { PGPASSWORD: decodeURIComponent(parsed.password) },
  };
}

/** How busy the machine was: the benches share two cores with other work. */
export function machineLoad(): string {
  const [one, five] = loadavg();
  return `machine load average ${one?.toFixed(1)} (1 min), ${five?.toFixed(1)} (5 min), shared`;
}

let installed: Promise<InstalledCli> | undefined;

/** One install per bench run, shared by the health benches, removed as the process exits. */
export function sharedInstalledCli(): Promise<InstalledCli> {
  installed ??= installPackedCli().then((cli) => {
    process.on('exit', () => cli.remove());
    return cli;
  });
  return installed;
}

/**
 * The check_postgres actions that cover what `pgmaint health` checks on one database, each one
 * process as a Nagios host runs them, with the thresholds an action refuses to run without.
 */
export const CHECK_POSTGRES_SUITE: readonly (readonly string[])[] = [
  ['--action=connection'],
  ['--action=backends'],
  ['--action=txn_idle', '--warning=5 minutes', '--critical=30 minutes'],
  ['--action=txn_time', '--warning=5 minutes', '--critical=30 minutes'],
  ['--action=query_time', '--warning=5 minutes', '--critical=30 minutes'],
  ['--action=locks'],
  ['--action=database_size', '--warning=5GB', '--critical=10GB'],
  ['--action=bloat'],
  ['--action=autovac_freeze'],
  ['--action=last_vacuum'],
  ['--action=last_analyze'],
  ['--action=sequence'],
  ['--action=wal_files'],
  ['--action=txn_wraparound'],
  ['--action=disabled_triggers'],
  ['--action=commitratio'],
  ['--action=hitratio'],
  ['--action=prepared_txns'],
];
