import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DemoStep } from '../demo-context';

/**
 * timescaledb: when the server has TimescaleDB preloaded, a market_data hypertable (the trading
 * seed's, 30-day chunks over two years) whose chunks past 90 days retention drops whole, and the
 * TimescaleDB health checks. Without TimescaleDB the step says so and does nothing.
 */
export const timescaledbStep: DemoStep = {
  title: 'timescaledb: a hypertable whose old chunks retention drops whole',
  async run(demo) {
    const [server] = await demo.sql(
      `select exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
              'timescaledb' = any(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) as preloaded`,
    );
    if (!server?.available || !server.preloaded) {
      demo.say(
        `  TimescaleDB is not ${server?.available ? "in this server's shared_preload_libraries" : 'installed on this server'}: no hypertable in this demo.`,
      );
      demo.say(
        '  (On a server with TimescaleDB, retention rules with "hypertable": true drop whole chunks; `npm run timescaledb` builds one for the tests.)',
      );
      return;
    }
    await demo.sql('create extension if not exists timescaledb');
    await demo.sql(`
      create table market_data (
        symbol text not null, timeframe text not null, "timestamp" timestamptz not null,
        open numeric(18, 5), high numeric(18, 5), low numeric(18, 5), close numeric(18, 5), volume bigint,
        primary key (symbol, timeframe, "timestamp"));
      select create_hypertable('market_data', by_range('timestamp', interval '30 days'));
      insert into market_data
      select s, 'H1', now() - g * interval '1 hour', 1.1, 1.2, 1.0, 1.15, g
        from generate_series(0, 2 * 365 * 24) g, unnest(array['EURUSD', 'GBPUSD']) s`);
    const chunks = async () =>
      Number(
        (
          await demo.sql(
            "select count(*)::int as n from timescaledb_information.chunks where hypertable_name = 'market_data'",
          )
        )[0]?.n,
      );
    const before = await chunks();
    const target = demo.config.targets.demo;
    const configPath = join(dirname(demo.configPath), 'pgmaint-timescaledb.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        backupBucket: demo.config.backupBucket,
        targets: {
          demo: {
            url: target?.url ?? demo.databaseUrl,
            retention: { rules: [{ table: 'market_data', hypertable: true, olderThan: '90 days' }] },
          },
        },
      }),
    );
    await demo.cli(['retention', '--config', configPath, '--target', 'demo', '--dry-run']);
    if ((await chunks()) !== before) throw new Error('the dry run dropped chunks');
    await demo.cli(['retention', '--config', configPath, '--target', 'demo']);
    const after = await chunks();
    demo.say(`\n  market_data chunks ${before} → ${after}`);
    const [left] = await demo.sql(
      `select bool_and(range_end > now() - interval '90 days') as none_expired
         from timescaledb_information.chunks where hypertable_name = 'market_data'`,
    );
    if (after >= before || !left?.none_expired) throw new Error('expired chunks are left');
    // The Apache-licensed build's own job-history job fails (a TSL feature): timescaledb_jobs warns.
    await demo.cli(['health', '--config', configPath, '--target', 'demo'], { expectExit: [0, 1, 2] });
  },
};
