/**
 * Defaults more than one section reads. The reindex job's size floor is also health's index_bloat
 * floor, so that health never reports an index the reindex job would skip.
 */
export const REINDEX_MIN_SIZE = '100 MB';
export const REINDEX_MIN_BLOAT = '30%';
