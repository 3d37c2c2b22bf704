import type { Client } from 'pg';
import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { NO_TIMEOUTS, setSessionLimits } from '../shared/pg/session-limits';
import { ident, readableName, type SqlFragment, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { bloatFromExpectedSize, bloatFromPgstatindex, type PgstatindexRow } from './bloat';
import { ASSUMED_BYTES_PER_SECOND, RESERVE_MS, statementTimeoutMs } from './guards';
import type { ServerFacts } from './preflight';
import { analyzeReadBytes, PGSTATTUPLE_ACTION, type StatisticsFacts, statisticsState } from './statistics';

/** One btree index at or above the size floor, with its estimated bloat. */
export interface IndexEstimate {
  readonly indexOid: number;
  readonly tableOid: number;
  /** schema.index and schema.table, for people (unquoted). */
  readonly name: string;
  readonly table: string;
  /** schema.index quoted for SQL. */
  readonly qualifiedName: SqlFragment;
  readonly sizeBytes: number;
  readonly tableBytes: number;
  /** Percent of the current size a fresh build would not need; null when it cannot be estimated. */
  readonly bloatPercent: number | null;
  readonly estimate: 'pgstatindex' | 'statistics';
}

interface CandidateRow {
  index_oid: string;
  table_oid: string;
  schema_name: string;
  index_name: string;
  table_name: string;
  size_bytes: string;
  table_bytes: string;
  fillfactor: number;
  has_stats: boolean;
  stats_readable: boolean;
  no_width_columns: string | null;
  analyzed_at: Date | null;
  changes_since_analyze: number;
  analyze_threshold: number;
  expected_bytes: string | null;
}

/** An index at or above the size floor whose bloat this run could not estimate, and what to do. */
export interface NotEstimated {
  readonly name: string;
  readonly table: string;
  readonly sizeBytes: number;
  readonly reason: string;
  readonly action: string;
}

/** A table this run analyzed so that its indexes could be estimated. */
export interface AnalyzedTable {
  readonly table: string;
  readonly reason: string;
  readonly durationMs: number;
}

export interface Estimation {
  readonly estimates: IndexEstimate[];
  readonly notEstimated: NotEstimated[];
  readonly analyzed: AnalyzedTable[];
}

export interface EstimateSettings {
  readonly minSizeBytes: number;
  /** How long an ANALYZE may wait for its lock (a VACUUM or DDL on the table). */
  readonly lockTimeoutMs: number;
  readonly remainingMs: () => number;
  readonly logger: Logger;
}

/**
 * Every btree index of at least `minSizeBytes` with its bloat: measured by pgstatindex when
 * pgstattuple is installed (it reads the index, so only indexes above the floor are measured), else
 * the statistical estimate. Tables whose statistics are missing or stale are analyzed first (dry
 * runs too, so both list the same candidates); an index that still cannot be estimated is listed in
 * `notEstimated` with the reason, never dropped silently.
 */
export async function estimateIndexes(
  client: Client,
  facts: ServerFacts,
  settings: EstimateSettings,
): Promise<Estimation> {
  const { minSizeBytes, remainingMs, logger } = settings;
  const listCandidates = async () =>
    (await client.query<CandidateRow>(loadSql('reindex/candidates'), [minSizeBytes])).rows;
  const rows = await listCandidates();
  const estimates: IndexEstimate[] = [];
  const byStatistics: CandidateRow[] = [];
  for (const row of rows) {
    // pgstatindex reads the whole index: on a Lambda about to run out, the estimate has to do.
    const readMs = (Number(row.size_bytes) / ASSUMED_BYTES_PER_SECOND) * 1000;
    const measured =
      facts.pgstattuple_schema && remainingMs() - RESERVE_MS > readMs
        ? await measureWithPgstatindex(
            client,
            facts,
            Number(row.index_oid),
            row.fillfactor,
            logger,
            nameOf(row),
          )
        : undefined;
    if (measured === undefined) byStatistics.push(row);
    else estimates.push({ ...baseOf(row), bloatPercent: measured, estimate: 'pgstatindex' });
  }

  const states = new Map(
    byStatistics.map((row) => [row.index_oid, statisticsState(factsOf(row), tableOf(row))]),
  );
  const toAnalyze = new Map<string, { row: CandidateRow; reason: string }>();
  for (const row of byStatistics) {
    const state = states.get(row.index_oid);
    if (state && (state.kind === 'missing' || state.kind === 'stale') && !toAnalyze.has(row.table_oid))
      toAnalyze.set(row.table_oid, { row, reason: state.reason });
  }
  const analyzed: AnalyzedTable[] = [];
  const analyzeProblems = new Map<string, NotEstimated['reason']>();
  for (const { row, reason } of toAnalyze.values()) {
    const problem = await analyzeTable(client, row, facts.block_size, settings);
    if (typeof problem === 'string') analyzeProblems.set(row.table_oid, `${reason}; ${problem}`);
    else {
      logger.info(`reindex: analyzed ${tableOf(row)} in ${problem.durationMs} ms: ${reason}`);
      analyzed.push({ table: tableOf(row), reason, durationMs: problem.durationMs });
    }
  }
  const fresh =
    analyzed.length > 0
      ? new Map((await listCandidates()).map((r) => [r.index_oid, r]))
      : new Map<string, CandidateRow>();

  const notEstimated: NotEstimated[] = [];
  for (const row of byStatistics) {
    const state = states.get(row.index_oid) ?? { kind: 'usable' };
    const wasAnalyzed = toAnalyze.has(row.table_oid) && !analyzeProblems.has(row.table_oid);
    const current = (wasAnalyzed ? fresh.get(row.index_oid) : undefined) ?? row;
    const failedAnalyze = analyzeProblems.get(row.table_oid);
    const skip = (reason: string, action: string) =>
      notEstimated.push({
        name: nameOf(row),
        table: tableOf(row),
        sizeBytes: Number(row.size_bytes),
        reason,
        action,
      });
    if (state.kind === 'unusable') skip(state.reason, state.action);
    else if (failedAnalyze !== undefined)
      skip(
        failedAnalyze,
        `run ANALYZE ${readableName(row.schema_name, row.table_name)} as its owner, or ${PGSTATTUPLE_ACTION}`,
      );
    else if (current.expected_bytes === null)
      skip(
        wasAnalyzed
          ? 'still no statistics after ANALYZE: it skips, with a warning, tables the role may not maintain (before 17 only the owner may; on 17+ MAINTAIN allows it), and columns whose statistics target is 0'
          : 'no statistics to estimate it from',
        `run ANALYZE ${readableName(row.schema_name, row.table_name)} as its owner, or ${PGSTATTUPLE_ACTION}`,
      );
    else
      estimates.push({
        ...baseOf(current),
        bloatPercent: bloatFromExpectedSize(Number(current.size_bytes), Number(current.expected_bytes)),
        estimate: 'statistics',
      });
  }
  for (const index of notEstimated)
    logger.warn(`reindex: cannot estimate the bloat of ${index.name}: ${index.reason}; ${index.action}`);
  estimates.sort((a, b) => b.sizeBytes - a.sizeBytes);
  return { estimates, notEstimated, analyzed };
}

/** Runs ANALYZE on the row's table: how long it took, or why it could not run. */
async function analyzeTable(
  client: Client,
  row: CandidateRow,
  blockSize: number,
  settings: EstimateSettings,
): Promise<{ durationMs: number } | string> {
  const readMs = (analyzeReadBytes(Number(row.table_bytes), blockSize) / ASSUMED_BYTES_PER_SECOND) * 1000;
  const remaining = settings.remainingMs();
  if (remaining - RESERVE_MS < readMs)
    return `not enough time left to ANALYZE it (~${Math.ceil(readMs / 1000)} s); the next run will`;
  const started = performance.now();
  try {
    await setSessionLimits(client, {
      statementTimeoutMs: statementTimeoutMs(remaining),
      lockTimeoutMs: settings.lockTimeoutMs,
    });
    await client.query(
      sqlWithSlots('reindex/analyze-table', { table: ident(row.schema_name, row.table_name) }),
    );
    return { durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return `ANALYZE failed: ${errorMessage(error)}`;
  } finally {
    await setSessionLimits(client, NO_TIMEOUTS).catch(() => {});
  }
}

const nameOf = (row: CandidateRow) => `${row.schema_name}.${row.index_name}`;
const tableOf = (row: CandidateRow) => `${row.schema_name}.${row.table_name}`;

function baseOf(row: CandidateRow) {
  return {
    indexOid: Number(row.index_oid),
    tableOid: Number(row.table_oid),
    name: nameOf(row),
    table: tableOf(row),
    qualifiedName: ident(row.schema_name, row.index_name),
    sizeBytes: Number(row.size_bytes),
    tableBytes: Number(row.table_bytes),
  };
}

function factsOf(row: CandidateRow): StatisticsFacts {
  return {
    hasStats: row.has_stats,
    statsReadable: row.stats_readable,
    noWidthColumns: row.no_width_columns,
    analyzedAt: row.analyzed_at,
    changesSinceAnalyze: Number(row.changes_since_analyze),
    analyzeThreshold: Number(row.analyze_threshold),
  };
}

async function measureWithPgstatindex(
  client: Client,
  facts: ServerFacts,
  indexOid: number,
  fillfactor: number,
  logger: Logger,
  name: string,
): Promise<number | undefined> {
  try {
    const sql = sqlWithSlots('reindex/pgstatindex', { schema: ident(facts.pgstattuple_schema ?? '') });
    const row = (await client.query<Record<keyof PgstatindexRow, string | number>>(sql, [indexOid])).rows[0];
    if (!row) return undefined;
    // int8 arrives as text from pg; every field is a plain number once converted.
    const stats = Object.fromEntries(
      Object.entries(row).map(([key, value]) => [key, Number(value)]),
    ) as unknown as PgstatindexRow;
    return bloatFromPgstatindex(stats, fillfactor, facts.block_size);
  } catch (error) {
    logger.warn(`reindex: pgstatindex cannot read ${name}, using the statistical estimate`, {
      error: errorMessage(error),
    });
    return undefined;
  }
}

/**
 * The indexes to rebuild this run: estimated bloat at least `minBloatPercent` (size was already
 * filtered), most bloated first (the largest gain breaks ties), at most `maxPerRun`.
 */
export function pickCandidates(
  estimates: readonly IndexEstimate[],
  minBloatPercent: number,
  maxPerRun: number,
): IndexEstimate[] {
  return estimates
    .filter((e) => e.bloatPercent !== null && e.bloatPercent >= minBloatPercent)
    .sort(
      (a, b) =>
        (b.bloatPercent ?? 0) - (a.bloatPercent ?? 0) ||
        expectedGainBytes(b) - expectedGainBytes(a) ||
        a.name.localeCompare(b.name),
    )
    .slice(0, maxPerRun);
}

export function expectedGainBytes(estimate: IndexEstimate): number {
  return Math.round((estimate.sizeBytes * (estimate.bloatPercent ?? 0)) / 100);
}
