import type { Client } from 'pg';
import { MAX_PAUSE_PERCENT } from '../shared/config/sections';
import { ConfigError } from '../shared/errors';
import type { JobContext } from '../shared/job';
import { cancelFromAnotherSession } from '../shared/pg/cancel-on-stop';
import { loadSql } from '../shared/sql';
import { stoppedAfter } from '../shared/stop-signals';
import { parsePercent } from '../shared/units';
import { cleanUpChunks } from './hypertables';
import { DEFAULT_PACING, type Pacing } from './pacing';
import { cleanUpPartitions } from './partition-cleanup';
import { preview } from './preview';
import type { RetentionResult, RetentionRun, RuleOutcome, RuleWork } from './result';
import { countExpiredRows, deleteExpiredRows } from './row-deleter';
import { qualifiedName, type ResolvedRule, type RowRule, resolveRules } from './rules';
import { releaseRunLock, takeRunLock } from './run-lock';
import { describeRule, type RunState } from './run-state';
import { vacuumShrunkTables } from './vacuum';

export interface RetentionOptions {
  readonly dryRun: boolean;
}

/** Session lock_timeout: a batch or a detach waits at most this long for a table lock, then backs off. */
const LOCK_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 30_000;

/** The retention core: validate every rule, fix the cutoffs, then delete (or, dry, count) what is expired. */
export async function runRetention(
  context: JobContext,
  options: RetentionOptions,
  pacing: Pacing = DEFAULT_PACING,
): Promise<RetentionResult> {
  const section = context.target.retention;
  const path = `targets.${context.targetName}.retention`;
  if (!section) throw new ConfigError([`${path}: not configured (add "retention": { "rules": [...] })`]);
  const client = await context.connect({
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    // A batch that overruns this is cancelled and retried smaller: something is wrong with its plan.
    statementTimeoutMs: options.dryRun ? undefined : STATEMENT_TIMEOUT_MS,
  });
  try {
    if (!options.dryRun) await takeRunLock(client);
    try {
      const check = await resolveRules(client, section.rules, `${path}.rules`);
      if (check.problems.length > 0)
        throw new ConfigError(check.problems, 'retention rules rejected, nothing was deleted');
      for (const warning of check.warnings) context.logger.warn(warning);
      const cutoffs = await readCutoffs(client, check.rules);
      const restShare = (parsePercent(section.pauseAfterBatch, MAX_PAUSE_PERCENT) ?? 0) / 100;
      const run: RunState = {
        context,
        client,
        pacing: { ...pacing, restShare },
        warnings: [...check.warnings],
      };
      if (options.dryRun) return await preview(run, check.rules, cutoffs);
      const vacuumAbove = (parsePercent(section.vacuumAbove) ?? 10) / 100;
      return await cleanUp(run, check.rules, cutoffs, vacuumAbove);
    } finally {
      if (!options.dryRun) await releaseRunLock(client).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** One reading of the database clock for the whole run: a batch late in the run uses the same cutoff as the first. */
async function readCutoffs(client: Client, rules: readonly ResolvedRule[]): Promise<string[]> {
  const rows = (
    await client.query<{ cutoff: string }>(loadSql('retention/cutoffs'), [
      rules.map((r) => r.olderThanSeconds),
    ])
  ).rows;
  return rows.map((row) => row.cutoff);
}

async function cleanUp(
  run: RunState,
  rules: readonly ResolvedRule[],
  cutoffs: readonly string[],
  vacuumAbove: number,
): Promise<RetentionRun> {
  const { context } = run;
  const outcomes: RuleOutcome[] = [];
  let outOfTime = false;
  for (const [index, rule] of rules.entries()) {
    const cutoff = cutoffs[index] ?? '';
    const started = performance.now();
    let rowsDeleted = 0;
    let outcome: RuleWork;
    try {
      context.signal.throwIfAborted();
      context.progress.update({
        phase: rule.kind === 'rows' ? 'deleting from' : 'partitions of',
        item: qualifiedName(rule),
        ...(rule.kind === 'rows' ? { rows: 0 } : {}),
      });
      outcome =
        rule.kind === 'rows'
          ? await cleanUpRows(run, rule, cutoff, outOfTime, (rows) => {
              rowsDeleted = rows;
            })
          : rule.kind === 'chunks'
            ? await cleanUpChunks(run, rule, cutoff, outOfTime)
            : await cleanUpPartitions(run, rule, cutoff, outOfTime);
    } catch (error) {
      if (!context.signal.aborted) throw error;
      throw stoppedRun(context, [...outcomes, { table: qualifiedName(rule), rowsDeleted }]);
    }
    if (outcome.stoppedBecause === 'timeBudget') outOfTime = true;
    outcomes.push({
      ...describeRule(rule, cutoff),
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    });
    context.logger.info(`retention ${qualifiedName(rule)}: ${outcome.stoppedBecause}`, {
      rowsDeleted: outcome.rowsDeleted,
      partitionsDropped: outcome.partitionsDropped.length,
    });
  }
  if (context.signal.aborted) throw stoppedRun(context, outcomes);
  if (!outOfTime) context.progress.update({ phase: 'vacuum' });
  const vacuumed = outOfTime ? [] : await vacuumShrunkTables(run, rules, outcomes, vacuumAbove);
  const totalRowsDeleted = outcomes.reduce((sum, o) => sum + o.rowsDeleted, 0);
  const dimensions = { job: context.job, target: context.targetName };
  context.metrics.add('RowsDeleted', 'Count', totalRowsDeleted, dimensions);
  context.metrics.add(
    'PartitionsDropped',
    'Count',
    outcomes.reduce((sum, o) => sum + o.partitionsDropped.length, 0),
    dimensions,
  );
  return {
    target: context.targetName,
    status: outcomes.every((o) => o.stoppedBecause === 'done') ? 'complete' : 'incomplete',
    dryRun: false,
    rules: outcomes,
    totalRowsDeleted,
    vacuumed,
    warnings: run.warnings,
  };
}

/**
 * The stop's reason, saying what the run deleted before it: every batch was committed whole or
 * rolled back whole, so these rows are gone and every other expired row is still there.
 */
function stoppedRun(
  context: JobContext,
  rules: ReadonlyArray<{ readonly table: string; readonly rowsDeleted: number }>,
): unknown {
  const total = rules.reduce((sum, r) => sum + r.rowsDeleted, 0);
  context.metrics.add('RowsDeleted', 'Count', total, { job: context.job, target: context.targetName });
  const each = rules.filter((r) => r.rowsDeleted > 0).map((r) => `${r.table}: ${r.rowsDeleted}`);
  const done = `deleted ${total} rows before stopping${each.length > 0 ? ` (${each.join(', ')})` : ''}; the batch under way, if any, was rolled back`;
  context.logger.warn(`retention: ${done}`);
  return stoppedAfter(context.signal.reason, done);
}

async function cleanUpRows(
  run: RunState,
  rule: RowRule,
  cutoff: string,
  outOfTime: boolean,
  onRows: (rows: number) => void,
): Promise<RuleWork> {
  const none = { partitionsDropped: [], partitionsCreated: [] };
  const deletion = outOfTime
    ? { rowsDeleted: 0, batches: 0, stoppedBecause: 'timeBudget' as const }
    : await deleteExpiredRows(
        {
          client: run.client,
          logger: run.context.logger,
          remainingMs: run.context.remainingMs,
          pacing: run.pacing,
          signal: run.context.signal,
          cancelBackend: cancelFromAnotherSession(() => run.context.connect()),
          onRows: (rows) => {
            onRows(rows);
            run.context.progress.update({ phase: 'deleting from', item: qualifiedName(rule), rows });
          },
        },
        rule,
        cutoff,
      );
  if (deletion.stoppedBecause === 'done') return { ...deletion, ...none };
  // What is left, so the report says how far the next runs have to go; skipped when time is short.
  const countMs = Math.min(5_000, run.context.remainingMs() - run.pacing.reserveMs / 2);
  const rowsLeft = countMs > 100 ? await countExpiredRows(run.client, rule, cutoff, countMs) : null;
  return { ...deletion, ...none, rowsLeft };
}
