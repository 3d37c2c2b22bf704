/** Bloat estimates, as a percentage of an index's current size that a fresh build would not need. */

export interface PgstatindexRow {
  readonly index_size: number;
  readonly internal_pages: number;
  readonly leaf_pages: number;
  readonly empty_pages: number;
  readonly deleted_pages: number;
  /** Percent; NaN when the index has no leaf pages. */
  readonly avg_leaf_density: number;
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, value));

/** From the statistical estimate: what a fresh build would take versus what the index takes now. */
export function bloatFromExpectedSize(sizeBytes: number, expectedBytes: number | null): number | null {
  if (expectedBytes === null || sizeBytes <= 0) return null;
  return clampPercent((100 * (sizeBytes - expectedBytes)) / sizeBytes);
}

/**
 * From pgstatindex: a fresh build packs leaves to the fillfactor, so leaves at a lower density, and
 * empty or deleted pages, are the bloat. Internal pages and the metapage are counted as needed.
 */
export function bloatFromPgstatindex(stats: PgstatindexRow, fillfactor: number, blockSize: number): number {
  const totalPages = stats.index_size / blockSize;
  if (totalPages <= 1 || stats.leaf_pages === 0 || !Number.isFinite(stats.avg_leaf_density)) return 0;
  const packing = Math.min(1, stats.avg_leaf_density / fillfactor);
  const neededPages = 1 + stats.internal_pages + stats.leaf_pages * packing;
  return clampPercent(100 * (1 - neededPages / totalPages));
}
