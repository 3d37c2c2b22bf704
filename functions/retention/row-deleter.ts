import type { Client } from 'pg';
import { JobError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { batchCeiling, nextBatchSize, type Pacing, pauseAfter, sleep, stepFits } from './pacing';
import { LOCK_NOT_AVAILABLE, QUERY_CANCELED, sqlState } from './pg-errors';
import { rowPredicate } from './predicate';
import type { StopReason } from './result';
import { qualifiedName, type RowRule } from './rules';
import { fixed, ident, identList, retentionSql } from './sql-template';

export interface RowDeletion {
  readonly rowsDeleted: number;
  readonly batches: number;
  readonly stoppedBecause: StopReason;
}

export interface DeletionDeps {
  readonly client: Client;
  readonly logger: Logger;
  readonly remainingMs: () => number;
  readonly pacing: Pacing;
}

/**
 * Deletes a row rule's expired rows in batches, each its own short transaction, until none are
 * left, the rule's cap is reached, or the time budget runs out. With an index on the time column,
 * each batch starts where the previous one ended instead of re-reading what is already gone.
 */
export async function deleteExpiredRows(
  deps: DeletionDeps,
  rule: RowRule,
  cutoff: string,
): Promise<RowDeletion> {
  const { client, logger, pacing } = deps;
  const ceiling = batchCeiling(rule.estimatedRows, pacing);
  let size = Math.min(pacing.initialBatch, ceiling);
  let from: string | undefined;
  let rowsDeleted = 0;
  let batches = 0;
  let slowestMs = 0;
  let lockFailures = 0;
  const stop = (stoppedBecause: StopReason): RowDeletion => ({ rowsDeleted, batches, stoppedBecause });
  for (;;) {
    if (!stepFits(deps.remainingMs(), slowestMs, pacing)) return stop('timeBudget');
    const cap =
      rule.maxRowsPerRun === undefined ? Number.POSITIVE_INFINITY : rule.maxRowsPerRun - rowsDeleted;
    if (cap <= 0) return stop('maxRowsPerRun');
    const limit = Math.min(size, cap);
    const started = performance.now();
    let batch: { deleted: number; newest: string | null };
    try {
      batch = await deleteBatch(client, rule, cutoff, from, limit);
    } catch (error) {
      const state = sqlState(error);
      if (state === LOCK_NOT_AVAILABLE) {
        // Someone holds a table lock (an ALTER, a long LOCK TABLE): back off, retry, then give up for this run.
        lockFailures++;
        logger.warn(
          `retention ${qualifiedName(rule)}: lock timeout (${lockFailures}/${pacing.lockAttempts})`,
        );
        if (lockFailures >= pacing.lockAttempts) return stop('lockTimeout');
        await sleep(pacing.lockRetryMs);
        continue;
      }
      if (state === QUERY_CANCELED && size > pacing.minBatch) {
        size = Math.max(pacing.minBatch, Math.floor(size / 10));
        logger.warn(`retention ${qualifiedName(rule)}: batch timed out, retrying with ${size} rows`);
        continue;
      }
      throw new JobError(`deleting from ${qualifiedName(rule)} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const elapsedMs = performance.now() - started;
    batches++;
    rowsDeleted += batch.deleted;
    slowestMs = Math.max(slowestMs, elapsedMs);
    if (rule.indexed && batch.newest !== null) from = batch.newest;
    logger.debug(`retention ${qualifiedName(rule)}: batch ${batches}`, {
      deleted: batch.deleted,
      limit,
      ms: Math.round(elapsedMs),
    });
    // Fewer than asked: nothing expired is left that no one else holds a lock on.
    if (batch.deleted < limit) return stop('done');
    size = nextBatchSize(size, elapsedMs, ceiling, pacing);
    await sleep(pauseAfter(elapsedMs, pacing));
  }
}

async function deleteBatch(
  client: Client,
  rule: RowRule,
  cutoff: string,
  from: string | undefined,
  limit: number,
): Promise<{ deleted: number; newest: string | null }> {
  const predicate = rowPredicate(rule, { before: cutoff, from }, 2);
  const slots = {
    table: ident(rule.schema, rule.table),
    column: ident(rule.column),
    predicate: predicate.sql,
    order: rule.indexed ? fixed(`order by ${ident(rule.column)}`) : fixed(''),
  };
  const text = rule.key
    ? retentionSql('delete-batch-by-key', { ...slots, key: identList(rule.key) })
    : retentionSql('delete-batch-by-ctid', slots);
  const values = [limit, ...predicate.values];
  type Row = { deleted: number; newest: string | null };
  const read = (rows: Row[]) => ({ deleted: rows[0]?.deleted ?? 0, newest: rows[0]?.newest ?? null });
  // One statement is one transaction: the row locks last exactly as long as the batch.
  if (!rule.key) return read((await client.query<Row>(text, values)).rows);
  await client.query('begin');
  try {
    // A CTE's row estimate makes the planner hash-join the whole table to find a batch's keys again;
    // looking each one up by primary key is what a batch needs.
    await client.query('set local enable_hashjoin = off; set local enable_mergejoin = off');
    const result = read((await client.query<Row>(text, values)).rows);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

/** Expired rows still there (what an incomplete run leaves); null when counting takes too long. */
export async function countExpiredRows(client: Client, rule: RowRule, cutoff: string, timeoutMs: number) {
  const predicate = rowPredicate(rule, { before: cutoff }, 1);
  const text = retentionSql('count-expired', {
    table: ident(rule.schema, rule.table),
    predicate: predicate.sql,
  });
  await client.query('begin');
  try {
    await client.query(`set local statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    const rows = Number(
      (await client.query<{ rows: string }>(text, [...predicate.values])).rows[0]?.rows ?? 0,
    );
    await client.query('commit');
    return rows;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    if (sqlState(error) === QUERY_CANCELED) return null;
    throw error;
  }
}
