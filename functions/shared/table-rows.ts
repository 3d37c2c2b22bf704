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
  /** The backup left this table's rows out (backup.excludeTableData): it holds none, so 0. */
  readonly dataExcluded?: true;
}

/**
 * The tables a backup holds (sql/backup/tables.sql: ordinary tables and leaf partitions, and the
 * configuration tables of extensions, no system tables) in the database the client is connected
 * to, with exact counts when asked. Each table counts ONLY its own rows: an inheritance parent's
 * children are counted once, as themselves. The backup counts in the dump's snapshot; restores
 * and drills count what they restored. `legacy` counts as backups of earlier pgmaint versions
 * did (children inside their parents, no extension tables), to compare with their manifests.
 * `excluded` (`schema.name` → what the dump leaves out of it): a table left out is not listed, a
 * table whose data is left out is listed with 0 rows, without counting it.
 */
export async function tableRows(
  client: Client,
  exact: boolean,
  options: { legacy?: boolean; excluded?: ReadonlyMap<string, 'table' | 'data'> } = {},
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
    const excluded = options.excluded?.get(`${table.schema}.${table.name}`);
    if (excluded === 'table') continue;
    const entry = { schema: table.schema, name: table.name, rowEstimate: Number(table.row_estimate) };
    if (excluded === 'data') {
      result.push({ ...entry, ...(exact ? { rowCount: 0 } : {}), dataExcluded: true });
      continue;
    }
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
