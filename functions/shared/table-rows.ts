import type { Client } from 'pg';
import { quoteIdent } from './identifiers';
import { loadSql } from './sql';

export interface TableRows {
  readonly schema: string;
  readonly name: string;
  /** The planner's estimate (reltuples; 0 when never analyzed). */
  readonly rowEstimate: number;
  /** count(*), when asked for. */
  readonly rowCount?: number;
}

/**
 * The tables a backup holds (sql/backup/tables.sql: ordinary tables and leaf partitions, and the
 * configuration tables of extensions, no system tables) in the database the client is connected
 * to, with exact counts when asked. Each table counts ONLY its own rows: an inheritance parent's
 * children are counted once, as themselves. The backup counts in the dump's snapshot; restores
 * and drills count what they restored. `legacy` counts as backups of earlier pgmaint versions
 * did (children inside their parents, no extension tables), to compare with their manifests.
 */
export async function tableRows(
  client: Client,
  exact: boolean,
  options: {
    legacy?: boolean;
    /** More sessions on the same database (and snapshot) that count tables beside `client`. */
    counters?: readonly Client[];
  } = {},
): Promise<TableRows[]> {
  const tables = await client.query<{
    schema: string;
    name: string;
    row_estimate: string;
    extension_config: boolean;
  }>(loadSql('backup/tables'));
  const entries = tables.rows
    .filter((table) => !(options.legacy && table.extension_config))
    .map((table) => ({ schema: table.schema, name: table.name, rowEstimate: Number(table.row_estimate) }));
  if (!exact) return entries;
  const only = options.legacy ? '' : 'only ';
  const result: TableRows[] = new Array(entries.length);
  let next = 0;
  // Each session takes the next table when it is done with one: the big tables do not queue up.
  const counter = async (session: Client) => {
    while (next < entries.length) {
      const i = next++;
      const entry = entries[i] as TableRows;
      const counted = await session.query<{ n: string }>(
        `select count(*) as n from ${only}${quoteIdent(entry.schema)}.${quoteIdent(entry.name)}`,
      );
      result[i] = { ...entry, rowCount: Number(counted.rows[0]?.n ?? 0) };
    }
  };
  await Promise.all([client, ...(options.counters ?? [])].map(counter));
  return result;
}
