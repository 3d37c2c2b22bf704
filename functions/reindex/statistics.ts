/**
 * Whether a table's statistics can carry the statistical bloat estimate of its indexes, and if not,
 * whether an ANALYZE would fix that. After a mass delete and VACUUM, `reltuples` is fresh but
 * `pg_stats` may be absent (never analyzed) or describe the rows that were deleted.
 */

export interface StatisticsFacts {
  /** Every key column of the index has a row in pg_stats the role can read. */
  readonly hasStats: boolean;
  /** pg_stats shows only tables the role may SELECT from. */
  readonly statsReadable: boolean;
  /** Key columns of a type without width statistics (`name`), e.g. "label (name)". */
  readonly noWidthColumns: string | null;
  /** Latest of last_analyze and last_autoanalyze; null when never (or the counters were reset). */
  readonly analyzedAt: Date | null;
  /** pg_stat n_mod_since_analyze. */
  readonly changesSinceAnalyze: number;
  /** Autovacuum's analyze threshold for the table: changes beyond it make its statistics stale. */
  readonly analyzeThreshold: number;
}

export type StatisticsState =
  | { readonly kind: 'usable' }
  /** An ANALYZE of the table gives the estimate what it needs. */
  | { readonly kind: 'missing' | 'stale'; readonly reason: string }
  /** No ANALYZE helps: only pgstatindex (or a grant) can measure it. */
  | { readonly kind: 'unusable'; readonly reason: string; readonly action: string };

export const PGSTATTUPLE_ACTION =
  'install pgstattuple (CREATE EXTENSION pgstattuple; GRANT pg_stat_scan_tables to the role) so pgmaint measures it with pgstatindex';

export function statisticsState(facts: StatisticsFacts, table: string): StatisticsState {
  if (facts.noWidthColumns)
    return {
      kind: 'unusable',
      reason: `column(s) ${facts.noWidthColumns} have no width statistics, so the statistical estimate cannot size its entries`,
      action: PGSTATTUPLE_ACTION,
    };
  if (!facts.statsReadable)
    return {
      kind: 'unusable',
      reason: `pg_stats hides ${table}'s statistics from this role (no SELECT on the table)`,
      action: `GRANT SELECT ON ${table} to the role, or ${PGSTATTUPLE_ACTION}`,
    };
  if (!facts.hasStats)
    return {
      kind: 'missing',
      reason:
        facts.analyzedAt === null
          ? `${table} has never been analyzed: no column statistics`
          : `${table} has no statistics for the index's columns`,
    };
  if (facts.changesSinceAnalyze > facts.analyzeThreshold)
    return {
      kind: 'stale',
      reason: `${count(facts.changesSinceAnalyze)} rows of ${table} changed since its last ANALYZE${facts.analyzedAt ? ` (${facts.analyzedAt.toISOString()})` : ''}, more than autovacuum's analyze threshold (${count(facts.analyzeThreshold)})`,
    };
  return { kind: 'usable' };
}

/** ANALYZE reads a sample of 300 × default_statistics_target (100) pages at most, whatever the table's size. */
export const ANALYZE_SAMPLE_PAGES = 30_000;

export function analyzeReadBytes(tableBytes: number, blockSize: number): number {
  return Math.min(tableBytes, ANALYZE_SAMPLE_PAGES * blockSize);
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
