import type { Client } from 'pg';

export type CheckStatus = 'ok' | 'warning' | 'critical' | 'unknown';

/** Worst first: the run's status is the worst of its checks. */
export const STATUS_ORDER: readonly CheckStatus[] = ['ok', 'unknown', 'warning', 'critical'];

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** One line a human reads in the CLI, the alert and the dashboard. */
  readonly message: string;
  /** The measured value the thresholds apply to, in `unit`. */
  readonly value?: number;
  readonly unit?: 'ms' | 'seconds' | 'percent' | 'bytes' | 'count';
  readonly details?: Record<string, unknown>;
}

export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>(
    (worst, s) => (STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(worst) ? s : worst),
    'ok',
  );
}

/** What one check is handed: an open session and the run's clock. */
export interface CheckInput {
  readonly client: Client;
  readonly now: () => Date;
}
