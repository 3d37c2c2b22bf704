import { writeFileSync } from 'node:fs';
import { Client } from 'pg';
import type { DemoContext, DemoStep } from '../demo-context';

/**
 * health: the full table on the demo database, then alerting on change. An application leaves
 * a transaction open; with the threshold lowered to one second, the first run alerts, the next
 * one stays quiet (nothing changed), and the run after the session commits says it recovered.
 * Without an SNS topic the CLI prints alerts on stderr (the │ lines).
 */
export const healthStep: DemoStep = {
  title: 'health: the checks a DBA runs, alerting only on change',
  async run(demo) {
    await demo.cli(['health', '--config', demo.configPath, '--target', 'demo'], { expectExit: [0, 1, 2] });

    const strictConfig = demo.configPath.replace(/\.json$/, '.health-demo.json');
    const demoTarget = demo.config.targets.demo;
    const health = demoTarget?.health ?? { thresholds: {} };
    writeFileSync(
      strictConfig,
      JSON.stringify({
        ...demo.config,
        targets: {
          demo: {
            ...demoTarget,
            health: {
              ...health,
              thresholds: { ...health.thresholds, idle_in_transaction: { warning: '1 second' } },
            },
          },
        },
      }),
    );
    const run = () =>
      demo.cli(['health', '--config', strictConfig, '--target', 'demo'], { expectExit: [0, 1, 2] });
    const statusOf = (out: { stdout: string }) => /^(\w+)\s+idle_in_transaction\s/m.exec(out.stdout)?.[1];

    demo.say(
      '\nAn application opens a transaction and goes quiet (idle_in_transaction warning lowered to 1 second) ...',
    );
    const app = new Client({ connectionString: demo.databaseUrl, application_name: 'demo-app' });
    await app.connect();
    try {
      await app.query('begin');
      await app.query('select count(*) from orders');
      await waitForIdleTransaction(demo, 1.2);
      const warned = await run();
      if (statusOf(warned) !== 'warning') throw new Error('idle_in_transaction did not warn');
      if (!warned.stderr.includes('idle_in_transaction: ok -> warning'))
        throw new Error('no alert for the change to warning');
      demo.say('\nSame state on the next run: no alert.');
      const unchanged = await run();
      if (unchanged.stderr.includes('ALERT')) throw new Error('alerted although nothing changed');
      await app.query('commit');
    } finally {
      await app.end();
    }
    demo.say('\nThe session committed: one recovery alert.');
    const recovered = await run();
    if (!recovered.stderr.includes('idle_in_transaction: warning -> ok'))
      throw new Error('no recovery alert');
  },
};

async function waitForIdleTransaction(demo: DemoContext, seconds: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await demo.sql(
      "select 1 from pg_stat_activity where application_name = 'demo-app' and state = 'idle in transaction' and clock_timestamp() - state_change > make_interval(secs => $1)",
      [seconds],
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('the demo session never showed as idle in transaction');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
