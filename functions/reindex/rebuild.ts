import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { type CancelBackend, cancelledOnStop } from '../shared/pg/cancel-on-stop';
import { NO_TIMEOUTS, setSessionLimits } from '../shared/pg/session-limits';
import { sqlWithSlots } from '../shared/pg/sql-names';
import type { Progress } from '../shared/progress';
import { loadSql } from '../shared/sql';
import { stoppedAfter } from '../shared/stop-signals';
import { formatBytes, formatDuration } from '../shared/units';
import { expectedGainBytes, type IndexEstimate } from './candidates';
import {
  ASSUMED_BYTES_PER_SECOND,
  expectedDurationMs,
  statementTimeoutMs,
  timeProblem,
  transactionProblem,
  workBytes,
} from './guards';
import { type CleanupOutcome, dropLeftovers, type Leftover } from './leftovers';
import type { IndexOutcome } from './result';
import type { Session } from './session';

export interface RebuildSettings {
  readonly maxTransactionAgeSeconds: number;
  readonly remainingMs: () => number;
  readonly logger: Logger;
  /**
   * Checked before each index; a rebuild under way when it aborts is cancelled (`cancelBackend`),
   * its leftover dropped as for any failed rebuild, and the run stops.
   */
  readonly signal?: AbortSignal;
  readonly cancelBackend?: CancelBackend;
  readonly progress?: Progress;
}

export interface RebuildOutcome {
  readonly indexes: IndexOutcome[];
  /** _ccnew / _ccold indexes dropped after a failed rebuild. */
  readonly droppedLeftovers: Leftover[];
  readonly problems: string[];
}

/**
 * After a stop, how long dropping the cancelled rebuild's leftover may wait for transactions on its
 * table: well inside the 30 s ECS leaves a task between SIGTERM and SIGKILL. A leftover that
 * cannot be dropped by then is the next run's to drop, first thing (dropLeftovers at its start).
 */
export const STOP_CLEANUP_LOCK_WAIT_MS = 10_000;

/** A rebuild shorter than this says more about waits than throughput; keep the assumed rate. */
const MIN_MEASURED_MS = 5_000;

/**
 * REINDEX INDEX CONCURRENTLY, one index at a time, each after its guards. A failed rebuild leaves
 * an invalid _ccnew (or _ccold) index behind; it is dropped at once, and the run goes on.
 */
export async function rebuildCandidates(
  session: Session,
  candidates: readonly IndexEstimate[],
  settings: RebuildSettings,
): Promise<RebuildOutcome> {
  const outcome: RebuildOutcome = { indexes: [], droppedLeftovers: [], problems: [] };
  const lockTimeoutMs = settings.maxTransactionAgeSeconds * 1000;
  let bytesPerSecond = ASSUMED_BYTES_PER_SECOND;
  let lockLost = false;
  for (const candidate of candidates) {
    settings.signal?.throwIfAborted();
    const planned = plannedOutcome(candidate);
    if (lockLost) {
      outcome.indexes.push({ ...planned, status: 'skipped', reason: 'the run lost its lock (see problems)' });
      continue;
    }
    const blocked = await guardProblem(session, candidate, settings, bytesPerSecond);
    if (blocked) {
      settings.logger.info(`reindex: skipping ${candidate.name}: ${blocked}`);
      outcome.indexes.push({ ...planned, status: 'skipped', reason: blocked });
      continue;
    }
    settings.logger.info(
      `reindex: rebuilding ${candidate.name} (${formatBytes(candidate.sizeBytes)}, ~${Math.round(candidate.bloatPercent ?? 0)}% bloat)`,
    );
    settings.progress?.update({
      phase: 'rebuilding',
      item: `${candidate.name} (${formatBytes(candidate.sizeBytes)})`,
    });
    const started = performance.now();
    try {
      await setSessionLimits(session.client, {
        statementTimeoutMs: statementTimeoutMs(settings.remainingMs()),
        lockTimeoutMs,
      });
      await cancelledOnStop(session.client, settings, () =>
        session.client.query(sqlWithSlots('reindex/reindex-index', { index: candidate.qualifiedName })),
      );
      const durationMs = Math.round(performance.now() - started);
      await setSessionLimits(session.client, NO_TIMEOUTS);
      const sizeAfter = Number(
        (
          await session.client.query<{ size_bytes: string }>(loadSql('reindex/index-size'), [
            candidate.qualifiedName,
          ])
        ).rows[0]?.size_bytes,
      );
      if (durationMs >= MIN_MEASURED_MS) {
        bytesPerSecond = Math.min(bytesPerSecond, (workBytes(candidate) / durationMs) * 1000);
      }
      settings.logger.info(
        `reindex: rebuilt ${candidate.name} in ${formatDuration(durationMs)}: ${formatBytes(candidate.sizeBytes)} → ${formatBytes(sizeAfter)}`,
      );
      outcome.indexes.push({ ...planned, sizeAfter, durationMs, status: 'rebuilt' });
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const reason = errorMessage(error);
      settings.logger.error(`reindex: rebuilding ${candidate.name} failed: ${reason}`);
      if (!(await session.revive())) {
        lockLost = true;
        outcome.problems.push(
          `the connection dropped while rebuilding ${candidate.name} and another run took the lock; its leftovers are that run's to clean`,
        );
        outcome.indexes.push({ ...planned, durationMs, status: 'failed', reason });
        continue;
      }
      await setSessionLimits(session.client, NO_TIMEOUTS).catch(() => {});
      const stopping = settings.signal?.aborted === true;
      const cleanup = await dropLeftovers(
        session.client,
        candidate.tableOid,
        stopping ? Math.min(lockTimeoutMs, STOP_CLEANUP_LOCK_WAIT_MS) : lockTimeoutMs,
      );
      if (stopping) throw stoppedAfter(settings.signal?.reason, stoppedRebuild(candidate.name, cleanup));
      outcome.droppedLeftovers.push(...cleanup.dropped);
      outcome.problems.push(...cleanup.problems);
      const cleaned =
        cleanup.problems.length > 0
          ? 'its leftover could not be dropped (see problems)'
          : cleanup.dropped.length > 0
            ? `dropped its leftover ${cleanup.dropped.map((d) => d.name).join(', ')}`
            : 'no leftover to drop';
      outcome.indexes.push({ ...planned, durationMs, status: 'failed', reason: `${reason}; ${cleaned}` });
    }
  }
  return outcome;
}

/** What a stop mid-rebuild left: the rebuild cancelled, its leftover dropped or the next run's. */
function stoppedRebuild(index: string, cleanup: CleanupOutcome): string {
  const dropped = cleanup.dropped.map((d) => d.name);
  const left = cleanup.problems.length > 0;
  return [
    `cancelled the rebuild of ${index}`,
    ...(dropped.length > 0 ? [`dropped its leftover ${dropped.join(', ')}`] : []),
    ...(left ? [`${cleanup.problems.join('; ')}; the next reindex run drops it before anything else`] : []),
  ].join('; ');
}

/** The outcome fields known before the rebuild; the status decides the rest. */
export function plannedOutcome(candidate: IndexEstimate): Omit<IndexOutcome, 'status'> {
  return {
    name: candidate.name,
    table: candidate.table,
    sizeBefore: candidate.sizeBytes,
    sizeAfter: null,
    bloatBefore: Math.round((candidate.bloatPercent ?? 0) * 10) / 10,
    estimate: candidate.estimate,
    expectedGain: expectedGainBytes(candidate),
    durationMs: null,
  };
}

async function guardProblem(
  session: Session,
  candidate: IndexEstimate,
  settings: RebuildSettings,
  bytesPerSecond: number,
): Promise<string | undefined> {
  const oldest = (
    await session.client.query<{ description: string; age_seconds: number }>(
      loadSql('reindex/old-transactions'),
      [settings.maxTransactionAgeSeconds],
    )
  ).rows[0];
  return (
    transactionProblem(oldest, settings.maxTransactionAgeSeconds) ??
    timeProblem(expectedDurationMs(candidate, bytesPerSecond), settings.remainingMs())
  );
}
