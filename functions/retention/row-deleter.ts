import type { Client } from 'pg';
import { JobError } from '../shared/errors';
import { inTransaction } from '../shared/in-transaction';
import type { Logger } from '../shared/logger';
import { type CancelBackend, cancelledOnStop } from '../shared/pg/cancel-on-stop';
import { resetSessionLimits, setSessionLimits } from '../shared/pg/session-limits';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { type BatchShape, chooseBatchShape, readLayout } from './batch-shape';
import { deleteAroundHeld } from './held-rows';
import {
  batchCeiling,
  nextBatchSize,
  type Pacing,
  pauseAfter,
  type Replicas,
  sleep,
  stepFits,
} from './pacing';
import { LOCK_NOT_AVAILABLE, QUERY_CANCELED, sqlState } from './pg-errors';
import { rowPredicate, type TimeBounds } from './predicate';
import { readReplicas } from './replicas';
import type { StopReason } from './result';
import { qualifiedName, type RowRule } from './rules';
import { rangeEnd, rowsBetween, type TimeHistogram, timeText } from './time-histogram';

export interface RowDeletion {
  readonly rowsDeleted: number;
  readonly batches: number;
  readonly stoppedBecause: StopReason;
  /** The shape the rule's batches ended with, and why (catalog figures, or what the first batches measured). */
  readonly batchShape: BatchShape;
  readonly batchShapeReason: string;
  /** Expired rows another session held when their batch came: left alone, the next run gets them. */
  readonly heldRowsSkipped: number;
  /** Time spent pausing between batches (`pauseAfterBatch`, a replica catching up). */
  readonly pausedMs: number;
}

export interface DeletionDeps {
  readonly client: Client;
  readonly logger: Logger;
  readonly remainingMs: () => number;
  readonly pacing: Pacing;
  /**
   * Aborted when the run must stop: the batch under way is cancelled on the server (rolled back
   * whole, `cancelBackend`), and no batch follows; each batch is committed or not at all.
   */
  readonly signal?: AbortSignal;
  readonly cancelBackend?: CancelBackend;
  /** Rows deleted so far by this rule, after each batch. */
  readonly onRows?: (rows: number) => void;
}

const NOTHING_TO_REPLAY: Replicas = { hidden: 0, behindBytes: 0 };

/** Tuples per page assumed for a table never vacuumed or analyzed (page-range sizes adapt from there). */
const UNKNOWN_TUPLES_PER_PAGE = 50;
/** A page range that found nothing expired grows by time alone, up to ceiling × 100 pages. */
const MIN_EXPIRED_PER_PAGE = 0.01;

interface Batch {
  readonly deleted: number;
  /** The batch reached the end of what is expired (for its shape). */
  readonly last: boolean;
  readonly held: readonly string[];
}

/**
 * Deletes a row rule's expired rows in batches, each its own short transaction, until none are left,
 * the rule's cap is reached, or the time budget runs out. The batch shape comes from the catalog
 * (batch-shape.ts); when it cannot tell, the first two batches try an index range and a page range and
 * the faster one stays. A batch deletes without locking first and waits at most
 * `pacing.directLockWaitMs` for a row an application holds; if one is held, the batch is redone in
 * halves around it (held-rows.ts) and the held row is left for the next run.
 */
export async function deleteExpiredRows(
  deps: DeletionDeps,
  rule: RowRule,
  cutoff: string,
): Promise<RowDeletion> {
  // Each batch is one statement in its own transaction, one round trip: its short lock wait is set
  // once for the rule's batches, not per transaction (SET LOCAL would cost three round trips more).
  await setSessionLimits(deps.client, { lockTimeoutMs: deps.pacing.directLockWaitMs });
  // The batches commit without waiting for their WAL to reach disk: a rule's hundred-odd commits then
  // cost about what the single DELETE's one commit costs, and the next batch runs while the WAL writer
  // flushes. Safe because deleting expired rows is idempotent: a batch a crash loses (at most the last
  // few hundred ms of them, wal_writer_delay × 3) comes back as rows still expired, and the next run
  // deletes them again. Not with synchronous standbys (the SQL says why). No other write of the run
  // (partition DDL, VACUUM) runs under it: reset when the rule's batches end.
  await deps.client.query(loadSql('retention/async-batch-commits'));
  try {
    return await deleteInBatches(deps, rule, cutoff);
  } finally {
    await deps.client.query('reset synchronous_commit');
    await resetSessionLimits(deps.client, ['lockTimeoutMs']);
  }
}

async function deleteInBatches(deps: DeletionDeps, rule: RowRule, cutoff: string): Promise<RowDeletion> {
  const { client, logger, pacing } = deps;
  const layout = await readLayout(client, rule, cutoff);
  const choice = chooseBatchShape(rule.column, layout);
  let shape: BatchShape = choice.shape === 'measure' ? 'indexRange' : choice.shape;
  let reason = choice.reason;
  const measured = new Map<BatchShape, number>();
  const tuplesPerPage = layout.tuplesPerPage ?? UNKNOWN_TUPLES_PER_PAGE;
  const ceiling = batchCeiling(rule.estimatedRows, pacing);
  // Until a page range has measured how many expired rows a page holds: every row on it.
  let pageCeiling = Math.max(1, Math.floor(ceiling / tuplesPerPage));
  let size = Math.min(pacing.initialBatch, ceiling);
  let pageCount = Math.max(1, Math.min(pageCeiling, Math.round(pacing.initialBatch / tuplesPerPage)));
  const cursor: Cursor = {
    from: undefined,
    fromMs: undefined,
    denser: 1,
    page: 0,
    endPage: layout.pages,
    extended: false,
  };
  const held: string[] = [];
  let rowsDeleted = 0;
  let batches = 0;
  let slowestMs = 0;
  let lockFailures = 0;
  let replicas: Replicas = NOTHING_TO_REPLAY;
  let pausedMs = 0;
  let replicasReadAt: number | undefined;
  const stop = (stoppedBecause: StopReason): RowDeletion => ({
    rowsDeleted,
    batches,
    stoppedBecause,
    batchShape: shape,
    batchShapeReason: reason,
    heldRowsSkipped: held.length,
    pausedMs: Math.round(pausedMs),
  });
  logger.debug(`retention ${qualifiedName(rule)}: ${shape} batches (${reason})`);
  for (;;) {
    deps.signal?.throwIfAborted();
    if (!stepFits(deps.remainingMs(), slowestMs, pacing)) return stop('timeBudget');
    const cap =
      rule.maxRowsPerRun === undefined ? Number.POSITIVE_INFINITY : rule.maxRowsPerRun - rowsDeleted;
    if (cap <= 0) return stop('maxRowsPerRun');
    const limit = Math.min(size, cap);
    const batchDeps = { client, rule, cutoff, pacing, held, histogram: layout.histogram };
    const started = performance.now();
    let batch: Batch;
    try {
      batch = await cancelledOnStop(client, deps, () => {
        if (shape === 'indexRange') return indexRangeBatch(batchDeps, cursor, limit);
        if (shape === 'tidRange') return tidRangeBatch(batchDeps, cursor, pageCount, cap);
        return scanBatch(batchDeps, limit);
      });
    } catch (error) {
      // Cancelled by a stop, not by the statement timeout: the batch rolled back, nothing follows.
      if (deps.signal?.aborted) throw deps.signal.reason;
      const state = sqlState(error);
      if (state === LOCK_NOT_AVAILABLE) {
        // Someone holds a table lock (an ALTER, a long LOCK TABLE): back off, retry, then give up for this run.
        lockFailures++;
        logger.warn(
          `retention ${qualifiedName(rule)}: lock timeout (${lockFailures}/${pacing.lockAttempts})`,
        );
        if (lockFailures >= pacing.lockAttempts) return stop('lockTimeout');
        await sleep(pacing.lockRetryMs, deps.signal);
        continue;
      }
      if (state === QUERY_CANCELED && (size > pacing.minBatch || pageCount > 1)) {
        size = Math.max(pacing.minBatch, Math.floor(size / 10));
        pageCount = Math.max(1, Math.floor(pageCount / 10));
        logger.warn(`retention ${qualifiedName(rule)}: batch timed out, retrying smaller`);
        continue;
      }
      throw new JobError(`deleting from ${qualifiedName(rule)} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const elapsedMs = performance.now() - started;
    batches++;
    rowsDeleted += batch.deleted;
    deps.onRows?.(rowsDeleted);
    slowestMs = Math.max(slowestMs, elapsedMs);
    if (batch.held.length > 0) {
      held.push(...batch.held);
      logger.info(
        `retention ${qualifiedName(rule)}: ${batch.held.length} expired rows held by another session, left for the next run`,
      );
    }
    logger.debug(`retention ${qualifiedName(rule)}: batch ${batches} (${shape})`, {
      deleted: batch.deleted,
      limit,
      pages: shape === 'tidRange' ? pageCount : undefined,
      ms: Math.round(elapsedMs),
    });
    if (choice.shape === 'measure' && measured.size < 2 && !batch.last) {
      // The catalog could not tell: one batch of each range shape, then the faster one stays.
      measured.set(shape, batch.deleted / Math.max(elapsedMs, 1));
      if (measured.size === 1) {
        shape = 'tidRange';
        continue;
      }
      const byIndex = measured.get('indexRange') ?? 0;
      const byPages = measured.get('tidRange') ?? 0;
      shape = byIndex > byPages ? 'indexRange' : 'tidRange';
      reason = `${choice.reason}; measured ${perSecond(byIndex)} rows/s by index ranges, ${perSecond(byPages)} by page ranges`;
      logger.info(`retention ${qualifiedName(rule)}: ${shape} batches (${reason})`);
      continue;
    }
    // Nothing expired is left (but rows someone held or changed meanwhile: the next run looks again).
    if (batch.last) return stop('done');
    if (shape === 'tidRange') {
      // The lock ceiling is on rows deleted, not pages read: pages with few expired rows (the young end
      // of the table, a `where` few rows match) go by in larger ranges.
      const density = Math.max(batch.deleted / pageCount, MIN_EXPIRED_PER_PAGE);
      pageCeiling = Math.max(1, Math.floor(ceiling / Math.min(density, tuplesPerPage)));
      pageCount = nextPageCount(pageCount, elapsedMs, pageCeiling, pacing);
    } else size = nextBatchSize(size, elapsedMs, ceiling, pacing);
    // A batch that deleted nothing (young pages a page range only read) wrote nothing for a replica to
    // catch up on; a rest (`restShare`) is for the CPU it used all the same.
    if (
      batch.deleted > 0 &&
      (replicasReadAt === undefined || performance.now() - replicasReadAt >= pacing.replicaCheckMs)
    ) {
      replicas = await readReplicas(client);
      replicasReadAt = performance.now();
    }
    const pauseMs = pauseAfter(elapsedMs, batch.deleted > 0 ? replicas : NOTHING_TO_REPLAY, pacing);
    pausedMs += pauseMs;
    await sleep(pauseMs, deps.signal);
  }
}

const perSecond = (rowsPerMs: number) => Math.round(rowsPerMs * 1000).toLocaleString('en-US');

/** Page ranges scale toward the target duration like row batches, never below one page. */
function nextPageCount(current: number, elapsedMs: number, ceiling: number, pacing: Pacing): number {
  return Math.max(1, nextBatchSize(current, elapsedMs, ceiling, { ...pacing, minBatch: 1 }));
}

/** Where each shape's scan goes on: the time index's keyset, the next heap page. */
interface Cursor {
  from: string | undefined;
  /** `from` in epoch milliseconds on the column's clock (to size the next range from the statistics). */
  fromMs: number | undefined;
  /**
   * How many times more rows the last statistics-sized range held than the statistics said (never
   * below 1): rows added since the last ANALYZE, a burst the histogram's buckets smooth over. The next
   * range is that much shorter.
   */
  denser: number;
  page: number;
  endPage: number;
  /** The pass has looked once more at pages added while it ran (rows updated meanwhile move there). */
  extended: boolean;
}

interface BatchDeps {
  readonly client: Client;
  readonly rule: RowRule;
  readonly cutoff: string;
  readonly pacing: Pacing;
  readonly held: readonly string[];
  /** Set when index ranges are sized from the time column's statistics (batch-shape.ts). */
  readonly histogram: TimeHistogram | null;
}

/**
 * Deletes every expired row in one slice, directly (no FOR UPDATE); a held row makes the slice be
 * redone around it.
 */
async function deleteSlice(
  deps: BatchDeps,
  slice: TimeBounds,
): Promise<{ deleted: number; held: readonly string[] }> {
  const { client, rule, pacing } = deps;
  const predicate = rowPredicate(rule, slice, 1);
  try {
    // One statement, its own transaction: its row locks last exactly as long as the batch, and it
    // waits at most the rule's short lock_timeout (deleteExpiredRows) for a held row.
    const text = sqlWithSlots('retention/delete-batch-range', {
      table: ident(rule.schema, rule.table),
      predicate: predicate.sql,
    });
    const deleted = (await client.query(text, [...predicate.values])).rowCount ?? 0;
    return { deleted, held: [] };
  } catch (error) {
    if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
    return deleteAroundHeld(client, rule, slice, null, pacing.directLockWaitMs, deps.held.length);
  }
}

/**
 * The next `limit` expired rows in time order, as a range of the time column: from `from` up to a time
 * the statistics put about `limit` rows before (`sizedRange`), or else the time of the row after them,
 * found by walking the index. When ties fill the whole range (a `date` column, one day holding more
 * than a batch), it cannot be cut there: that batch takes up to `limit` rows of the range's scan.
 */
async function indexRangeBatch(deps: BatchDeps, cursor: Cursor, limit: number): Promise<Batch> {
  const sized = await sizedRange(deps, cursor, limit);
  if (sized) return sized;
  const { client, rule, cutoff, held } = deps;
  const exclude = held.length > 0 ? held : undefined;
  const scan = rowPredicate(rule, { before: cutoff, from: cursor.from, exclude }, 2);
  const boundText = sqlWithSlots('retention/batch-upper-bound', {
    table: ident(rule.schema, rule.table),
    column: ident(rule.column),
    predicate: scan.sql,
  });
  type Bound = { upper: string; upper_ms: number };
  const bound = (await client.query<Bound>(boundText, [limit, ...scan.values])).rows[0];
  const upper = bound?.upper ?? null;
  if (upper !== null && upper === cursor.from)
    return limitedBatch(deps, { before: cutoff, from: cursor.from, exclude }, limit);
  const slice = { before: cutoff, from: cursor.from, until: upper ?? undefined, exclude };
  const done = await deleteSlice(deps, slice);
  if (upper !== null) {
    cursor.from = upper;
    cursor.fromMs = bound?.upper_ms;
  }
  return { ...done, last: upper === null };
}

/**
 * A range batch whose end the time column's statistics give, with no walk of the index; null when they
 * cannot say (the caller walks it). After the batch, a range that held more rows than they said makes
 * the next ones shorter by as much.
 */
async function sizedRange(deps: BatchDeps, cursor: Cursor, limit: number): Promise<Batch | null> {
  const { histogram } = deps;
  if (!histogram || cursor.from === undefined || cursor.fromMs === undefined) return null;
  const from = cursor.fromMs;
  const end = rangeEnd(histogram, from, limit / cursor.denser);
  if (end === null) return null;
  const endMs = end === 'cutoff' ? histogram.cutoff : end;
  const until = end === 'cutoff' ? undefined : timeText(histogram, endMs);
  const exclude = deps.held.length > 0 ? deps.held : undefined;
  const done = await deleteSlice(deps, { before: deps.cutoff, from: cursor.from, until, exclude });
  cursor.denser = Math.max(1, done.deleted / Math.max(rowsBetween(histogram, from, endMs), 1));
  if (until === undefined) return { ...done, last: true };
  cursor.from = until;
  cursor.fromMs = endMs;
  return { ...done, last: false };
}

/**
 * The expired rows on the next `pageCount` heap pages. The pass ends at the table's size when the rule
 * started, then looks once at pages added since (rows the application updated meanwhile move there).
 */
async function tidRangeBatch(
  deps: BatchDeps,
  cursor: Cursor,
  pageCount: number,
  cap: number,
): Promise<Batch> {
  const { rule, cutoff, held, client } = deps;
  if (cursor.page >= cursor.endPage) {
    const now = Number(
      (await client.query<{ pages: string }>(loadSql('retention/table-pages'), [rule.oid])).rows[0]?.pages ??
        0,
    );
    if (cursor.extended || now <= cursor.endPage) {
      return { deleted: 0, last: true, held: [] };
    }
    cursor.extended = true;
    cursor.endPage = now;
  }
  const to = Math.min(cursor.page + pageCount, cursor.endPage);
  const slice = {
    before: cutoff,
    pages: { from: cursor.page, to },
    exclude: held.length > 0 ? held : undefined,
  };
  if (Number.isFinite(cap)) {
    // Under a cap: at most that many rows of these pages; the pages are left only once none is left there.
    const done = await limitedBatch(deps, slice, cap);
    if (done.last) cursor.page = to;
    return { ...done, last: false };
  }
  const done = await deleteSlice(deps, slice);
  cursor.page = to;
  return { ...done, last: false };
}

/** Up to `limit` expired rows wherever a scan finds them (no usable index, no TID range scan). */
async function scanBatch(deps: BatchDeps, limit: number): Promise<Batch> {
  const { cutoff, held } = deps;
  return limitedBatch(deps, { before: cutoff, exclude: held.length > 0 ? held : undefined }, limit);
}

/** At most `limit` rows of a slice, deleted by ctid; a held row makes them be redone around it. */
async function limitedBatch(deps: BatchDeps, slice: TimeBounds, limit: number): Promise<Batch> {
  const { client, rule, pacing } = deps;
  const predicate = rowPredicate(rule, slice, 2);
  const text = sqlWithSlots('retention/delete-batch-limited', {
    table: ident(rule.schema, rule.table),
    predicate: predicate.sql,
  });
  try {
    // One statement, its own transaction, under the rule's short lock_timeout (as deleteSlice).
    type Row = { found: number; deleted: number };
    const row = (await client.query<Row>(text, [limit, ...predicate.values])).rows[0];
    // Fewer found than asked: nothing expired is left in the slice that is not held.
    return { deleted: row?.deleted ?? 0, last: (row?.found ?? 0) < limit, held: [] };
  } catch (error) {
    if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
    const done = await deleteAroundHeld(
      client,
      rule,
      slice,
      limit,
      pacing.directLockWaitMs,
      deps.held.length,
    );
    return { ...done, last: false };
  }
}

/** Expired rows still there (what an incomplete run leaves); null when counting takes too long. */
export async function countExpiredRows(client: Client, rule: RowRule, cutoff: string, timeoutMs: number) {
  const predicate = rowPredicate(rule, { before: cutoff }, 1);
  const text = sqlWithSlots('retention/count-expired', {
    table: ident(rule.schema, rule.table),
    predicate: predicate.sql,
  });
  try {
    return await inTransaction(
      client,
      async () =>
        Number((await client.query<{ rows: string }>(text, [...predicate.values])).rows[0]?.rows ?? 0),
      { statementTimeoutMs: timeoutMs },
    );
  } catch (error) {
    if (sqlState(error) === QUERY_CANCELED) return null;
    throw error;
  }
}
