import type { Client } from 'pg';
import { serverVersionNum } from '../shared/db';
import { loadSql } from '../shared/sql';
import type { RowRule } from './rules';

/**
 * What one batch of a row rule covers.
 * - `indexRange`: a range of the time column's index. Cheap when rows are stored in time order: the
 *   batch's rows sit on few pages. On a scattered table each row is on its own page, and every batch
 *   touches pages all over the heap (measured 0.15× the single DELETE's rows/s).
 * - `tidRange`: a range of heap pages (`ctid >= '(p,0)' and ctid < '(q,0)'`, a TID range scan,
 *   PostgreSQL 14+): the table is read once, in page order, as the single DELETE reads it, whatever
 *   order the times are in. It reads the whole table, so on an in-order table where little is expired
 *   the index is cheaper.
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
  if (Math.abs(c) >= IN_ORDER_CORRELATION)
    return { shape: 'indexRange', reason: `${text}: stored in time order, index ranges` };
  if (Math.abs(c) < SCATTERED_CORRELATION)
    return { shape: 'tidRange', reason: `${text}: not in time order, page ranges` };
  return { shape: 'measure', reason: text };
}

export interface RuleLayout extends TableLayout {
  /** Rows per page as last counted (VACUUM/ANALYZE), null when never counted. */
  readonly tuplesPerPage: number | null;
}

export async function readLayout(client: Client, rule: RowRule): Promise<RuleLayout> {
  type Row = { correlation: number | null; pages: string; tuples_per_page: number | null };
  const row = (await client.query<Row>(loadSql('retention/layout'), [rule.oid, rule.column])).rows[0];
  return {
    correlation: row?.correlation ?? null,
    indexed: rule.indexed,
    partitioned: rule.key !== null,
    serverVersion: await serverVersionNum(client),
    pages: Number(row?.pages ?? 0),
    tuplesPerPage: row?.tuples_per_page && row.tuples_per_page >= 1 ? row.tuples_per_page : null,
  };
}
