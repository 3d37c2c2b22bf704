import type { DemoStep } from '../demo-context';

export const restoreStep: DemoStep = {
  title: 'restore: the latest backup into a new database, row counts checked; then a drill',
  async run(demo) {
    const { stdout } = await demo.cli([
      'restore',
      '--config',
      demo.configPath,
      '--target',
      'demo',
      '--into',
      'shop_restored',
      '--json',
    ]);
    const result = JSON.parse(stdout) as { database: string; tables: number; rows: number };
    demo.say(
      `Restored ${result.rows} rows in ${result.tables} tables into "${result.database}"; every count equals ` +
        'the exact count the backup took in its own snapshot. The live "shop" was not touched.',
    );
    await demo.sql(`drop database ${result.database}`);
    await demo.cli(['restore', '--config', demo.configPath, '--target', 'demo', '--drill']);
  },
};
