import type { Client } from 'pg';
import type { BackupManifest } from '../shared/backup-catalog';
import { quoteIdent } from '../shared/identifiers';
import { loadSql } from '../shared/sql';

export interface TableCount {
  readonly schema: string;
  readonly name: string;
  readonly rows: number;
}

export interface CountMismatch {
  readonly table: string;
  /** Rows the backup counted in the dump's snapshot (null: the table was not in the backup). */
  readonly expected: number | null;
  /** Rows in the restored database (null: the table is missing). */
  readonly actual: number | null;
}

/** Exact row counts of every table in the database the client is connected to. */
export async function countRows(client: Client): Promise<TableCount[]> {
  const tables = await client.query<{ schema: string; name: string }>(loadSql('backup/tables'));
  const counts: TableCount[] = [];
  for (const table of tables.rows) {
    const result = await client.query<{ n: string }>(
      `select count(*) as n from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
    );
    counts.push({ schema: table.schema, name: table.name, rows: Number(result.rows[0]?.n ?? 0) });
  }
  return counts;
}

/**
 * Tables whose restored row count differs from the exact count the backup took in the dump's own
 * snapshot, plus tables missing on either side. Empty when the backup has no exact counts.
 */
export function compareCounts(manifest: BackupManifest, restored: readonly TableCount[]): CountMismatch[] {
  if (!manifest.rowCountsExact) return [];
  const label = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;
  const actual = new Map(restored.map((t) => [label(t), t.rows]));
  const mismatches: CountMismatch[] = [];
  for (const table of manifest.tables) {
    const expected = table.rowCount ?? null;
    const got = actual.get(label(table)) ?? null;
    if (expected !== got) mismatches.push({ table: label(table), expected, actual: got });
    actual.delete(label(table));
  }
  for (const [table, rows] of actual) mismatches.push({ table, expected: null, actual: rows });
  return mismatches;
}
