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
