import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  standby: boolean;
  ownLagSeconds: number | null;
  standbys: Array<{
    application: string;
    client: string | null;
    state: string;
    replayLagSeconds: number | null;
  }>;
}

/** `replication_lag`: how far standbys (or this standby) are behind in replay. */
export const replicationLagCheck: HealthCheck = {
  name: 'replication_lag',
  unit: 'seconds',
  kind: 'duration',
  defaults: { warning: '30 seconds', critical: '5 minutes' },
  async run({ query }) {
    const [row] = await query<Row>(loadSql('health/replication_lag'));
    if (!row) throw new Error('replication query returned no row');
    const recommendation =
      'Check the standby is connected and keeping up (network, disk, long queries on the standby with hot_standby_feedback); a standby far behind is not a safe failover target.';
    if (row.standby) {
      if (row.ownLagSeconds === null) return { skipped: 'standby that has not replayed any transaction yet' };
      return {
        value: round(row.ownLagSeconds),
        message: `this standby last replayed a transaction ${formatDuration(row.ownLagSeconds * 1000)} ago (on an idle primary this grows without lag)`,
        details: { standby: true },
        recommendation,
      };
    }
    if (row.standbys.length === 0) return { skipped: 'no standby or subscriber streams from this server' };
    const worst = [...row.standbys].sort((a, b) => (b.replayLagSeconds ?? 0) - (a.replayLagSeconds ?? 0))[0];
    const lag = worst?.replayLagSeconds ?? 0;
    return {
      value: round(lag),
      message: `${row.standbys.length} standby(s); worst replay lag ${formatDuration(lag * 1000)} (${worst?.application || worst?.client || 'unnamed'})`,
      details: { standbys: row.standbys },
      recommendation,
    };
  },
};
