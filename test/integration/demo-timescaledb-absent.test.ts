import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../functions/shared/config/load';
import type { DemoContext } from '../demo/demo-context';
import { timescaledbStep } from '../demo/steps/timescaledb';
import { writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('demo_no_tsdb');
});
afterAll(async () => db?.drop());

/** The demo on a server without TimescaleDB (the test server has none): it says so and makes nothing. */
it('the demo says TimescaleDB is not installed, makes no hypertable and runs no command', async () => {
  const config = { targets: { demo: { url: db.url } } };
  const said: string[] = [];
  const context: DemoContext = {
    configPath: writeConfig(config),
    config: parseConfig(config),
    databaseUrl: db.url,
    cli: async (args) => {
      throw new Error(`the step ran pgmaint ${args.join(' ')}`);
    },
    sql: async (text, values) => db.sql(text, values),
    say: (line) => said.push(line),
  };
  await timescaledbStep.run(context);
  expect(said[0]).toBe('  TimescaleDB is not installed on this server: no hypertable in this demo.');
  const tables = await db.sql("select 1 from pg_class where relname = 'market_data'");
  expect(tables).toEqual([]);
});
