import type { Client } from 'pg';
import { serverVersionNum } from '../shared/db';
import { ConfigError, RefusedError } from '../shared/errors';
import type { JobContext } from '../shared/job';
import { loadSql } from '../shared/sql';
import { parsePercent } from '../shared/units';
import { DEFAULT_PACING, type Pacing, sleep, stepFits } from './pacing';
import {
  countPartitionRows,
  createPartition,
  dropPartition,
  expiredPartitions,
  listPartitions,
  plannedPartitions,
} from './partitions';
import { LOCK_NOT_AVAILABLE, QUERY_CANCELED, sqlState } from './pg-errors';
import { rowPredicate } from './predicate';
import type {
  RetentionPreview,
  RetentionResult,
  RetentionRun,
  RuleOutcome,
  RulePreview,
  StopReason,
} from './result';
import { countExpiredRows, deleteExpiredRows } from './row-deleter';
import { type PartitionRule, qualifiedName, type ResolvedRule, type RowRule, resolveRules } from './rules';
import { fixed, ident, retentionSql } from './sql-template';

export interface RetentionOptions {
  readonly dryRun: boolean;
}

/** Session lock_timeout: a batch or a detach waits at most this long for a table lock, then backs off. */
const LOCK_TIMEOUT_MS = 1_000;
const LOCK_ATTEMPTS = 3;
const STATEMENT_TIMEOUT_MS = 30_000;
/** VACUUM only starts with at least this much time left before the reserve. */
const VACUUM_MIN_MS = 60_000;

interface Run {
  readonly context: JobContext;
  readonly client: Client;
  readonly pacing: Pacing;
  readonly warnings: string[];
}

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
      const run: Run = { context, client, pacing, warnings: [...check.warnings] };
      if (options.dryRun) return await preview(run, check.rules, cutoffs);
      const vacuumAbove = (parsePercent(section.vacuumAbove) ?? 10) / 100;
      return await cleanUp(run, check.rules, cutoffs, vacuumAbove);
    } finally {
      if (!options.dryRun) await client.query(loadSql('retention/unlock')).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function takeRunLock(client: Client): Promise<void> {
  const acquired = (await client.query<{ acquired: boolean }>(loadSql('retention/try-lock'))).rows[0]
    ?.acquired;
  if (acquired) return;
  const holder = (
    await client.query<{ pid: number; application_name: string; user_name: string; since: string }>(
      loadSql('retention/lock-holder'),
    )
  ).rows[0];
  const who = holder?.since
    ? `pid ${holder.pid}, ${holder.application_name || 'no application_name'}, user ${holder.user_name}, connected since ${holder.since}`
    : 'its session is not visible to this role';
  throw new RefusedError(
    `another retention run is already working on this database (${who}); this run did nothing`,
  );
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

function identity(rule: ResolvedRule, cutoff: string) {
  const base = { table: qualifiedName(rule), column: rule.column, olderThan: rule.olderThan, cutoff };
  if (rule.kind === 'partitions') return { ...base, partitions: true as const };
  if (rule.where.length === 0) return base;
  return { ...base, where: Object.fromEntries(rule.where.map((w) => [w.column, w.configured])) };
}

async function cleanUp(
  run: Run,
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
    const outcome =
      rule.kind === 'rows'
        ? await cleanUpRows(run, rule, cutoff, outOfTime)
        : await cleanUpPartitions(run, rule, cutoff, outOfTime);
    if (outcome.stoppedBecause === 'timeBudget') outOfTime = true;
    outcomes.push({
      ...identity(rule, cutoff),
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    });
    context.logger.info(`retention ${qualifiedName(rule)}: ${outcome.stoppedBecause}`, {
      rowsDeleted: outcome.rowsDeleted,
      partitionsDropped: outcome.partitionsDropped.length,
    });
  }
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

type Outcome = Omit<RuleOutcome, keyof ReturnType<typeof identity> | 'durationMs'>;

async function cleanUpRows(run: Run, rule: RowRule, cutoff: string, outOfTime: boolean): Promise<Outcome> {
  const none = { partitionsDropped: [], partitionsCreated: [] };
  const deletion = outOfTime
    ? { rowsDeleted: 0, batches: 0, stoppedBecause: 'timeBudget' as const }
    : await deleteExpiredRows(
        {
          client: run.client,
          logger: run.context.logger,
          remainingMs: run.context.remainingMs,
          pacing: run.pacing,
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

async function cleanUpPartitions(
  run: Run,
  rule: PartitionRule,
  cutoff: string,
  outOfTime: boolean,
): Promise<Outcome> {
  const { client, context, pacing } = run;
  const partitions = await listPartitions(client, rule, cutoff);
  // CONCURRENTLY needs 14+ and is refused when the parent has a default partition.
  const concurrently = (await serverVersionNum(client)) >= 140_000 && !partitions.some((p) => p.isDefault);
  const dropped: string[] = [];
  const created: string[] = [];
  let stoppedBecause: StopReason = outOfTime ? 'timeBudget' : 'done';
  let slowestMs = 0;
  for (const partition of outOfTime ? [] : expiredPartitions(partitions)) {
    if (!stepFits(context.remainingMs(), slowestMs, pacing)) {
      stoppedBecause = 'timeBudget';
      break;
    }
    const started = performance.now();
    const attempt = await withLockRetries(run, () => dropPartition(client, rule, partition, concurrently));
    if (attempt === 'lockTimeout') {
      stoppedBecause = 'lockTimeout';
      break;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    dropped.push(partition.name);
    context.logger.debug(`retention ${qualifiedName(rule)}: dropped partition ${partition.name}`);
  }
  if (stoppedBecause === 'done') {
    const { planned, warning } = await plannedPartitions(client, rule, partitions);
    if (warning) run.warnings.push(warning);
    for (const next of planned) {
      let result = await createPartition(client, rule, next);
      for (let attempt = 1; !result.created && result.lockTimeout && attempt < LOCK_ATTEMPTS; attempt++) {
        await sleep(pacing.lockRetryMs);
        result = await createPartition(client, rule, next);
      }
      if (!result.created) {
        run.warnings.push(
          `${qualifiedName(rule)}: could not create partition ${next.name}: ${result.reason}`,
        );
        break;
      }
      created.push(next.name);
    }
  }
  return {
    rowsDeleted: 0,
    partitionsDropped: dropped,
    partitionsCreated: created,
    batches: 0,
    stoppedBecause,
  };
}

async function withLockRetries(run: Run, work: () => Promise<void>): Promise<'done' | 'lockTimeout'> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return 'done';
    } catch (error) {
      if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
      run.context.logger.warn(`retention: lock timeout (${attempt}/${LOCK_ATTEMPTS})`);
      if (attempt >= LOCK_ATTEMPTS) return 'lockTimeout';
      await sleep(run.pacing.lockRetryMs);
    }
  }
}

/** VACUUM (ANALYZE) each table that lost more than `vacuumAbove` of its rows, if time allows. */
async function vacuumShrunkTables(
  run: Run,
  rules: readonly ResolvedRule[],
  outcomes: readonly RuleOutcome[],
  vacuumAbove: number,
): Promise<string[]> {
  const deleted = new Map<string, { rule: ResolvedRule; rows: number }>();
  for (const [index, rule] of rules.entries()) {
    const entry = deleted.get(rule.oid) ?? { rule, rows: 0 };
    entry.rows += outcomes[index]?.rowsDeleted ?? 0;
    deleted.set(rule.oid, entry);
  }
  const vacuumed: string[] = [];
  for (const { rule, rows } of deleted.values()) {
    if (rows === 0 || rows / Math.max(rule.estimatedRows, rows) <= vacuumAbove) continue;
    const name = qualifiedName(rule);
    const allowed = (
      await run.client.query<{ allowed: boolean }>(loadSql('retention/can-vacuum'), [rule.oid])
    ).rows[0]?.allowed;
    if (!allowed) {
      run.warnings.push(
        `${name}: VACUUM skipped, this role does not own the table (PostgreSQL 17+: GRANT MAINTAIN); autovacuum will get to it`,
      );
      continue;
    }
    const leftMs = run.context.remainingMs() - run.pacing.reserveMs;
    if (leftMs < VACUUM_MIN_MS) {
      run.warnings.push(`${name}: VACUUM skipped, not enough time left (autovacuum will get to it)`);
      continue;
    }
    try {
      // Until the deadline on Lambda; as long as it takes on the CLI.
      await run.client.query(`set statement_timeout = ${Number.isFinite(leftMs) ? Math.round(leftMs) : 0}`);
      await run.client.query(retentionSql('vacuum', { table: ident(rule.schema, rule.table) }));
      vacuumed.push(name);
    } catch (error) {
      const state = sqlState(error);
      if (state !== QUERY_CANCELED && state !== LOCK_NOT_AVAILABLE) throw error;
      run.warnings.push(`${name}: VACUUM stopped (${(error as Error).message}); autovacuum will get to it`);
    } finally {
      await run.client.query('reset statement_timeout');
    }
  }
  return vacuumed;
}

async function preview(
  run: Run,
  rules: readonly ResolvedRule[],
  cutoffs: readonly string[],
): Promise<RetentionPreview> {
  const previews: RulePreview[] = [];
  for (const [index, rule] of rules.entries()) {
    const cutoff = cutoffs[index] ?? '';
    previews.push({ ...identity(rule, cutoff), ...(await previewRule(run.client, rule, cutoff)) });
  }
  return {
    target: run.context.targetName,
    status: 'complete',
    dryRun: true,
    rules: previews,
    totalRowsToDelete: previews.reduce((sum, p) => sum + p.rowsToDelete, 0),
    warnings: run.warnings,
  };
}

async function previewRule(client: Client, rule: ResolvedRule, cutoff: string) {
  const table = ident(rule.schema, rule.table);
  const tableBytes = Number(
    (await client.query<{ bytes: string }>(loadSql('retention/table-size'), [rule.oid])).rows[0]?.bytes ?? 0,
  );
  if (rule.kind === 'partitions') {
    const partitions = await listPartitions(client, rule, cutoff);
    const toDrop = expiredPartitions(partitions);
    let rowsToDelete = 0;
    for (const partition of toDrop) rowsToDelete += await countPartitionRows(client, partition);
    const oldest = await client.query<{ oldest: string | null }>(
      retentionSql('oldest-row', { table, column: ident(rule.column), predicate: fixed('true') }),
    );
    const { planned } = await plannedPartitions(client, rule, partitions);
    return {
      rowsToDelete,
      partitionsToDrop: toDrop.map((p) => p.name),
      partitionsToCreate: planned.map((p) => p.name),
      oldestRow: oldest.rows[0]?.oldest ?? null,
      tableBytes,
    };
  }
  const expired = rowPredicate(rule, { before: cutoff }, 1);
  const count = await client.query<{ rows: string }>(
    retentionSql('count-expired', { table, predicate: expired.sql }),
    [...expired.values],
  );
  const covered = rowPredicate(rule, {}, 1);
  const oldest = await client.query<{ oldest: string | null }>(
    retentionSql('oldest-row', { table, column: ident(rule.column), predicate: covered.sql }),
    [...covered.values],
  );
  return {
    rowsToDelete: Number(count.rows[0]?.rows ?? 0),
    partitionsToDrop: [],
    partitionsToCreate: [],
    oldestRow: oldest.rows[0]?.oldest ?? null,
    tableBytes,
  };
}
