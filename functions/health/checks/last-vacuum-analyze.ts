import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';

/** A table with fewer changes than this since its last analyze is not worth grading. */
export const LAST_VACUUM_ANALYZE_MIN_CHANGES = 10_000;

interface Row {
  schema: string;
  table: string;
  changedSinceAnalyze: number;
  lastVacuum: Date | null;
  lastAnalyze: Date | null;
  ageSeconds: number;
  total: number;
}

/**
 * `last_vacuum_analyze`: tables that keep changing but that neither vacuum nor analyze has
 * visited for a long time (autovacuum disabled on them, or always cancelled): their statistics
 * go stale, plans go bad, and dead rows pile up.
 */
export const lastVacuumAnalyzeCheck: HealthCheck = {
  name: 'last_vacuum_analyze',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '7 days', critical: '30 days' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/last_vacuum_analyze'), [LAST_VACUUM_ANALYZE_MIN_CHANGES]);
    const worst = rows[0];
    if (!worst)
      return {
        value: 0,
        message: `no table with ${LAST_VACUUM_ANALYZE_MIN_CHANGES.toLocaleString('en-US')}+ rows changed since its last analyze`,
        recommendation: '',
      };
    const never = worst.lastVacuum === null && worst.lastAnalyze === null;
    return {
      value: Math.round(worst.ageSeconds),
      message: `${worst.schema}.${worst.table}: ${worst.changedSinceAnalyze.toLocaleString('en-US')} rows changed since its last analyze, ${
        never
          ? `never vacuumed or analyzed since the statistics began ${formatDuration(worst.ageSeconds * 1000)} ago`
          : `last vacuumed or analyzed ${formatDuration(worst.ageSeconds * 1000)} ago`
      }`,
      details: {
        tables: worst.total,
        top: rows.map(({ total: _, ...row }) => ({
          ...row,
          lastVacuum: row.lastVacuum?.toISOString() ?? null,
          lastAnalyze: row.lastAnalyze?.toISOString() ?? null,
          ageSeconds: Math.round(row.ageSeconds),
        })),
      },
      recommendation:
        'Run VACUUM (ANALYZE) on the table, then find why autovacuum skips it: autovacuum_enabled = off in its reloptions, or its autovacuum workers cancelled by lock conflicts (log_autovacuum_min_duration shows them).',
    };
  },
};
