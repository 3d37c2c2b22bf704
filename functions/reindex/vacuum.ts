import type { Client } from 'pg';
import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { NO_TIMEOUTS, setSessionLimits } from '../shared/pg/session-limits';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { RESERVE_MS } from './guards';

/** Dead rows above this share of live rows make a table worth vacuuming (autovacuum's default is 20%). */
export const VACUUM_DEAD_PERCENT = 10;
/** ...and at least this many, so tiny tables are left to autovacuum. */
export const VACUUM_MIN_DEAD_ROWS = 1000;

export interface VacuumOutcome {
  readonly vacuumed: string[];
  readonly problems: string[];
}

/** vacuumAnalyze: VACUUM (ANALYZE, SKIP_LOCKED) the tables with many dead rows, while time remains. */
export async function vacuumDeadTables(
  client: Client,
  remainingMs: () => number,
  logger: Logger,
): Promise<VacuumOutcome> {
  const outcome: VacuumOutcome = { vacuumed: [], problems: [] };
  const tables = (
    await client.query<{ schema_name: string; table_name: string; name: string; dead_rows: string }>(
      loadSql('reindex/vacuum-candidates'),
      [VACUUM_DEAD_PERCENT, VACUUM_MIN_DEAD_ROWS],
    )
  ).rows;
  for (const table of tables) {
    if (remainingMs() < 2 * RESERVE_MS) {
      outcome.problems.push(`not enough time left to vacuum ${table.name} (and later tables)`);
      break;
    }
    try {
      await setSessionLimits(client, {
        statementTimeoutMs: Number.isFinite(remainingMs()) ? remainingMs() - RESERVE_MS : 0,
        lockTimeoutMs: 0,
      });
      await client.query(
        sqlWithSlots('reindex/vacuum-table', { table: ident(table.schema_name, table.table_name) }),
      );
      logger.info(`reindex: vacuumed ${table.name} (${table.dead_rows} dead rows)`);
      outcome.vacuumed.push(table.name);
    } catch (error) {
      outcome.problems.push(`VACUUM of ${table.name} failed: ${errorMessage(error)}`);
    } finally {
      await setSessionLimits(client, NO_TIMEOUTS).catch(() => {});
    }
  }
  return outcome;
}
