import type { Client } from 'pg';
import type { DumpExcludes } from '../shared/store/layout';
import { type TableRows, tableRows } from '../shared/table-rows';
import { excludedTables } from './exclude-patterns';

/**
 * A transaction whose snapshot pg_dump imports (`--snapshot`), so row counts taken here are exactly
 * the rows in the dump: a restore drill can then compare counts and prove nothing went missing.
 * It must stay open until pg_dump has imported the snapshot; we keep it until pg_dump exits.
 */
export interface DumpSnapshot {
  readonly id: string;
  /**
   * Per-table estimates, and exact counts in the snapshot when asked, of what the dump holds:
   * tables the excludes leave out are not listed, those whose data they leave out have 0 rows.
   */
  countRows(exact: boolean, excludes: DumpExcludes): Promise<TableRows[]>;
  close(): Promise<void>;
}

export async function openDumpSnapshot(client: Client): Promise<DumpSnapshot> {
  await client.query('begin isolation level repeatable read read only');
  const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
  const id = rows[0]?.id;
  if (!id) throw new Error('pg_export_snapshot returned nothing');
  return {
    id,
    countRows: async (exact, excludes) =>
      tableRows(client, exact, { excluded: await excludedTables(client, excludes) }),
    async close() {
      await client.query('commit').catch(() => {});
    },
  };
}
