/**
 * How batches are paced. One batch should hold its row locks for about half a second: long enough to
 * be efficient, short enough that an application touching those rows barely notices.
 */
export interface Pacing {
  readonly initialBatch: number;
  readonly minBatch: number;
  readonly maxBatch: number;
  /**
   * The most of a table one batch may lock. While the batches run, an application updating random
   * old rows finds one locked in about half a batch's rows out of the old rows' count of its updates
   * (0.25% with this share on a half-expired table), and then waits for the rest of that batch. On the 10-million-row bench at 0.5%, those waits were the slowest of the writer's
   * statements (p99 of its updates of old rows 6.8–8.6 ms, of its inserts 5.3–7.1 ms, in the runs
   * where its p99 went over 2× idle); at 0.25% they left its p99 (updates 4.5–5.4 ms, inserts
   * 3.8–5.2 ms). Twice the batches cost no measurable time: 2 million expired rows in 50 or 100
   * statistics-sized ranges took 1.50–1.65 s and 1.51–1.57 s.
   */
  readonly maxLockedShare: number;
  readonly targetBatchMs: number;
  /**
   * Between batches, while a replica is behind (or may be: see `pauseAfter`), a share of the batch's
   * own time (within bounds) so that it catches up; otherwise none.
   */
  readonly pauseShare: number;
  /**
   * After every batch, whatever the replicas: a share of the batch's time given back to the server
   * (the rule's `pauseAfterBatch`; none by default, see `pauseAfter`).
   */
  readonly restShare: number;
  readonly minPauseMs: number;
  readonly maxPauseMs: number;
  /** WAL a replica may be behind (bytes, one WAL segment) before the batches pause for it. */
  readonly replicaLagBytes: number;
  /**
   * How often the replicas' positions are read between batches. Lag builds over seconds, and one
   * query after every batch was a round trip in each of them (batches run every 30-50 ms).
   */
  readonly replicaCheckMs: number;
  /**
   * How long a direct batch (deleting without locking first) may wait for a row an application
   * holds before it is rolled back and redone with SKIP LOCKED. Short: an application's own write
   * holds a row for a millisecond or two, and while the batch waits, the rows it already deleted
   * stay locked.
   */
  readonly directLockWaitMs: number;
  /** After a lock timeout: wait this long and try again, at most `lockAttempts` times in all. */
  readonly lockRetryMs: number;
  readonly lockAttempts: number;
  /** Left untouched at the end of a Lambda run: reporting, alerting, releasing the lock. */
  readonly reserveMs: number;
}

export const DEFAULT_PACING: Pacing = {
  initialBatch: 1_000,
  minBatch: 100,
  maxBatch: 100_000,
  maxLockedShare: 0.0025,
  targetBatchMs: 500,
  pauseShare: 0.1,
  restShare: 0,
  minPauseMs: 2,
  maxPauseMs: 100,
  replicaLagBytes: 16 * 1024 * 1024,
  replicaCheckMs: 1_000,
  directLockWaitMs: 50,
  lockRetryMs: 1_000,
  lockAttempts: 3,
  reserveMs: 10_000,
};

/** The batch size ceiling for a table of `estimatedRows` rows (never below the first batch). */
export function batchCeiling(estimatedRows: number, pacing: Pacing = DEFAULT_PACING): number {
  return Math.min(
    pacing.maxBatch,
    Math.max(pacing.initialBatch, Math.round(estimatedRows * pacing.maxLockedShare)),
  );
}

/**
 * Scales the batch toward the target duration: up to 4× per step while batches are quick (fixed costs
 * make small batches look slow per row, so growth is capped), down to half when one ran long.
 */
export function nextBatchSize(
  current: number,
  elapsedMs: number,
  ceiling: number,
  pacing: Pacing = DEFAULT_PACING,
): number {
  const factor = Math.min(4, Math.max(0.5, pacing.targetBatchMs / Math.max(elapsedMs, 1)));
  return Math.round(Math.min(ceiling, Math.max(pacing.minBatch, current * factor)));
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

/** What pg_stat_replication says of this server's replicas (streaming standbys, WAL receivers, logical walsenders). */
export interface Replicas {
  /** Replicas whose positions this role may not see (shown only to pg_read_all_stats, part of pg_monitor). */
  readonly hidden: number;
  /** How far the slowest of the others is behind this server's WAL, in bytes (0 without replicas). */
  readonly behindBytes: number;
}

/**
 * The pause after a batch that deleted rows. A replica replays the batches' WAL after the primary wrote
 * it: while one is behind (or may be, its position hidden), a share of the batch's time lets it catch up,
 * so the run never outruns it for long. Otherwise only the rest the config asks for (`restShare`,
 * `pauseAfterBatch`), none by default: nothing else waits for it (an application
 * waiting for one of the batch's rows gets it when the batch commits, not after a pause), and it did
 * not spare the application: 2 million rows in time order, 416-page batches, a writer running,
 * A-B-B-A twice (load 8 on 2 cores): a tenth of each batch's time gave 236-602k rows/s and a writer
 * p99 of 14-80 ms, 2 ms pauses 568-669k rows/s and 9-24 ms; 2 ms against none showed no difference
 * for the writer, and 2 ms is 6% of a 33 ms batch. A rest gives the server's CPU back instead: where
 * the application's own statements wait for a core, a batch that runs only part of the time helps them
 * (the README's retention figures).
 */
export function pauseAfter(batchMs: number, replicas: Replicas, pacing: Pacing = DEFAULT_PACING): number {
  const rest = batchMs * pacing.restShare;
  if (replicas.hidden === 0 && replicas.behindBytes <= pacing.replicaLagBytes) return Math.round(rest);
  const catchUp = Math.min(pacing.maxPauseMs, Math.max(pacing.minPauseMs, batchMs * pacing.pauseShare));
  return Math.round(Math.max(rest, catchUp));
}

/** Waits `ms`, or less when `signal` aborts meanwhile (the caller checks it next). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
