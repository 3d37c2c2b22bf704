import type { Client } from 'pg';
import type { RetentionRuleConfig } from '../shared/config/schema';
import { fixed, ident, type SqlFragment, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { withLockRetries } from './partition-cleanup';
import type { ChunkInfo, RuleWork } from './result';
import { qualifiedName, type RuleBase } from './rules';
import type { RunState } from './run-state';

/**
 * TimescaleDB hypertables: whole chunks past the cutoff are dropped with drop_chunks, which only
 * drops a chunk whose range ends at or before the cutoff, so a chunk that may hold a newer row stays.
 */
export interface ChunkRule extends RuleBase {
  readonly kind: 'chunks';
  /** The hypertable's time dimension. */
  readonly column: string;
  /** The dimension's type: the cutoff is cast to it, as drop_chunks needs a value of that type. */
  readonly columnType: 'timestamp with time zone' | 'timestamp without time zone' | 'date';
}

interface DimensionRow {
  column_name: string;
  column_type: string;
  is_time: boolean;
}

/** The hypertable's time dimension, or undefined when TimescaleDB is not installed or the table is not a hypertable. */
export async function hypertableDimension(client: Client, oid: string): Promise<DimensionRow | undefined> {
  const installed = (await client.query(loadSql('retention/timescaledb-installed'))).rows.length > 0;
  if (!installed) return undefined;
  return (await client.query<DimensionRow>(loadSql('retention/hypertable-dimension'), [oid])).rows[0];
}

/**
 * The rule as a chunk rule when it is one: `"hypertable": true`, or a plain rule (no `where`, no
 * `maxRowsPerRun`) on a table TimescaleDB reports as a hypertable. A rule that asks for what a
 * hypertable cannot do gets a problem naming the fix. `undefined`: not a chunk rule, resolve it as before.
 */
export async function resolveChunkRule(
  client: Client,
  rule: RetentionRuleConfig,
  base: Omit<ChunkRule, 'kind' | 'column' | 'columnType'>,
  columnNamed: (name: string) => string | undefined,
  problems: string[],
): Promise<ChunkRule | undefined | 'rejected'> {
  const qualified = qualifiedName(base);
  const dimension = await hypertableDimension(client, base.oid);
  if (!dimension) {
    if (rule.hypertable !== true) return undefined;
    problems.push(
      `${qualified} is not a TimescaleDB hypertable (not in timescaledb_information.hypertables, or the timescaledb extension is not installed in this database): remove "hypertable": true`,
    );
    return 'rejected';
  }
  if (rule.partitions === true) {
    problems.push(
      `${qualified} is a TimescaleDB hypertable, not a partitioned table: use "hypertable": true (whole chunks are dropped) instead of "partitions": true`,
    );
    return 'rejected';
  }
  // Deleting some rows of a hypertable (a `where`, a cap) stays a row rule unless chunks were asked for.
  if (rule.hypertable !== true && (rule.where !== undefined || rule.maxRowsPerRun !== undefined))
    return undefined;
  if (rule.hypertable === false) return undefined;
  if (!dimension.is_time) {
    problems.push(
      `${qualified} is a hypertable on "${dimension.column_name}" (${dimension.column_type}), not on a timestamp or date: "olderThan" cannot age its chunks`,
    );
    return 'rejected';
  }
  if (rule.column !== undefined && columnNamed(rule.column) !== dimension.column_name) {
    problems.push(
      `column "${rule.column}" is not the time dimension of hypertable ${qualified} (it is "${dimension.column_name}")`,
    );
    return 'rejected';
  }
  return {
    ...base,
    kind: 'chunks',
    column: dimension.column_name,
    columnType: dimension.column_type as ChunkRule['columnType'],
  };
}

/** The run's cutoff (timestamptz text, a bind parameter) as a value of the dimension's type. */
function cutoffAs(rule: ChunkRule): SqlFragment {
  if (rule.columnType === 'timestamp without time zone') return fixed('$2::timestamptz::timestamp');
  // Rounding down to the day drops less, never more.
  if (rule.columnType === 'date') return fixed('$2::timestamptz::date');
  return fixed('$2::timestamptz');
}

interface ChunkRow {
  schema: string;
  name: string;
  range_start: string;
  range_end: string;
  bytes: string;
}

interface ListedChunk extends ChunkInfo {
  readonly schema: string;
  readonly name: string;
}

/** The chunks drop_chunks would drop now, oldest first, with their ranges and sizes. */
export async function expiredChunks(client: Client, rule: ChunkRule, cutoff: string): Promise<ListedChunk[]> {
  const rows = (
    await client.query<ChunkRow>(sqlWithSlots('retention/expired-chunks', { cutoff: cutoffAs(rule) }), [
      rule.oid,
      cutoff,
    ])
  ).rows;
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    chunk: `${row.schema}.${row.name}`,
    rangeStart: row.range_start,
    rangeEnd: row.range_end,
    bytes: Number(row.bytes),
  }));
}

/** What a dry run reports for a chunk rule: the chunks with their exact rows, the hypertable's size. */
export async function previewChunks(client: Client, rule: ChunkRule, cutoff: string) {
  const listed = await expiredChunks(client, rule, cutoff);
  let rowsToDelete = 0;
  for (const { schema, name } of listed) {
    const text = sqlWithSlots('retention/count-expired', {
      table: ident(schema, name),
      predicate: fixed('true'),
    });
    rowsToDelete += Number((await client.query<{ rows: string }>(text)).rows[0]?.rows ?? 0);
  }
  const oldest = await client.query<{ oldest: string | null }>(
    sqlWithSlots('retention/oldest-row', {
      table: ident(rule.schema, rule.table),
      column: ident(rule.column),
      predicate: fixed('true'),
    }),
  );
  const size = await client.query<{ bytes: string }>(loadSql('retention/hypertable-size'), [rule.oid]);
  return {
    rowsToDelete,
    partitionsToDrop: [],
    partitionsToCreate: [],
    oldestRow: oldest.rows[0]?.oldest ?? null,
    tableBytes: Number(size.rows[0]?.bytes ?? 0),
    chunksToDrop: listed.map(({ chunk, rangeStart, rangeEnd, bytes }) => ({
      chunk,
      rangeStart,
      rangeEnd,
      bytes,
    })),
  };
}

/** One drop_chunks call for the rule; its chunks were listed first so the result reports their ranges and sizes. */
export async function cleanUpChunks(
  run: RunState,
  rule: ChunkRule,
  cutoff: string,
  outOfTime: boolean,
): Promise<RuleWork> {
  const none = { rowsDeleted: 0, partitionsDropped: [], partitionsCreated: [], batches: 0 };
  if (outOfTime) return { ...none, chunksDropped: [], stoppedBecause: 'timeBudget' };
  const listed = await expiredChunks(run.client, rule, cutoff);
  let droppedNames: string[] = [];
  const attempt = await withLockRetries(run, async () => {
    const rows = (
      await run.client.query<{ chunk: string }>(
        sqlWithSlots('retention/drop-chunks', { cutoff: cutoffAs(rule) }),
        [rule.oid, cutoff],
      )
    ).rows;
    droppedNames = rows.map((row) => row.chunk);
  });
  const dropped = new Set(droppedNames);
  const chunksDropped = listed
    .filter((chunk) => dropped.has(chunk.chunk))
    .map(({ chunk, rangeStart, rangeEnd, bytes }) => ({ chunk, rangeStart, rangeEnd, bytes }));
  run.context.logger.debug(`retention ${qualifiedName(rule)}: dropped ${chunksDropped.length} chunks`);
  return { ...none, chunksDropped, stoppedBecause: attempt === 'lockTimeout' ? 'lockTimeout' : 'done' };
}
