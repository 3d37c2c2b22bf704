/**
 * How batches are paced. One batch should hold its row locks for about half a second: long enough to
 * be efficient, short enough that an application touching those rows barely notices.
 */
export interface Pacing {
  readonly initialBatch: number;
  readonly minBatch: number;
  readonly maxBatch: number;
  readonly targetBatchMs: number;
  /** Between batches: lets waiting writers, autovacuum and replicas catch up. */
  readonly pauseMs: number;
  /** Left untouched at the end of a Lambda run: reporting, alerting, releasing the lock. */
  readonly reserveMs: number;
}

export const DEFAULT_PACING: Pacing = {
  initialBatch: 1_000,
  minBatch: 100,
  maxBatch: 50_000,
  targetBatchMs: 500,
  pauseMs: 50,
  reserveMs: 10_000,
};

/** Scales the batch toward the target duration, at most doubling or halving per step. */
export function nextBatchSize(current: number, elapsedMs: number, pacing: Pacing = DEFAULT_PACING): number {
  const factor = Math.min(2, Math.max(0.5, pacing.targetBatchMs / Math.max(elapsedMs, 1)));
  return Math.round(Math.min(pacing.maxBatch, Math.max(pacing.minBatch, current * factor)));
}

/**
 * Whether another step fits before the deadline: the reserve plus three times the slowest step so
 * far, so a step that runs long still ends in time.
 */
export function stepFits(
  remainingMs: number,
  slowestStepMs: number,
  pacing: Pacing = DEFAULT_PACING,
): boolean {
  return remainingMs > pacing.reserveMs + 3 * slowestStepMs;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
