import type { Client } from 'pg';
import { errorMessage } from '../shared/errors';
import { NO_TIMEOUTS, setSessionLimits } from '../shared/pg/session-limits';
import { ident, type SqlFragment, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';

interface LeftoverRow {
  schema_name: string;
  index_name: string;
  name: string;
  table_name: string;
  size_bytes: string;
}

export interface Leftover {
  readonly name: string;
  readonly qualifiedName: SqlFragment;
  readonly sizeBytes: number;
}

export interface CleanupOutcome {
  readonly dropped: readonly Leftover[];
  /** One line per leftover that could not be dropped. */
  readonly problems: readonly string[];
}

/** Invalid *_ccnew / *_ccold indexes, on one table or everywhere (tableOid null). */
export async function findLeftovers(client: Client, tableOid: number | null): Promise<Leftover[]> {
  const rows = (await client.query<LeftoverRow>(loadSql('reindex/leftovers'), [tableOid])).rows;
  return rows.map((r) => ({
    name: r.name,
    qualifiedName: ident(r.schema_name, r.index_name),
    sizeBytes: Number(r.size_bytes),
  }));
}

/**
 * Drops leftovers with DROP INDEX CONCURRENTLY, which waits for transactions using the table;
 * `lockTimeoutMs` bounds that wait so one stuck session cannot hold the run. A leftover that cannot
 * be dropped now stays for the next run and is reported.
 */
export async function dropLeftovers(
  client: Client,
  tableOid: number | null,
  lockTimeoutMs: number,
): Promise<CleanupOutcome> {
  const dropped: Leftover[] = [];
  const problems: string[] = [];
  for (const leftover of await findLeftovers(client, tableOid)) {
    try {
      await setSessionLimits(client, { statementTimeoutMs: 0, lockTimeoutMs });
      await client.query(sqlWithSlots('reindex/drop-index', { index: leftover.qualifiedName }));
      dropped.push(leftover);
    } catch (error) {
      problems.push(`could not drop leftover index ${leftover.name}: ${errorMessage(error)}`);
    } finally {
      await setSessionLimits(client, NO_TIMEOUTS).catch(() => {});
    }
  }
  return { dropped, problems };
}
