import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  used: number;
  max_connections: number;
  reserved: number;
  by_state: Record<string, number>;
}

/**
 * `connections`: sessions in use vs the slots ordinary roles can take. The value is a count;
 * thresholds are counts (`50`) or shares of the usable slots (`"80%"`).
 */
export const connectionsCheck: HealthCheck = {
  name: 'connections',
  unit: 'count',
  kind: 'count-or-share',
  defaults: { warning: '80%', critical: '95%' },
  async run({ query }) {
    const [row] = await query<Row>(loadSql('health/connections'));
    if (!row) throw new Error('pg_stat_activity returned no row');
    const available = Math.max(row.max_connections - row.reserved, 1);
    const percent = (100 * row.used) / available;
    return {
      value: row.used,
      total: available,
      message: `${row.used} of ${available} connections in use (${round(percent)}%)`,
      details: {
        used: row.used,
        available,
        percent: round(percent),
        maxConnections: row.max_connections,
        reserved: row.reserved,
        byState: row.by_state,
      },
      recommendation:
        'Find who holds the sessions (pg_stat_activity by application_name and state); put a pooler (RDS Proxy, PgBouncer) in front of the application, or close idle sessions, before raising max_connections.',
    };
  },
};
