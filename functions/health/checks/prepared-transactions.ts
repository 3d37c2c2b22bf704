import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  gid: string;
  owner: string;
  seconds: number;
  preparedAt: Date;
  total: number;
}

/** `prepared_transactions`: two-phase transactions left prepared; they hold locks and the xmin horizon forever. */
export const preparedTransactionsCheck: HealthCheck = {
  name: 'prepared_transactions',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '1 minute', critical: '30 minutes' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/prepared_transactions'));
    const oldest = rows[0];
    if (!oldest) return { value: 0, message: 'no prepared transaction', recommendation: '' };
    return {
      value: round(oldest.seconds),
      message: `${oldest.total} prepared transaction(s); the oldest ("${oldest.gid}", ${oldest.owner}) for ${formatDuration(oldest.seconds * 1000)}`,
      details: {
        total: oldest.total,
        top: rows.map(({ total: _, ...row }) => ({
          ...row,
          seconds: round(row.seconds),
          preparedAt: row.preparedAt.toISOString(),
        })),
      },
      recommendation:
        'A transaction manager prepared these and never finished them; they survive restarts, keep their locks and stop vacuum. Ask its owner, then COMMIT PREPARED or ROLLBACK PREPARED the gid.',
    };
  },
};
