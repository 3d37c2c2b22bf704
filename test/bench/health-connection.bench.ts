import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import { startLocalPostgres } from '../helpers/local-postgres';
import { type Benchmark, medianMs } from './bench-context';
import {
  checkPostgresPath,
  checkPostgresTarget,
  describeTimes,
  machineLoad,
  sharedInstalledCli,
  timeProcess,
} from './health-process';

/** A whole `pgmaint health --check connection` process, as one Nagios service starts it. */
const PROCESS_TARGET_MS = 150;
const PROCESSES = 21;

/**
 * The foundation's benchmark: a `pgmaint health --check connection` run (config → connect → check → result)
 * against the baseline a cron script pays, one psql-style connect + `select 1` with pg; then
 * `pgmaint health --check connection` as whole processes of the compiled CLI, beside check_postgres.
 */
export const healthConnectionBench: Benchmark = {
  name: 'health (connection check) vs a bare connect + select 1, in-process and as a process',
  target: `in-process overhead ≤ 3× a bare connect + query; a whole --check connection process ≤ ${PROCESS_TARGET_MS} ms`,
  async run() {
    const server = await startLocalPostgres();
    const dir = mkdtempSync(join(tmpdir(), 'pgmaint-bench-'));
    try {
      const configPath = join(dir, 'pgmaint.json');
      writeFileSync(configPath, JSON.stringify({ targets: { bench: { url: server.url } } }));
      const io = { stdout: () => {}, stderr: () => {}, env: process.env, now: () => new Date() };
      const baseline = await medianMs(21, async () => {
        const client = new Client({ connectionString: server.url });
        await client.connect();
        await client.query('select 1');
        await client.end();
      });
      const pgmaint = await medianMs(21, async () => {
        const code = await main(
          ['health', '--config', configPath, '--target', 'bench', '--check', 'connection', '--json'],
          io,
        );
        if (code !== 0) throw new Error(`health exited ${code}`);
      });
      const ratio = pgmaint / baseline;

      const cli = await sharedInstalledCli();
      const args = ['health', '--config', configPath, '--target', 'bench', '--check', 'connection'];
      const nodeStart = await timeProcess(process.execPath, ['-e', '0'], PROCESSES, { cpu: true });
      const compiled = await timeProcess(cli.bin, args, PROCESSES, { cwd: cli.dir, cpu: true });
      const npx = await timeProcess('npx', ['pgmaint', ...args], 1, { cwd: cli.dir });
      const checkPostgres = checkPostgresPath();
      const lines = [
        'in-process (main() in this process, modules already loaded):',
        `  bare connect + select 1: ${baseline.toFixed(1)} ms (median of 21)`,
        `  pgmaint health --check connection: ${pgmaint.toFixed(1)} ms (median of 21)`,
        `  ratio:                   ${ratio.toFixed(2)}×`,
        `whole processes, the compiled CLI as installed from the packed package (Node ${process.version}):`,
        `  ${describeTimes('node -e 0 (Node starting and exiting):', nodeStart)}`,
        `  ${describeTimes('pgmaint health --check connection:', compiled, PROCESS_TARGET_MS)}`,
        `  ${describeTimes('npx pgmaint health --check connection:', npx)} (for reference)`,
      ];
      if (checkPostgres) {
        const target = checkPostgresTarget(server.url);
        const theirs = await timeProcess(checkPostgres, ['--action=connection', ...target.args], PROCESSES, {
          env: target.env,
        });
        lines.push(
          `  ${describeTimes(`${checkPostgres} --action=connection:`, theirs)}; pgmaint ${(compiled.medianMs / theirs.medianMs).toFixed(2)}× that`,
        );
      } else {
        lines.push('  check_postgres is not installed (apt-get install check-postgres): no comparison');
      }
      lines.push(machineLoad());
      return { lines, pass: ratio <= 3 && compiled.medianMs <= PROCESS_TARGET_MS };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.stop();
    }
  },
};
