import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';

/** Fewer dead rows than this is noise whatever the ratio. */
export const DEAD_TUPLES_FLOOR = 1000;

interface Row {
  schema: string;
  table: string;
  live: number;
  dead: number;
  deadPercent: number;
  lastVacuum: Date | null;
  total: number;
}

/** `dead_tuples`: tables full of dead rows that vacuum has not visited for a day. */
export const deadTuplesCheck: HealthCheck = {
  name: 'dead_tuples',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '20%', critical: '100%' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/dead_tuples'), [DEAD_TUPLES_FLOOR]);
    const worst = rows[0];
    if (!worst)
      return {
        value: 0,
        message: `no table with ${DEAD_TUPLES_FLOOR}+ dead rows left unvacuumed for a day`,
        recommendation: '',
      };
    return {
      value: round(worst.deadPercent),
      message: `${worst.schema}.${worst.table} has ${worst.dead} dead rows for ${worst.live} live (${round(worst.deadPercent)}%), not vacuumed for a day`,
      details: {
        tables: worst.total,
        top: rows.map(({ total: _, ...row }) => ({
          ...row,
          deadPercent: round(row.deadPercent),
          lastVacuum: row.lastVacuum?.toISOString() ?? null,
        })),
      },
      recommendation:
        'VACUUM (ANALYZE) the table; if autovacuum keeps falling behind, lower its autovacuum_vacuum_scale_factor, and look for long transactions that stop vacuum from removing rows.',
    };
  },
};
