import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import { startLocalPostgres } from '../helpers/local-postgres';
import { type Benchmark, medianMs } from './bench-context';

/**
 * The foundation's benchmark: a full `pgmaint health` run (config → connect → check → result)
 * against the baseline a cron script pays, one psql-style connect + `select 1` with pg.
 */
export const healthConnectionBench: Benchmark = {
  name: 'health (connection check) vs a bare connect + select 1',
  target: 'overhead ≤ 3× a bare connect + query',
  async run() {
    const server = await startLocalPostgres();
    try {
      const { writeFileSync, mkdtempSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const configPath = join(mkdtempSync(join(tmpdir(), 'pgmaint-bench-')), 'pgmaint.json');
      writeFileSync(configPath, JSON.stringify({ targets: { bench: { url: server.url } } }));
      const io = { stdout: () => {}, stderr: () => {}, env: process.env, now: () => new Date() };
      const baseline = await medianMs(21, async () => {
        const client = new Client({ connectionString: server.url });
        await client.connect();
        await client.query('select 1');
        await client.end();
      });
      const pgmaint = await medianMs(21, async () => {
        const code = await main(['health', '--config', configPath, '--target', 'bench', '--json'], io);
        if (code !== 0) throw new Error(`health exited ${code}`);
      });
      const ratio = pgmaint / baseline;
      return {
        lines: [
          `bare connect + select 1: ${baseline.toFixed(1)} ms (median of 21)`,
          `pgmaint health:          ${pgmaint.toFixed(1)} ms (median of 21)`,
          `ratio:                   ${ratio.toFixed(2)}×`,
        ],
        pass: ratio <= 3,
      };
    } finally {
      await server.stop();
    }
  },
};
