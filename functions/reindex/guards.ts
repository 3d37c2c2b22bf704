/**
 * The checks before each rebuild. REINDEX CONCURRENTLY waits for every older transaction in the
 * database, and a Lambda cut off mid-rebuild leaves an invalid index behind, so an index is
 * skipped (not failed) when either would bite.
 */

/** Conservative until measured: the server reads the table twice and writes the index once. */
export const ASSUMED_BYTES_PER_SECOND = 20 * 1024 ** 2;
/** Kept back from the deadline to drop a leftover and report if a rebuild has to be stopped. */
export const RESERVE_MS = 30_000;

export interface RebuildWork {
  readonly sizeBytes: number;
  readonly tableBytes: number;
}

export function workBytes(index: RebuildWork): number {
  return 2 * index.tableBytes + index.sizeBytes;
}

export function expectedDurationMs(index: RebuildWork, bytesPerSecond: number): number {
  return Math.ceil((workBytes(index) / bytesPerSecond) * 1000);
}

/** Why there is not enough time for this index, or undefined when there is. */
export function timeProblem(expectedMs: number, remainingMs: number): string | undefined {
  if (remainingMs - RESERVE_MS >= expectedMs) return undefined;
  return `not enough time left: the rebuild may take ~${seconds(expectedMs)} and ${seconds(Math.max(0, remainingMs))} remain (${seconds(RESERVE_MS)} kept for cleanup)`;
}

/** Why an open transaction blocks this index, or undefined. */
export function transactionProblem(
  oldest: { description: string; age_seconds: number } | undefined,
  limitSeconds: number,
): string | undefined {
  if (!oldest) return undefined;
  return `a transaction has been open for ${seconds(oldest.age_seconds * 1000)} (${oldest.description}), longer than maxTransactionAge (${seconds(limitSeconds * 1000)}); the rebuild would wait for it`;
}

/** The statement timeout for a rebuild: stop it before the deadline, with the reserve to clean up. */
export function statementTimeoutMs(remainingMs: number): number {
  return Number.isFinite(remainingMs) ? Math.max(1, Math.floor(remainingMs - RESERVE_MS)) : 0;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`;
}
