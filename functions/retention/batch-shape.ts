import type { Client } from 'pg';
import { serverVersionNum } from '../shared/db';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import type { RowRule } from './rules';
import { readTimeHistogram, type TimeHistogram } from './time-histogram';

/**
 * What one batch of a row rule covers.
 * - `indexRange`: a range of the time column's index. Cheap when rows are stored in time order: the
 *   batches read only the expired end of the table, as the single DELETE's index scan does. Where the
 *   column's statistics say how rows spread over time, each range is sized from them; otherwise each
 *   batch first walks the index to where its range ends. On a scattered table each row is on its own
 *   page, and every batch touches pages all over the heap (measured 0.15× the single DELETE's rows/s).
 * - `tidRange`: a range of heap pages (`ctid >= '(p,0)' and ctid < '(q,0)'`, a TID range scan,
 *   PostgreSQL 14+): the table is read once, in page order, as a sequential scan reads it, whatever
 *   order the times are in. It reads the whole table, young rows included, so on an in-order table
 *   the index is cheaper when its ranges are sized from statistics (the retention bench, 10 million
 *   rows in time order, half expired, a writer running, batches of 0.5% of the table: statistics-sized
 *   ranges deleted at 0.84–0.93× the single DELETE's rows/s over four runs, page ranges at 0.79–0.85×
 *   over two, a sixth of their time reading young pages, which also made PostgreSQL's sessions write
 *   out twice the dirty buffers); without statistics, each index range's walk to its end costs more
 *   than the young pages where a third or more of the table is expired (on 2 million rows: 0.6 µs per
 *   expired row by pages against 1.1–1.7 µs by walked index ranges, and 0.2 µs per young row a page
 *   range only reads).
 * - `scan`: up to a batch of expired rows found by scanning (no usable index and no TID range scan:
 *   PostgreSQL 13, or a partitioned table) and deleted by ctid.
 */
export type BatchShape = 'indexRange' | 'tidRange' | 'scan';

export interface TableLayout {
  /** pg_stats.correlation of the time column with the rows' physical order; null before ANALYZE. */
  readonly correlation: number | null;
  readonly indexed: boolean;
  readonly partitioned: boolean;
  readonly serverVersion: number;
  /** Heap pages when the rule starts (plain tables); a TID-range pass covers them. */
  readonly pages: number;
  /**
   * The planner's estimate of the share of rows older than the cutoff (time alone, any `where`), from
   * the column's statistics; null when not estimated (no statistics, no TID range scan).
   */
  readonly expiredShare: number | null;
  /**
   * Index ranges can be sized from the time column's statistics (a timestamp column of a plain table,
   * analyzed; no `maxRowsPerRun`, which each batch must count exactly).
   */
  readonly rangesFromStatistics: boolean;
}

export interface ShapeChoice {
  /** `measure`: the catalog cannot tell; the first batches try both ranges and the faster one stays. */
  readonly shape: BatchShape | 'measure';
  readonly reason: string;
}

/** From |correlation| 0.9 the rows of an index range share pages; below 0.5 they are spread over the heap. */
export const IN_ORDER_CORRELATION = 0.9;
export const SCATTERED_CORRELATION = 0.5;
/** Below this many pages (8 MB) either range shape is cheap: without statistics, no need to measure. */
export const SMALL_TABLE_PAGES = 1_000;
/**
 * From this share of expired rows a page-range pass beats index ranges even on an in-order table:
 * break-even of the per-row costs above is about 0.3 (s × (1.1 − 0.6) = (1 − s) × 0.2).
 */
export const MOSTLY_EXPIRED_SHARE = 0.3;
const TID_RANGE_SCAN_SINCE = 140000;

/** The batch shape the catalog points to for a row rule (pure: table-driven unit tests). */
export function chooseBatchShape(column: string, layout: TableLayout): ShapeChoice {
  const tidRanges = !layout.partitioned && layout.serverVersion >= TID_RANGE_SCAN_SINCE;
  if (!tidRanges) {
    const why = layout.partitioned
      ? 'partitioned table (ctids repeat across partitions, so no page ranges through the parent)'
      : 'PostgreSQL 13 has no TID range scan';
    return layout.indexed
      ? { shape: 'indexRange', reason: `${why}: ranges of the ${column} index` }
      : { shape: 'scan', reason: `${why} and no index leads with ${column}: each batch scans` };
  }
  if (!layout.indexed) return { shape: 'tidRange', reason: `no index leads with ${column}: page ranges` };
  const c = layout.correlation;
  if (c === null)
    return layout.pages < SMALL_TABLE_PAGES
      ? { shape: 'indexRange', reason: `no statistics on ${column} yet, small table: index ranges` }
      : { shape: 'measure', reason: `no statistics on ${column} yet (never analyzed)` };
  const text = `correlation ${c.toFixed(2)} of ${column} with the rows' physical order`;
  if (Math.abs(c) >= IN_ORDER_CORRELATION) {
    if (layout.rangesFromStatistics)
      return {
        shape: 'indexRange',
        reason: `${text}: stored in time order, index ranges sized from its statistics (only the expired rows' pages are read)`,
      };
    const share = layout.expiredShare;
    if (share !== null && share >= MOSTLY_EXPIRED_SHARE)
      return {
        shape: 'tidRange',
        reason: `${text}: stored in time order, but about ${Math.round(share * 100)}% of the rows are older than the cutoff: page ranges read the table once, as a single DELETE does`,
      };
    return { shape: 'indexRange', reason: `${text}: stored in time order, index ranges` };
  }
  if (Math.abs(c) < SCATTERED_CORRELATION)
    return { shape: 'tidRange', reason: `${text}: not in time order, page ranges` };
  return { shape: 'measure', reason: text };
}

export interface RuleLayout extends TableLayout {
  /** Rows per page as last counted (VACUUM/ANALYZE), null when never counted. */
  readonly tuplesPerPage: number | null;
  /** The time column's statistics, read for an in-order plain table (index ranges sized from them). */
  readonly histogram: TimeHistogram | null;
}

export async function readLayout(client: Client, rule: RowRule, cutoff: string): Promise<RuleLayout> {
  type Row = { correlation: number | null; pages: string; tuples_per_page: number | null };
  const row = (await client.query<Row>(loadSql('retention/layout'), [rule.oid, rule.column])).rows[0];
  const correlation = row?.correlation ?? null;
  const partitioned = rule.key !== null;
  // Only an in-order, indexed plain table's shape depends on these; without statistics the planner guesses.
  const inOrder =
    correlation !== null && rule.indexed && !partitioned && Math.abs(correlation) >= IN_ORDER_CORRELATION;
  const histogram = inOrder
    ? await readTimeHistogram(client, rule.oid, rule.column, cutoff, rule.estimatedRows)
    : null;
  const rangesFromStatistics = histogram !== null && rule.maxRowsPerRun === undefined;
  const expiredShare =
    inOrder && !rangesFromStatistics ? await estimateExpiredShare(client, rule, cutoff) : null;
  return {
    correlation,
    indexed: rule.indexed,
    partitioned,
    serverVersion: await serverVersionNum(client),
    pages: Number(row?.pages ?? 0),
    expiredShare,
    rangesFromStatistics,
    histogram: rangesFromStatistics ? histogram : null,
    tuplesPerPage: row?.tuples_per_page && row.tuples_per_page >= 1 ? row.tuples_per_page : null,
  };
}

/** The planner's estimate (EXPLAIN, nothing read) of the rows before the cutoff, as a share of the table. */
async function estimateExpiredShare(client: Client, rule: RowRule, cutoff: string): Promise<number | null> {
  if (rule.estimatedRows <= 0) return null;
  const text = sqlWithSlots('retention/expired-share', {
    table: ident(rule.schema, rule.table),
    column: ident(rule.column),
  });
  type Plan = { 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] };
  const rows = (await client.query<Plan>(text, [cutoff])).rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'];
  return rows === undefined ? null : Math.min(1, rows / rule.estimatedRows);
}
