import { loadSql } from '../../shared/sql';
import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { countersSince } from './counters';
import { round } from './numbers';

/** Fewer transactions than this in the interval say nothing about the application. */
export const COMMIT_RATIO_MIN_TRANSACTIONS = 1000;

interface Row {
  commits: number;
  rollbacks: number;
  since: Date;
}

/**
 * `commit_ratio`: the share of this database's transactions that committed since the previous
 * run. A falling ratio is an application failing (deadlocks, serialization failures, constraint
 * violations retried in a loop) before anyone reads its logs.
 */
export const commitRatioCheck: HealthCheck = {
  name: 'commit_ratio',
  unit: 'percent',
  kind: 'percent',
  direction: 'below',
  defaults: { warning: '90%', critical: '80%' },
  async run({ query, now, memory }) {
    const [row] = await query<Row>(loadSql('health/database_counters'));
    if (!row) throw new Error('pg_stat_database has no row for this database');
    const counted = countersSince(
      memory,
      { commits: row.commits, rollbacks: row.rollbacks },
      now(),
      row.since,
    );
    const { commits, rollbacks } = counted.delta;
    const total = commits + rollbacks;
    const over = `over ${formatDuration(counted.seconds * 1000)} since ${counted.from}`;
    const details = { commits, rollbacks, since: counted.from };
    if (total < COMMIT_RATIO_MIN_TRANSACTIONS)
      return {
        skipped: `only ${total} transaction(s) ${over} (needs ${COMMIT_RATIO_MIN_TRANSACTIONS})`,
        details,
        memory: counted.memory,
      };
    const ratio = (100 * commits) / total;
    return {
      value: round(ratio, 2),
      message: `${round(ratio, 2)}% of ${total} transactions committed ${over} (${rollbacks} rolled back)`,
      details,
      memory: counted.memory,
      recommendation:
        'Many transactions roll back: read the application and server logs for the errors behind them (deadlocks, serialization failures, unique violations, statement timeouts) and fix their cause.',
    };
  },
};
