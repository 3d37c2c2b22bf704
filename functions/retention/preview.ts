import type { Client } from 'pg';
import { fixed, ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { previewChunks } from './hypertables';
import { countPartitionRows, expiredPartitions, listPartitions, plannedPartitions } from './partitions';
import { rowPredicate } from './predicate';
import type { RetentionPreview, RulePreview } from './result';
import type { ResolvedRule } from './rules';
import { describeRule, type RunState } from './run-state';

/** A dry run: per rule what would go (rows or partitions), the oldest row it covers, the table's size. */
export async function preview(
  run: RunState,
  rules: readonly ResolvedRule[],
  cutoffs: readonly string[],
): Promise<RetentionPreview> {
  const previews: RulePreview[] = [];
  for (const [index, rule] of rules.entries()) {
    const cutoff = cutoffs[index] ?? '';
    previews.push({ ...describeRule(rule, cutoff), ...(await previewRule(run.client, rule, cutoff)) });
  }
  return {
    target: run.context.targetName,
    status: 'complete',
    dryRun: true,
    rules: previews,
    totalRowsToDelete: previews.reduce((sum, p) => sum + p.rowsToDelete, 0),
    warnings: run.warnings,
  };
}

async function previewRule(client: Client, rule: ResolvedRule, cutoff: string) {
  if (rule.kind === 'chunks') return previewChunks(client, rule, cutoff);
  const table = ident(rule.schema, rule.table);
  const tableBytes = Number(
    (await client.query<{ bytes: string }>(loadSql('retention/table-size'), [rule.oid])).rows[0]?.bytes ?? 0,
  );
  if (rule.kind === 'partitions') {
    const partitions = await listPartitions(client, rule, cutoff);
    const toDrop = expiredPartitions(partitions);
    let rowsToDelete = 0;
    for (const partition of toDrop) rowsToDelete += await countPartitionRows(client, partition);
    const oldest = await client.query<{ oldest: string | null }>(
      sqlWithSlots('retention/oldest-row', { table, column: ident(rule.column), predicate: fixed('true') }),
    );
    const { planned, premakeBy } = await plannedPartitions(client, rule, partitions);
    return {
      rowsToDelete,
      partitionsToDrop: toDrop.map((p) => p.name),
      partitionsToCreate: planned.map((p) => p.name),
      ...(premakeBy && { premakeBy }),
      oldestRow: oldest.rows[0]?.oldest ?? null,
      tableBytes,
    };
  }
  const expired = rowPredicate(rule, { before: cutoff }, 1);
  const count = await client.query<{ rows: string }>(
    sqlWithSlots('retention/count-expired', { table, predicate: expired.sql }),
    [...expired.values],
  );
  const covered = rowPredicate(rule, {}, 1);
  const oldest = await client.query<{ oldest: string | null }>(
    sqlWithSlots('retention/oldest-row', { table, column: ident(rule.column), predicate: covered.sql }),
    [...covered.values],
  );
  return {
    rowsToDelete: Number(count.rows[0]?.rows ?? 0),
    partitionsToDrop: [],
    partitionsToCreate: [],
    oldestRow: oldest.rows[0]?.oldest ?? null,
    tableBytes,
  };
}
