import type { BackupManifest } from '../shared/backup-catalog';
import type { TableRows } from '../shared/table-rows';

export interface CountMismatch {
  readonly table: string;
  /** Rows the backup counted in the dump's snapshot (null: the table was not in the backup). */
  readonly expected: number | null;
  /** Rows in the restored database (null: the table is missing). */
  readonly actual: number | null;
}

/**
 * Tables whose restored row count differs from the exact count the backup took in the dump's own
 * snapshot, plus tables missing on either side. Empty when the backup has no exact counts.
 * A table the backup left out (backup.excludeTables/Schemas) is not in its manifest, so it must
 * not be restored either; one whose data it left out (excludeTableData) must come back empty.
 */
export function compareCounts(manifest: BackupManifest, restored: readonly TableRows[]): CountMismatch[] {
  if (!manifest.rowCountsExact) return [];
  const label = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;
  const actual = new Map(restored.map((t) => [label(t), t.rowCount ?? 0]));
  const mismatches: CountMismatch[] = [];
  for (const table of manifest.tables) {
    const expected = table.dataExcluded ? 0 : (table.rowCount ?? null);
    const got = actual.get(label(table)) ?? null;
    if (expected !== got) mismatches.push({ table: label(table), expected, actual: got });
    actual.delete(label(table));
  }
  for (const [table, rows] of actual) mismatches.push({ table, expected: null, actual: rows });
  return mismatches;
}
