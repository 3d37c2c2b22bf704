import type { Client } from 'pg';
import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { loadSql } from '../shared/sql';
import { bloatFromExpectedSize, bloatFromPgstatindex, type PgstatindexRow } from './bloat';
import { ASSUMED_BYTES_PER_SECOND, RESERVE_MS } from './guards';
import type { ServerFacts } from './preflight';
import { statementFor } from './statement';

/** One btree index at or above the size floor, with its estimated bloat. */
export interface IndexEstimate {
  readonly indexOid: number;
  readonly tableOid: number;
  /** schema.index and schema.table, for people (unquoted). */
  readonly name: string;
  readonly table: string;
  /** Quoted for SQL by the catalog query. */
  readonly qualifiedName: string;
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
  qualified_name: string;
  size_bytes: string;
  table_bytes: string;
  fillfactor: number;
  expected_bytes: string | null;
}

/**
 * Every btree index of at least `minSizeBytes` with its bloat: measured by pgstatindex when
 * pgstattuple is installed (it reads the index, so only indexes above the floor are measured), else
 * the statistical estimate. An index pgstatindex cannot read (privileges) falls back to statistics.
 */
export async function estimateIndexes(
  client: Client,
  facts: ServerFacts,
  settings: { minSizeBytes: number; remainingMs: () => number; logger: Logger },
): Promise<IndexEstimate[]> {
  const { minSizeBytes, remainingMs, logger } = settings;
  const rows = (await client.query<CandidateRow>(loadSql('reindex/candidates'), [minSizeBytes])).rows;
  const estimates: IndexEstimate[] = [];
  for (const row of rows) {
    const sizeBytes = Number(row.size_bytes);
    const base = {
      indexOid: Number(row.index_oid),
      tableOid: Number(row.table_oid),
      name: `${row.schema_name}.${row.index_name}`,
      table: `${row.schema_name}.${row.table_name}`,
      qualifiedName: row.qualified_name,
      sizeBytes,
      tableBytes: Number(row.table_bytes),
    };
    // pgstatindex reads the whole index: on a Lambda about to run out, the estimate has to do.
    const readMs = (sizeBytes / ASSUMED_BYTES_PER_SECOND) * 1000;
    const measured =
      facts.pgstattuple_schema && remainingMs() - RESERVE_MS > readMs
        ? await measureWithPgstatindex(client, facts, base.indexOid, row.fillfactor, logger, base.name)
        : undefined;
    estimates.push(
      measured === undefined
        ? {
            ...base,
            bloatPercent: bloatFromExpectedSize(
              sizeBytes,
              row.expected_bytes === null ? null : Number(row.expected_bytes),
            ),
            estimate: 'statistics',
          }
        : { ...base, bloatPercent: measured, estimate: 'pgstatindex' },
    );
  }
  return estimates;
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
    const sql = statementFor('pgstatindex', 'schema', facts.pgstattuple_schema ?? '');
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
