import type { Client } from 'pg';
import { loadSql } from '../shared/sql';

/**
 * How a table's rows spread over its time column, as the planner's statistics (pg_stats) last saw
 * them, in epoch milliseconds: enough to find where a range of about N rows ends without walking the
 * index for it. That walk (`OFFSET N` over the index, one per batch) cost a third of an in-order
 * table's index-range batches on 10 million rows; a range sized from the statistics costs nothing,
 * and a batch that finds more rows than they said shrinks the next ranges (`RangeSizer`).
 */
export interface TimeHistogram {
  /** timestamptz (the times sent back are UTC instants) or timestamp (wall-clock times read as UTC). */
  readonly withZone: boolean;
  /** The table's rows when the statistics were read (pg_class.reltuples). */
  readonly rows: number;
  /** Ascending; each bucket between two bounds holds the same share of the rows not among `common`. */
  readonly bounds: readonly number[];
  /** The share of all rows the buckets hold: 1 − null_frac − the common values' shares. */
  readonly bucketShare: number;
  /** Values many rows share (most_common_vals), each with its share of all rows. */
  readonly common: readonly { readonly at: number; readonly share: number }[];
  /** The rule's cutoff on the same clock. */
  readonly cutoff: number;
}

export async function readTimeHistogram(
  client: Client,
  oid: string,
  column: string,
  cutoff: string,
  rows: number,
): Promise<TimeHistogram | null> {
  type Row = {
    null_frac: number;
    with_zone: boolean;
    bounds: number[];
    common: number[];
    common_shares: number[];
    cutoff: number;
  };
  if (rows <= 0) return null;
  const row = (await client.query<Row>(loadSql('retention/time-histogram'), [oid, column, cutoff])).rows[0];
  if (!row) return null;
  const common = row.common.map((at, i) => ({ at, share: row.common_shares[i] ?? 0 }));
  const bucketShare = 1 - row.null_frac - common.reduce((sum, c) => sum + c.share, 0);
  const usable =
    row.bounds.length >= 2 &&
    row.bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b >= (row.bounds[i - 1] ?? b))) &&
    common.every((c) => Number.isFinite(c.at)) &&
    Number.isFinite(row.cutoff);
  if (!usable) return null;
  return {
    withZone: row.with_zone,
    rows,
    bounds: row.bounds,
    bucketShare: Math.max(0, bucketShare),
    common,
    cutoff: row.cutoff,
  };
}

/** Share of the buckets' rows below `at` (linear within a bucket, as the planner assumes). */
function bucketsBelow(h: TimeHistogram, at: number): number {
  const { bounds } = h;
  const last = bounds.length - 1;
  if (at <= (bounds[0] ?? 0)) return 0;
  if (at >= (bounds[last] ?? 0)) return 1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((bounds[mid] ?? 0) <= at) lo = mid;
    else hi = mid;
  }
  const start = bounds[lo] ?? 0;
  const width = (bounds[hi] ?? 0) - start;
  return (lo + (width > 0 ? (at - start) / width : 1)) / last;
}

/** The rows the statistics put in [from, until). */
export function rowsBetween(h: TimeHistogram, from: number, until: number): number {
  const inBuckets = (bucketsBelow(h, until) - bucketsBelow(h, from)) * h.bucketShare;
  const inCommon = h.common.reduce((sum, c) => (c.at >= from && c.at < until ? sum + c.share : sum), 0);
  return (inBuckets + inCommon) * h.rows;
}

/**
 * Where a range from `from` holding about `rows` rows ends, in whole milliseconds: `'cutoff'` when
 * every row left before the cutoff fits; null when the statistics cannot say (the range would go past
 * the newest time they saw, where rows added since are uncounted, or `from` lies before the oldest, or
 * one millisecond already holds more: ties the caller cuts by walking the index).
 */
export function rangeEnd(h: TimeHistogram, from: number, rows: number): number | 'cutoff' | null {
  const first = h.bounds[0] ?? 0;
  const newest = h.bounds[h.bounds.length - 1] ?? 0;
  if (from < first) return null;
  if (h.cutoff <= newest && rowsBetween(h, from, h.cutoff) <= rows) return 'cutoff';
  const limit = Math.min(h.cutoff, newest);
  let lo = Math.floor(from) + 1;
  if (lo >= limit || rowsBetween(h, from, lo) > rows) return null;
  let hi = Math.floor(limit);
  if (rowsBetween(h, from, hi) <= rows) return h.cutoff <= newest ? hi : null;
  // The last millisecond whose range still holds no more than `rows`.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (rowsBetween(h, from, mid) <= rows) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The text of a time on the column's own clock, for a bind parameter the server reads as the column's type. */
export function timeText(h: Pick<TimeHistogram, 'withZone'>, at: number): string {
  const iso = new Date(at).toISOString();
  return h.withZone ? iso : iso.slice(0, -1);
}
