import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  schema: string;
  table: string;
  trigger: string;
  total: number;
}

/**
 * `disabled_triggers`: triggers someone disabled (for a bulk load, a migration) and never enabled
 * again; the audit rows, denormalised counters or checks they maintain silently stop.
 */
export const disabledTriggersCheck: HealthCheck = {
  name: 'disabled_triggers',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: null },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/disabled_triggers'));
    const total = rows[0]?.total ?? 0;
    return {
      value: total,
      message:
        total === 0
          ? 'no disabled trigger'
          : `${total} disabled trigger(s): ${rows
              .slice(0, 5)
              .map((r) => `${r.trigger} on ${r.schema}.${r.table}`)
              .join(', ')}`,
      details: { triggers: rows.map(({ total: _, ...row }) => row) },
      recommendation:
        'If the trigger should run, ALTER TABLE <table> ENABLE TRIGGER <trigger> (and repair what it missed); if it is obsolete, DROP TRIGGER it so nobody wonders.',
    };
  },
};
