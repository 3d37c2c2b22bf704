import { formatBytes } from '../../../functions/shared/units';
import type { DemoStep } from '../demo-context';

/**
 * reindex: bloat the orders indexes the way a bulk import followed by a purge does, then let
 * pgmaint find them (dry run) and rebuild them without blocking writes.
 */
export const reindexStep: DemoStep = {
  title: 'reindex: rebuild bloated indexes with REINDEX CONCURRENTLY',
  async run(demo) {
    const indexSize = async () =>
      Number((await demo.sql("select pg_relation_size('orders_user_id_idx') as size"))[0]?.size);
    demo.say('Bloating orders: 180,000 orders imported, then purged, then vacuumed ...');
    await demo.sql(
      `insert into orders (user_id, symbol, quantity, status, created_at)
       select 1 + i % 2000, 'EURUSD', 1, 'imported', now() from generate_series(1, 180000) i`,
    );
    await demo.sql("delete from orders where status = 'imported'");
    await demo.sql('vacuum analyze orders');
    const before = await indexSize();
    demo.say(`orders_user_id_idx is now ${formatBytes(before)} for 20,000 rows.`);

    await demo.cli(['reindex', '--config', demo.configPath, '--target', 'demo', '--dry-run']);
    await demo.cli(['reindex', '--config', demo.configPath, '--target', 'demo']);

    const after = await indexSize();
    demo.say(`orders_user_id_idx: ${formatBytes(before)} → ${formatBytes(after)}`);
    if (after >= before / 2)
      throw new Error(`orders_user_id_idx did not shrink (${before} → ${after} bytes)`);
  },
};
