import type { ReindexConfig } from '../shared/config/schema';
import type { AnalyzedTable, NotEstimated } from './candidates';

export type IndexStatus = 'rebuilt' | 'failed' | 'skipped' | 'candidate';

export interface IndexOutcome {
  /** schema.index */
  readonly name: string;
  /** schema.table */
  readonly table: string;
  readonly sizeBefore: number;
  /** Null when not rebuilt (dry run, skipped, failed). */
  readonly sizeAfter: number | null;
  /** Estimated bloat before, percent of sizeBefore. */
  readonly bloatBefore: number;
  readonly estimate: 'pgstatindex' | 'statistics';
  /** Bytes a rebuild is expected to free (sizeBefore × bloatBefore). */
  readonly expectedGain: number;
  readonly durationMs: number | null;
  readonly status: IndexStatus;
  /** Why it was skipped or failed. */
  readonly reason?: string;
}

export type ReindexStatus = 'ok' | 'failed' | 'already running' | 'dry run';

export interface ReindexResult {
  readonly target: string;
  readonly status: ReindexStatus;
  readonly mode: ReindexConfig['mode'];
  readonly indexes: readonly IndexOutcome[];
  /** Indexes of at least minSize whose bloat could not be estimated: why, and what would let it be. */
  readonly notEstimated: readonly NotEstimated[];
  /**
   * Tables analyzed first because their statistics were missing or stale (dry runs too: ANALYZE
   * changes only planner statistics, and both runs then list the same candidates).
   */
  readonly analyzed: readonly AnalyzedTable[];
  /** Invalid *_ccnew / *_ccold indexes left by an interrupted rebuild and dropped (dry run: found). */
  readonly droppedLeftovers: readonly string[];
  /** Index bytes freed: rebuilt indexes' shrinkage plus dropped leftovers (database mode: all indexes). */
  readonly bytesReclaimed: number;
  /** Invalid indexes that are not leftovers: for a human to look at, never touched. */
  readonly invalidIndexes: readonly string[];
  /** Tables vacuumed with VACUUM (ANALYZE, SKIP_LOCKED) (vacuumAnalyze: true). */
  readonly vacuumed: readonly string[];
  /** Things that went wrong besides a failed rebuild (a leftover that could not be dropped, ...). */
  readonly problems: readonly string[];
  /** Database mode: how long REINDEX DATABASE took. */
  readonly durationMs?: number;
}
