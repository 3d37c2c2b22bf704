import { formatBytes, formatDuration } from '../shared/units';
import type { BatchShape } from './batch-shape';
import type { ChunkInfo, RetentionPreview, RetentionResult, RetentionRun, RuleOutcome } from './result';

const SHAPE_NAMES: Record<BatchShape, string> = {
  indexRange: 'time-index ranges',
  tidRange: 'heap page (TID) ranges',
  scan: 'scans',
};

const count = (n: number) => n.toLocaleString('en-US');

function describeWhere(where: RuleOutcome['where']): string {
  if (!where) return '';
  const parts = Object.entries(where).map(([column, value]) =>
    Array.isArray(value) ? `${column} in (${value.map(String).join(', ')})` : `${column} = ${String(value)}`,
  );
  return ` where ${parts.join(' and ')}`;
}

const chunkBytes = (chunks: readonly ChunkInfo[] | undefined) =>
  (chunks ?? []).reduce((sum, chunk) => sum + chunk.bytes, 0);

/** Human-readable lines for the CLI; --json prints the result itself. */
export function renderRetention(result: RetentionResult): string {
  return result.dryRun ? renderPreview(result) : renderRun(result);
}

function renderRun(result: RetentionRun): string {
  const lines = [`${result.target}: ${result.status}, ${count(result.totalRowsDeleted)} rows deleted`];
  for (const rule of result.rules) {
    const what = rule.hypertable
      ? `${rule.chunksDropped?.length ?? 0} chunks dropped (${formatBytes(chunkBytes(rule.chunksDropped))})`
      : rule.partitions
        ? `${rule.partitionsDropped.length} partitions dropped, ${rule.partitionsCreated.length} created`
        : `${count(rule.rowsDeleted)} rows in ${rule.batches} batches`;
    const left =
      rule.rowsLeft === undefined
        ? ''
        : `, ${rule.rowsLeft === null ? 'unknown' : count(rule.rowsLeft)} left`;
    lines.push(
      `  ${rule.table}${describeWhere(rule.where)}, older than ${rule.olderThan}: ${what} in ${formatDuration(rule.durationMs)} (${rule.stoppedBecause}${left})`,
    );
    if (rule.batchShape)
      lines.push(`    batches: ${SHAPE_NAMES[rule.batchShape]} (${rule.batchShapeReason})`);
    if (rule.pausedMs) lines.push(`    paused ${formatDuration(rule.pausedMs)} between batches`);
    if (rule.heldRowsSkipped)
      lines.push(
        `    ${count(rule.heldRowsSkipped)} expired rows held by another session were skipped; the next run gets them`,
      );
  }
  if (result.vacuumed.length > 0) lines.push(`  vacuumed: ${result.vacuumed.join(', ')}`);
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

function renderPreview(result: RetentionPreview): string {
  const lines = [`${result.target}: dry run, ${count(result.totalRowsToDelete)} rows would be deleted`];
  for (const rule of result.rules) {
    const what = rule.hypertable
      ? `${rule.chunksToDrop?.length ?? 0} chunks to drop (${count(rule.rowsToDelete)} rows, ${formatBytes(chunkBytes(rule.chunksToDrop))})`
      : rule.partitions
        ? `${rule.partitionsToDrop.length} partitions to drop (${count(rule.rowsToDelete)} rows), ${rule.partitionsToCreate.length} to create`
        : `${count(rule.rowsToDelete)} rows to delete`;
    lines.push(
      `  ${rule.table}${describeWhere(rule.where)}, older than ${rule.olderThan} (before ${rule.cutoff}): ${what}; oldest ${rule.oldestRow ?? 'none'}; table ${formatBytes(rule.tableBytes)}`,
    );
    for (const chunk of rule.chunksToDrop ?? [])
      lines.push(
        `    chunk ${chunk.chunk} [${chunk.rangeStart}, ${chunk.rangeEnd}) ${formatBytes(chunk.bytes)}`,
      );
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}
