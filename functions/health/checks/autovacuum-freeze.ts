import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface DatabaseRow {
  database: string;
  xidAge: number;
  mxidAge: number;
  percent: number;
}

interface TableRow {
  schema: string;
  table: string;
  xidAge: number;
  percent: number;
  bytes: number;
}

/**
 * `autovacuum_freeze`: how near each database is to the age at which autovacuum forces an
 * anti-wraparound vacuum of its oldest tables (autovacuum_freeze_max_age): such a vacuum reads the
 * whole table, cannot be cancelled by a conflicting lock, and on a big table runs for hours.
 */
export const autovacuumFreezeCheck: HealthCheck = {
  name: 'autovacuum_freeze',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '90%', critical: '95%' },
  async run({ query }) {
    const databases = await query<DatabaseRow>(loadSql('health/autovacuum_freeze'));
    const worst = databases[0];
    if (!worst) throw new Error('pg_database returned no connectable database');
    const tables = await query<TableRow>(loadSql('health/autovacuum_freeze_tables'));
    const nearest = tables[0];
    return {
      value: round(worst.percent, 4),
      message:
        `database ${worst.database} is at ${round(worst.percent, 4)}% of autovacuum_freeze_max_age` +
        (nearest
          ? `; nearest table here: ${nearest.schema}.${nearest.table} at ${round(nearest.percent, 4)}%`
          : ''),
      details: {
        databases: databases.map((d) => ({ ...d, percent: round(d.percent, 4) })),
        tables: tables.map((t) => ({ ...t, percent: round(t.percent, 4) })),
      },
      recommendation:
        'Freeze the oldest tables on your own schedule before autovacuum does it at a bad moment: VACUUM (FREEZE, VERBOSE) the tables listed in details (in the database named), in a quiet hour; then find what kept autovacuum from freezing them (long transactions, a too-low autovacuum_vacuum_cost_limit).',
    };
  },
};
