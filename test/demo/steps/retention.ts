import type { DemoStep } from '../demo-context';

const TABLES = ['audit_logs', 'system_logs', 'notifications', 'user_sessions', 'trades'] as const;

/**
 * retention: the seeds' policies (audit logs 90 days, INFO/DEBUG logs 30 days, WARN/ERROR 180 days,
 * read notifications 60 days, expired sessions, trades partitions 90 days with 3 premade), first as
 * a dry run, then for real, with the row and partition counts before and after.
 */
export const retentionStep: DemoStep = {
  title: 'retention: delete expired rows in lock-safe batches, drop expired partitions',
  async run(demo) {
    const counts = async () => {
      const result: Record<string, number> = {};
      for (const table of TABLES)
        result[table] = Number((await demo.sql(`select count(*)::int as n from ${table}`))[0]?.n);
      const partitions = await demo.sql(
        "select count(*)::int as n from pg_inherits where inhparent = 'trades'::regclass",
      );
      result['trades partitions'] = Number(partitions[0]?.n);
      return result;
    };
    const before = await counts();
    await demo.cli(['retention', '--config', demo.configPath, '--target', 'demo', '--dry-run']);
    const afterDryRun = await counts();
    if (JSON.stringify(afterDryRun) !== JSON.stringify(before))
      throw new Error('the dry run changed the data');

    const run = await demo.cli(['retention', '--config', demo.configPath, '--target', 'demo']);
    const after = await counts();
    demo.say('');
    for (const [name, count] of Object.entries(before))
      demo.say(`  ${name.padEnd(18)} ${String(count).padStart(7)} → ${String(after[name]).padStart(7)}`);

    const unreadKept = await demo.sql(
      "select count(*)::int as n from notifications where not is_read and created_at < now() - 60 * interval '24 hours'",
    );
    demo.say(`  unread notifications older than 60 days kept: ${unreadKept[0]?.n}`);
    if (!run.stdout.startsWith('demo: complete'))
      throw new Error(`retention did not complete: ${run.stdout}`);
    // olderThan days are 24 hours: `interval '90 days'` would be an hour off across a clock change.
    const expired = await demo.sql(
      "select count(*)::int as n from audit_logs where created_at < now() - 90 * interval '24 hours'",
    );
    if (Number(expired[0]?.n) !== 0) throw new Error('audit logs older than 90 days are left');
  },
};
