import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { main } from '../../functions/cli/main';
import { quietSdkNodeVersionWarning } from '../../functions/cli/quiet-warnings';
import { parseConfig } from '../../functions/shared/config/load';
import { embeddedServerBindir, type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';
import type { DemoContext } from './demo-context';
import { DEMO_STEPS } from './steps';

/**
 * `npm run demo`: every job, for real, on an embedded PostgreSQL 15 (matching the local pg_dump)
 * and a local folder as the backup store. No AWS account, no Docker; everything is removed after.
 */
async function runDemo(): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'pgmaint-demo-'));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  let failures = 0;
  let server: LocalPostgres | undefined;
  try {
    say('Starting an embedded PostgreSQL ...');
    // The test harness's cluster: as root it runs as the postgres user, from a copy of the
    // binaries when this checkout sits where that user cannot reach them.
    server = await startLocalPostgres({ bindir: embeddedServerBindir() });
    say(`  PostgreSQL on port ${server.port}`);
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database shop').finally(() => admin.end());
    const databaseUrl = server.url.replace(/\/postgres$/, '/shop');
    const sql = async (text: string, values?: unknown[]) => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
      } finally {
        await client.end();
      }
    };
    say(
      'Seeding a sample database "shop" shaped like our users\' (users, sessions, logs, notifications, orders, trades) ...',
    );
    await sql(await readFile(join(__dirname, 'seed.sql'), 'utf8'));

    const rawConfig = {
      backupBucket: pathToFileURL(join(workDir, 'backups')).toString(),
      targets: {
        demo: {
          url: databaseUrl,
          timezone: 'Europe/London',
          backup: { schedule: 'cron(0 2 * * ? *)', retentionDays: 30 },
          retention: {
            schedule: 'cron(15 2 * * ? *)',
            rules: [
              { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
              {
                table: 'system_logs',
                column: 'created_at',
                olderThan: '30 days',
                where: { level: ['INFO', 'DEBUG'] },
              },
              {
                table: 'system_logs',
                column: 'created_at',
                olderThan: '180 days',
                where: { level: ['WARN', 'ERROR'] },
              },
              {
                table: 'notifications',
                column: 'created_at',
                olderThan: '60 days',
                where: { is_read: true },
              },
              { table: 'user_sessions', column: 'expires_at', olderThan: '0 days' },
              { table: 'trades', partitions: true, olderThan: '90 days', premake: 3 },
            ],
          },
          reindex: { schedule: 'cron(0 4 ? * SUN#1 *)', minSize: '1 MB' },
          health: { schedule: 'rate(15 minutes)' },
          restore: { drill: { schedule: 'cron(0 5 ? * SAT *)', rto: '5 minutes' } },
        },
      },
    };
    const configPath = join(workDir, 'pgmaint.json');
    writeFileSync(configPath, JSON.stringify(rawConfig, null, 2));
    const config = parseConfig(rawConfig);

    const cli: DemoContext['cli'] = async (args, options = {}) => {
      let stdout = '';
      let stderr = '';
      say(`\n$ pgmaint ${args.join(' ')}`);
      const code = await main(args, {
        stdout: (text) => {
          stdout += text;
          process.stdout.write(text.replace(/^/gm, '  '));
        },
        stderr: (text) => {
          stderr += text;
          process.stdout.write(text.replace(/^/gm, '  │ '));
        },
        env: process.env,
        now: () => new Date(),
      });
      const allowed = options.expectExit ?? [0];
      if (!allowed.includes(code))
        throw new Error(`pgmaint ${args[0]} exited ${code} (expected ${allowed.join(' or ')})`);
      return { code, stdout, stderr };
    };
    const context: DemoContext = { configPath, config, databaseUrl, cli, sql, say };

    await cli(['validate', '--config', configPath]);
    for (const step of DEMO_STEPS) {
      say(`\n=== ${step.title} ===`);
      try {
        await step.run(context);
      } catch (error) {
        failures++;
        say(`DEMO STEP FAILED: ${(error as Error).message}`);
      }
    }
  } finally {
    await server?.stop().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  }
  say(
    `\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${DEMO_STEPS.length - failures}/${DEMO_STEPS.length} steps passed; everything it created is removed.`,
  );
  return failures > 0 ? 1 : 0;
}

quietSdkNodeVersionWarning();
runDemo().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  },
);
