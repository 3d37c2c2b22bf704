import type { Client } from 'pg';
import type { Logger } from '../shared/logger';
import { NO_TIMEOUTS, setSessionLimits } from '../shared/pg/session-limits';
import { ident, readableName, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { formatBytes, formatDuration } from '../shared/units';

export interface DatabaseReindexOutcome {
  readonly durationMs: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

interface DatabaseRow {
  name: string;
  index_bytes: string;
}

/**
 * mode "database": the seeds' plain REINDEX DATABASE, kept for maintenance windows. It blocks
 * writes to each table while that table's indexes rebuild, and rebuilds every index, bloated or not.
 */
export async function reindexDatabase(client: Client, logger: Logger): Promise<DatabaseReindexOutcome> {
  const before = await databaseRow(client);
  logger.warn(
    `reindex: REINDEX DATABASE ${readableName(before.name)}: writes to each table block while it rebuilds`,
  );
  const started = performance.now();
  await setSessionLimits(client, NO_TIMEOUTS);
  await client.query(sqlWithSlots('reindex/reindex-database', { database: ident(before.name) }));
  const durationMs = Math.round(performance.now() - started);
  const after = await databaseRow(client);
  const outcome = {
    durationMs,
    bytesBefore: Number(before.index_bytes),
    bytesAfter: Number(after.index_bytes),
  };
  logger.info(
    `reindex: REINDEX DATABASE took ${formatDuration(durationMs)}; indexes ${formatBytes(outcome.bytesBefore)} → ${formatBytes(outcome.bytesAfter)}`,
  );
  return outcome;
}

async function databaseRow(client: Client): Promise<DatabaseRow> {
  const row = (await client.query<DatabaseRow>(loadSql('reindex/database-name'))).rows[0];
  if (!row) throw new Error('current_database() returned no row');
  return row;
}
