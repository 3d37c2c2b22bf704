import type { TargetConfig } from '../shared/config/schema';
import type { ObjectStore } from '../shared/store';

/** `skipped`: the check's prerequisite is absent (no extension, no standby, no backup store). */
export type CheckStatus = 'ok' | 'warning' | 'critical' | 'unknown' | 'skipped';
/** A run is never `skipped` as a whole: skipped checks do not count towards it. */
export type OverallStatus = Exclude<CheckStatus, 'skipped'>;

/** Least to most severe: the run's status is the worst of its checks (Nagios ranks unknown below warning). */
export const STATUS_ORDER: readonly OverallStatus[] = ['ok', 'unknown', 'warning', 'critical'];

export type CheckUnit = 'ms' | 'seconds' | 'percent' | 'bytes' | 'count';

/** Thresholds as the user wrote them (or the defaults), for the result and the table. */
export interface ThresholdText {
  readonly warning: string | null;
  readonly critical: string | null;
}

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** The measured value the thresholds apply to, in `unit`; null when there is none. */
  readonly value: number | null;
  readonly unit: CheckUnit | null;
  readonly thresholds: ThresholdText;
  /** One line a human reads in the CLI, the alert and the dashboard. */
  readonly message: string;
  readonly details: Record<string, unknown>;
  /** What to do about a non-ok status; null when ok. */
  readonly recommendation: string | null;
}

export function worstStatus(statuses: readonly CheckStatus[]): OverallStatus {
  return statuses.reduce<OverallStatus>((worst, s) => {
    if (s === 'skipped') return worst;
    return STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(worst) ? s : worst;
  }, 'ok');
}

/** Runs one statement in the suite's read-only transaction; values always as bind parameters. */
export type Query = <Row = Record<string, unknown>>(sql: string, values?: unknown[]) => Promise<Row[]>;

/** What one check is handed. */
export interface CheckInput {
  readonly query: Query;
  readonly now: () => Date;
  readonly targetName: string;
  readonly target: TargetConfig;
  /** The backup store, or undefined when the config names none. */
  readonly store: ObjectStore | undefined;
  /** Parsed thresholds of this check, in the check's unit. */
  readonly thresholds: ParsedThresholds;
  /** What this check remembered at the previous run (see Measurement.memory). */
  readonly memory: unknown;
  /** How long opening the suite's connection took. */
  readonly connectMs: number;
  /** The server's server_version_num (150018 for 15.18): version-specific SQL is chosen by it. */
  readonly serverVersionNum: number;
}

export interface ParsedThresholds {
  readonly warning: number | null;
  readonly critical: number | null;
  /** Size floor in bytes for checks that have one (bloat, unused indexes). */
  readonly minSizeBytes: number | null;
  /** replication_slots: how long a slot may stay inactive, in seconds. */
  readonly inactiveForSeconds: number | null;
  /** count-or-share checks: which limits are shares ("80%") of the measured total, not counts. */
  readonly share?: { readonly warning: boolean; readonly critical: boolean };
}

/** What a check measures; the suite turns it into a CheckResult by applying the thresholds. */
export type Measurement =
  | { readonly skipped: string; readonly details?: Record<string, unknown>; readonly memory?: unknown }
  | {
      readonly value: number | null;
      readonly message: string;
      readonly details?: Record<string, unknown>;
      /** A status the check sets regardless of thresholds (a failed drill); the worse one wins. */
      readonly atLeast?: CheckStatus;
      /** count-or-share checks: the whole the value is part of (usable connections). */
      readonly total?: number;
      /** Shown when the status is not ok. */
      readonly recommendation: string;
      /** Small JSON kept in the state object until the next run (e.g. since when a slot is inactive). */
      readonly memory?: unknown;
    };

/** `count-or-share`: a number is a count, "80%" a share of the total the measurement reports. */
export type ThresholdKind = 'duration' | 'percent' | 'size' | 'count' | 'count-or-share';

export interface HealthCheck {
  readonly name: string;
  readonly unit: CheckUnit;
  /** How thresholds are written in the config. */
  readonly kind: ThresholdKind;
  /** Percent checks of a share can reach 100%; one of a limit (WAL vs max_wal_size) can exceed it. */
  readonly maxPercent?: number;
  /** 'below': lower is worse (cache hit ratio). */
  readonly direction?: 'above' | 'below';
  readonly defaults: {
    readonly warning: string | number | null;
    readonly critical: string | number | null;
    readonly minSize?: string;
    readonly inactiveFor?: string;
  };
  /** A size floor taken from elsewhere in the target's config when health's is not set. */
  floor?(target: Pick<TargetConfig, 'reindex'> | undefined): string | undefined;
  run(input: CheckInput): Promise<Measurement>;
}
