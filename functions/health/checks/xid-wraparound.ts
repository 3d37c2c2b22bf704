import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  database: string;
  xidAge: number;
  mxidAge: number;
  worst: number;
}

/** `xid_wraparound`: how close the worst database is to transaction-ID (or multixact) wraparound. */
export const xidWraparoundCheck: HealthCheck = {
  name: 'xid_wraparound',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 500_000_000, critical: 1_000_000_000 },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/xid_wraparound'));
    const worst = rows[0];
    if (!worst) throw new Error('pg_database returned no row');
    return {
      value: worst.worst,
      message: `oldest unfrozen transaction ID is ${worst.worst.toLocaleString('en-US')} transactions old (database ${worst.database}; wraparound stops writes at about 2 billion)`,
      details: { databases: rows },
      recommendation:
        'Autovacuum is not freezing fast enough: find what holds the xmin horizon back (long transactions, prepared transactions, replication slots), then run VACUUM (FREEZE) on the oldest tables of that database (ordered by age(relfrozenxid)).',
    };
  },
};
