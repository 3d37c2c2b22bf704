import type { Client } from 'pg';
import { ident } from './pg/sql-names';
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
  options: { legacy?: boolean } = {},
): Promise<TableRows[]> {
  const tables = await client.query<{
    schema: string;
    name: string;
    row_estimate: string;
    extension_config: boolean;
  }>(loadSql('backup/tables'));
  const result: TableRows[] = [];
  for (const table of tables.rows) {
    if (options.legacy && table.extension_config) continue;
    const entry = { schema: table.schema, name: table.name, rowEstimate: Number(table.row_estimate) };
    if (!exact) {
      result.push(entry);
      continue;
    }
    const only = options.legacy ? '' : 'only ';
    const counted = await client.query<{ n: string }>(
      `select count(*) as n from ${only}${ident(table.schema, table.name)}`,
    );
    result.push({ ...entry, rowCount: Number(counted.rows[0]?.n ?? 0) });
  }
  return result;
}
