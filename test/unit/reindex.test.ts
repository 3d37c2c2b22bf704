import { describe, expect, it } from 'vitest';
import { bloatFromExpectedSize, bloatFromPgstatindex } from '../../functions/reindex/bloat';
import { type IndexEstimate, pickCandidates } from '../../functions/reindex/candidates';
import {
  expectedDurationMs,
  RESERVE_MS,
  statementTimeoutMs,
  timeProblem,
  transactionProblem,
} from '../../functions/reindex/guards';
import { refusal, type ServerFacts } from '../../functions/reindex/preflight';
import { analyzeReadBytes, type StatisticsFacts, statisticsState } from '../../functions/reindex/statistics';
import { ident, sqlWithSlots } from '../../functions/shared/pg/sql-names';

const facts = (version: number, inRecovery = false): ServerFacts => ({
  server_version: `${Math.floor(version / 10000)}.${version % 100}`,
  server_version_num: version,
  in_recovery: inRecovery,
  block_size: 8192,
  pgstattuple_schema: null,
});

describe('reindex preflight', () => {
  it.each([
    [110020, /no REINDEX CONCURRENTLY/],
    [140000, /14\.0–14\.3/],
    [140003, /14\.0–14\.3/],
  ])('refuses concurrent rebuilds on %d', (version, reason) =>
    expect(refusal(facts(version), 'concurrently')).toMatch(reason),
  );

  it.each([120000, 130015, 140004, 150010, 170002])('allows concurrent rebuilds on %d', (version) =>
    expect(refusal(facts(version), 'concurrently')).toBeUndefined(),
  );

  it('refuses a standby in either mode, and allows REINDEX DATABASE on old versions', () => {
    expect(refusal(facts(150004, true), 'concurrently')).toMatch(/standby/);
    expect(refusal(facts(150004, true), 'database')).toMatch(/standby/);
    expect(refusal(facts(110020), 'database')).toBeUndefined();
    expect(refusal(facts(140002), 'database')).toBeUndefined();
  });
});

describe('bloat estimates', () => {
  const stats = {
    index_size: 101 * 8192,
    internal_pages: 0,
    leaf_pages: 100,
    empty_pages: 0,
    deleted_pages: 0,
  };

  it.each([
    // A fresh build: leaves packed to the 90% fillfactor.
    [{ ...stats, avg_leaf_density: 90 }, 0],
    // One entry in ten left: a rebuild needs a tenth of the leaves.
    [{ ...stats, avg_leaf_density: 9 }, 89.1],
    // Half the pages are deleted and free: they are bloat too.
    [{ ...stats, index_size: 201 * 8192, avg_leaf_density: 90 }, 49.8],
    // An empty index has nothing to reclaim.
    [{ ...stats, leaf_pages: 0, avg_leaf_density: Number.NaN }, 0],
  ])('pgstatindex %o → %d%%', (row, percent) =>
    expect(bloatFromPgstatindex(row, 90, 8192)).toBeCloseTo(percent, 1),
  );

  it('statistical: share of the size a fresh build would not need, never negative', () => {
    expect(bloatFromExpectedSize(1000, 250)).toBe(75);
    expect(bloatFromExpectedSize(1000, 1200)).toBe(0);
    expect(bloatFromExpectedSize(1000, null)).toBeNull();
  });
});

describe('candidate choice', () => {
  const index = (name: string, sizeBytes: number, bloatPercent: number | null): IndexEstimate => ({
    indexOid: 1,
    tableOid: 2,
    name,
    table: 'public.t',
    qualifiedName: ident('public', name),
    sizeBytes,
    tableBytes: sizeBytes * 4,
    bloatPercent,
    estimate: 'statistics',
  });

  it('keeps indexes at or over minBloat, most bloated first, then largest gain, at most maxPerRun', () => {
    const picked = pickCandidates(
      [
        index('a', 100, 30),
        index('b', 100, 29.9),
        index('c', 100, 80),
        index('d', 500, 50),
        index('e', 100, 50),
        index('f', 100, null),
      ],
      30,
      3,
    );
    expect(picked.map((i) => i.name)).toEqual(['c', 'd', 'e']);
  });
});

describe('guards', () => {
  it('expects a rebuild to read the table twice and write the index once', () =>
    expect(expectedDurationMs({ sizeBytes: 10, tableBytes: 45 }, 100)).toBe(1000));

  it('keeps the cleanup reserve back from the remaining time', () => {
    expect(timeProblem(60_000, 60_000 + RESERVE_MS)).toBeUndefined();
    expect(timeProblem(60_001, 60_000 + RESERVE_MS)).toMatch(/not enough time left/);
    expect(timeProblem(1, Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('stops a rebuild before the Lambda deadline, and never on the CLI', () => {
    expect(statementTimeoutMs(100_000)).toBe(100_000 - RESERVE_MS);
    expect(statementTimeoutMs(Number.POSITIVE_INFINITY)).toBe(0);
  });

  it('names the transaction that would make the rebuild wait', () => {
    expect(transactionProblem(undefined, 300)).toBeUndefined();
    expect(
      transactionProblem({ description: 'pid 42 (psql), idle in transaction', age_seconds: 600 }, 300),
    ).toMatch(/open for 10\.0 min \(pid 42 \(psql\), idle in transaction\)/);
  });
});

describe('identifiers in utility statements', () => {
  it.each([
    [['public', 't_idx'], 'REINDEX INDEX CONCURRENTLY "public"."t_idx"'],
    [['My Schema', 'odd"name'], 'REINDEX INDEX CONCURRENTLY "My Schema"."odd""name"'],
    [['public', 'x; drop table y'], 'REINDEX INDEX CONCURRENTLY "public"."x; drop table y"'],
  ])('fills the index %j quoted', (parts, statement) =>
    expect(
      sqlWithSlots('reindex/reindex-index', { index: ident(...parts) })
        .trim()
        .split('\n')
        .at(-1),
    ).toBe(statement),
  );

  it('refuses a statement without its identifier', () => {
    expect(() => sqlWithSlots('reindex/vacuum-table', {})).toThrow(/no value for \{table\}/);
  });
});

describe('reindex: whether statistics can carry the bloat estimate', () => {
  const usable: StatisticsFacts = {
    hasStats: true,
    statsReadable: true,
    noWidthColumns: null,
    analyzedAt: new Date('2026-01-01T00:00:00Z'),
    changesSinceAnalyze: 0,
    analyzeThreshold: 6_050,
  };

  it.each<[string, Partial<StatisticsFacts>, string, RegExp | null]>([
    ['fresh statistics', {}, 'usable', null],
    ['changes up to the analyze threshold', { changesSinceAnalyze: 6_050 }, 'usable', null],
    [
      'a mass delete since the last ANALYZE',
      { changesSinceAnalyze: 540_000 },
      'stale',
      /540,000 rows of public\.t changed since its last ANALYZE \(2026-01-01T00:00:00\.000Z\), more than autovacuum's analyze threshold \(6,050\)/,
    ],
    ['never analyzed', { hasStats: false, analyzedAt: null }, 'missing', /never been analyzed/],
    [
      'analyzed, a column without statistics',
      { hasStats: false },
      'missing',
      /no statistics for the index's columns/,
    ],
    ['statistics hidden from the role', { hasStats: false, statsReadable: false }, 'unusable', /no SELECT/],
    [
      'a name column, even never analyzed',
      { noWidthColumns: 'label (name)', analyzedAt: null },
      'unusable',
      /label \(name\) have no width/,
    ],
  ])('%s: %s', (_, overrides, kind, reason) => {
    const state = statisticsState({ ...usable, ...overrides }, 'public.t');
    expect(state.kind).toBe(kind);
    if (reason) expect('reason' in state ? state.reason : '').toMatch(reason);
  });

  it('an ANALYZE reads at most 30,000 pages, whatever the table size', () => {
    expect(analyzeReadBytes(10 * 8192, 8192)).toBe(10 * 8192);
    expect(analyzeReadBytes(10 * 1024 ** 3, 8192)).toBe(30_000 * 8192);
  });
});
