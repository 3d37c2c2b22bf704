import { loadSql, pickSqlVariant, type SqlVariant } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { countersSince } from './counters';
import { round } from './numbers';

/** PostgreSQL 17 moved the checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer. */
export const CHECKPOINTS_SQL: readonly SqlVariant[] = [
  { name: 'health/checkpoints_bgwriter', since: 100_000 },
  { name: 'health/checkpoints_checkpointer', since: 170_000 },
];

interface Row {
  timed: number;
  requested: number;
  since: Date | null;
}

/**
 * `checkpoints`: the share of checkpoints that were requested (WAL reached max_wal_size, or a
 * CHECKPOINT command) rather than timed. Frequent requested checkpoints mean full-page writes
 * after each one and bursts of I/O: max_wal_size is too small for the write load.
 */
export const checkpointsCheck: HealthCheck = {
  name: 'checkpoints',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '50%', critical: null },
  async run({ query, now, memory, serverVersionNum }) {
    const variant = pickSqlVariant(serverVersionNum, CHECKPOINTS_SQL);
    const [row] = await query<Row>(loadSql(variant));
    if (!row) throw new Error('the checkpoint counters returned no row');
    const [started] = await query<{ at: Date }>('select pg_postmaster_start_time() as at');
    const counted = countersSince(
      memory,
      { timed: row.timed, requested: row.requested },
      now(),
      row.since ?? started?.at ?? now(),
    );
    const { timed, requested } = counted.delta;
    const total = timed + requested;
    const over = `over ${formatDuration(counted.seconds * 1000)} since ${counted.from}`;
    const details = { timed, requested, view: variant.replace('health/checkpoints_', 'pg_stat_') };
    if (total < 2)
      return {
        value: null,
        message: `${total} checkpoint(s) ${over}: too few to judge`,
        details,
        memory: counted.memory,
        recommendation: '',
      };
    const share = (100 * requested) / total;
    return {
      value: round(share),
      message: `${requested} of ${total} checkpoints were requested, not timed (${round(share)}%) ${over}`,
      details,
      memory: counted.memory,
      recommendation:
        'Checkpoints are forced by WAL volume: raise max_wal_size so they happen on checkpoint_timeout instead (on RDS, in the parameter group), and check nothing runs CHECKPOINT in a loop.',
    };
  },
};
