import type { BatchShape } from './batch-shape';

type WhereValue = string | number | boolean | null;

/** Why a rule stopped: it finished, hit its cap, ran out of time, or could not get a lock in time. */
export type StopReason = 'done' | 'maxRowsPerRun' | 'timeBudget' | 'lockTimeout';

interface RuleIdentity {
  /** Schema-qualified, as the catalog resolved it: `public.audit_logs`. */
  readonly table: string;
  readonly column: string;
  readonly olderThan: string;
  /** Rows (or partitions ending) before this instant go; the database clock, read once per run. */
  readonly cutoff: string;
  /** The rule's `where`, as configured. */
  readonly where?: Readonly<Record<string, WhereValue | readonly WhereValue[]>>;
  readonly partitions?: true;
  /** pg_partman maintains this partition set: it premakes, pgmaint only drops expired partitions. */
  readonly premakeBy?: 'pg_partman';
  /** A TimescaleDB hypertable: whole chunks go. */
  readonly hypertable?: true;
}

/** A TimescaleDB chunk a hypertable rule drops (or, dry, would drop). */
export interface ChunkInfo {
  /** Schema-qualified: `_timescaledb_internal._hyper_1_4_chunk`. */
  readonly chunk: string;
  readonly rangeStart: string;
  /** At or before the cutoff: no row in the chunk is newer. */
  readonly rangeEnd: string;
  readonly bytes: number;
}

export interface RuleOutcome extends RuleIdentity {
  readonly rowsDeleted: number;
  readonly partitionsDropped: readonly string[];
  readonly partitionsCreated: readonly string[];
  readonly batches: number;
  readonly durationMs: number;
  readonly stoppedBecause: StopReason;
  /** Rows still past the cutoff when the rule stopped early (null: not counted in time). */
  readonly rowsLeft?: number | null;
  /** Row rules that ran: what one batch covered (a time-index range, a heap page range, a scan). */
  readonly batchShape?: BatchShape;
  /** Why that shape: the catalog's figures (pg_stats.correlation, index, version), or what batches measured. */
  readonly batchShapeReason?: string;
  /** Expired rows another session held (an open transaction's lock): skipped, the next run gets them. */
  readonly heldRowsSkipped?: number;
  /** Row rules that ran: time spent pausing between batches (`pauseAfterBatch`, a replica catching up). */
  readonly pausedMs?: number;
  /** Hypertable rules: the chunks dropped. */
  readonly chunksDropped?: readonly ChunkInfo[];
}

/** What running a rule produced, before the rule's description and duration are added. */
export type RuleWork = Omit<RuleOutcome, keyof RuleIdentity | 'durationMs'>;

export interface RulePreview extends RuleIdentity {
  readonly rowsToDelete: number;
  readonly partitionsToDrop: readonly string[];
  readonly partitionsToCreate: readonly string[];
  /** The oldest time among the rows the rule covers. */
  readonly oldestRow: string | null;
  readonly tableBytes: number;
  /** Hypertable rules: the chunks that would be dropped. */
  readonly chunksToDrop?: readonly ChunkInfo[];
}

export interface RetentionRun {
  readonly target: string;
  readonly status: 'complete' | 'incomplete';
  readonly dryRun: false;
  readonly rules: readonly RuleOutcome[];
  readonly totalRowsDeleted: number;
  /** Tables vacuumed (VACUUM (ANALYZE)) because a large share of their rows went. */
  readonly vacuumed: readonly string[];
  readonly warnings: readonly string[];
}

export interface RetentionPreview {
  readonly target: string;
  readonly status: 'complete';
  readonly dryRun: true;
  readonly rules: readonly RulePreview[];
  readonly totalRowsToDelete: number;
  readonly warnings: readonly string[];
}

export type RetentionResult = RetentionRun | RetentionPreview;
