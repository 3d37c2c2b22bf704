import { describe, expect, it } from 'vitest';
import { chooseBatchShape, type TableLayout } from '../../functions/retention/batch-shape';
import {
  batchCeiling,
  DEFAULT_PACING,
  nextBatchSize,
  pauseAfter,
  stepFits,
} from '../../functions/retention/pacing';
import { boundParts, nextPartitionName } from '../../functions/retention/partition-names';
import { expiredPartitions, newestPartition, type Partition } from '../../functions/retention/partitions';
import { rowPredicate } from '../../functions/retention/predicate';
import { renderRetention } from '../../functions/retention/render';
import { sqlWithSlots } from '../../functions/shared/pg/sql-names';

describe('retention batch pacing', () => {
  it.each([
    // [current, elapsed ms, ceiling, next]
    [1_000, 10, 50_000, 4_000], // quick: grows, at most 4×
    [10_000, 250, 50_000, 20_000], // half the target: doubles
    [20_000, 500, 50_000, 20_000], // on target: stays
    [20_000, 2_000, 50_000, 10_000], // slow: halves at most
    [40_000, 10, 50_000, 50_000], // never above the ceiling
    [150, 5_000, 50_000, 100], // never below the minimum
  ])('batch of %d that took %d ms (ceiling %d) → %d', (current, elapsed, ceiling, next) =>
    expect(nextBatchSize(current, elapsed, ceiling)).toBe(next),
  );

  it.each([
    [0, 1_000], // never analyzed: the first batch size
    [1_000_000, 2_500], // 0.25% of the table
    [10_000_000, 25_000],
    [100_000_000, 100_000], // capped
  ])('a table of %d rows locks at most %d rows per batch', (rows, ceiling) =>
    expect(batchCeiling(rows)).toBe(ceiling),
  );

  const behind = { hidden: 0, behindBytes: 64 * 1024 * 1024 };
  it('pauses a tenth of the batch, within bounds, while a replica is behind', () => {
    expect(pauseAfter(10, behind)).toBe(DEFAULT_PACING.minPauseMs);
    expect(pauseAfter(100, behind)).toBe(10);
    expect(pauseAfter(300, behind)).toBe(30);
    expect(pauseAfter(5_000, behind)).toBe(DEFAULT_PACING.maxPauseMs);
  });

  it.each([
    ['no replica', 0, { hidden: 0, behindBytes: 0 }],
    ['replicas within a WAL segment', 0, { hidden: 0, behindBytes: 16 * 1024 * 1024 }],
    ['a replica further behind', 30, behind],
    ["a replica whose position this role can't see", 30, { hidden: 1, behindBytes: 0 }],
  ])('after a 300 ms batch with %s, pauses %d ms', (_, ms, replicas) =>
    expect(pauseAfter(300, replicas)).toBe(ms),
  );

  it('rests the configured share of every batch, and the longer of that and a replica pause', () => {
    const resting = { ...DEFAULT_PACING, restShare: 0.25 };
    expect(pauseAfter(300, { hidden: 0, behindBytes: 0 }, resting)).toBe(75);
    expect(pauseAfter(300, behind, resting)).toBe(75);
    expect(pauseAfter(5_000, behind, resting)).toBe(1_250); // a rest is not capped like a replica pause
    expect(pauseAfter(4, behind, resting)).toBe(DEFAULT_PACING.minPauseMs);
    expect(pauseAfter(300, behind, { ...DEFAULT_PACING, restShare: 0.05 })).toBe(30);
  });

  it('stops before the deadline with the reserve and three slowest steps to spare', () => {
    expect(stepFits(Number.POSITIVE_INFINITY, 10_000)).toBe(true);
    expect(stepFits(12_000, 500)).toBe(true);
    expect(stepFits(11_000, 500)).toBe(false);
    expect(stepFits(9_000, 0)).toBe(false);
  });
});

describe('retention where clauses', () => {
  const rule = (where: Array<{ column: string; values: Array<string | null> }>) => ({
    column: 'created_at',
    where: where.map((w) => ({ ...w, configured: w.values })),
  });

  it('binds the cutoff and every value; identifiers are quoted, never values', () => {
    const predicate = rowPredicate(
      rule([{ column: 'level', values: ['INFO', "DEBUG'); drop table users; --"] }]),
      { before: '2026-01-01 00:00:00+00' },
      2,
    );
    expect(predicate.sql).toBe('"created_at" < $2 and "level" = any($3)');
    expect(predicate.values).toEqual(['2026-01-01 00:00:00+00', ['INFO', "DEBUG'); drop table users; --"]]);
  });

  it.each([
    [[null], '"c" is null', []],
    [['x'], '"c" = $1', ['x']],
    [['x', null], '("c" = $1 or "c" is null)', ['x']],
    [['x', 'y', null], '("c" = any($1) or "c" is null)', [['x', 'y']]],
  ])('where c: %j → %s', (values, sql, bound) => {
    const predicate = rowPredicate(rule([{ column: 'c', values }]), {}, 1);
    expect(predicate.sql).toBe(sql);
    expect(predicate.values).toEqual(bound);
  });

  it('adds the keyset start after the cutoff and quotes odd column names', () => {
    const predicate = rowPredicate({ column: 'Created "At"', where: [] }, { before: 'b', from: 'f' }, 2);
    expect(predicate.sql).toBe('"Created ""At""" < $2 and "Created ""At""" >= $3');
    expect(predicate.values).toEqual(['b', 'f']);
  });

  it('adds heap page bounds as tid parameters and leaves out rows found held', () => {
    const predicate = rowPredicate(
      rule([]),
      { before: 'b', pages: { from: 10, to: 25 }, exclude: ['1:(3,4)'] },
      1,
    );
    expect(predicate.sql).toBe(
      `"created_at" < $1 and ctid >= $2::tid and ctid < $3::tid and (tableoid::text || ':' || ctid::text) <> all($4::text[])`,
    );
    expect(predicate.values).toEqual(['b', '(10,0)', '(25,0)', ['1:(3,4)']]);
  });

  it('refuses a template slot it was not given, and a slot the template lacks', () => {
    expect(() => sqlWithSlots('retention/vacuum', {})).toThrow(/no value for \{table\}/);
    expect(() =>
      sqlWithSlots('retention/vacuum', {
        table: rowPredicate(rule([]), {}, 1).sql,
        column: rowPredicate(rule([]), {}, 1).sql,
      }),
    ).toThrow(/no slot \{column\}/);
  });
});

describe('retention partitions', () => {
  const part = (name: string, upper: string | null, extra: Partial<Partition> = {}): Partition => ({
    schema: 'public',
    name,
    isDefault: false,
    openEnded: false,
    lowerBound: null,
    upperBound: upper,
    expired: false,
    estimatedRows: 0,
    ...extra,
  });

  it('never drops the default partition or the newest one, even when everything is expired', () => {
    const partitions = [
      part('t_1', '2020-01-02', { expired: true }),
      part('t_2', '2020-01-03', { expired: true }),
      part('t_3', '2020-01-04', { expired: true }),
      part('t_default', null, { isDefault: true, expired: false }),
    ];
    expect(newestPartition(partitions)?.name).toBe('t_3');
    expect(expiredPartitions(partitions).map((p) => p.name)).toEqual(['t_1', 't_2']);
  });

  it('treats a MAXVALUE partition as the newest', () => {
    const partitions = [
      part('t_1', '2020-01-02', { expired: true }),
      part('t_max', null, { openEnded: true }),
    ];
    expect(newestPartition(partitions)?.name).toBe('t_max');
    expect(expiredPartitions(partitions).map((p) => p.name)).toEqual(['t_1']);
  });

  it.each([
    ['trades_20261125', '2026-11-25 00:00:00+00', '2026-11-26 00:00:00+00', 'trades_20261126'],
    ['orders_2026_11', '2026-11-01 00:00:00+00', '2026-12-01 00:00:00+00', 'orders_2026_12'],
    ['logs_2026-11-25', '2026-11-25 00:00:00+01', '2026-11-26 00:00:00+01', 'logs_2026-11-26'],
    ['ledger_y2026m11', '2026-11-01 00:00:00+00', '2026-12-01 00:00:00+00', 'ledger_p20261201'],
    ['sales_2026', '2026-01-01 00:00:00+00', '2027-01-01 00:00:00+00', 'sales_2027'],
    ['events_p1', '2026-11-25 00:00:00+00', '2026-11-26 00:00:00+00', 'events_p20261126'],
    ['hits_20261125_0600', '2026-11-25 06:00:00+00', '2026-11-25 12:00:00+00', 'hits_20261125_1200'],
  ])('after %s (from %s) comes the partition from %s: %s', (newest, lower, next, expected) => {
    const parent = newest.split('_')[0] ?? '';
    expect(nextPartitionName(parent, { name: newest, lowerBound: lower }, next)).toBe(expected);
  });

  it('reads the server timestamptz text', () => {
    expect(boundParts('2026-11-25 06:30:00+00')).toEqual({
      year: '2026',
      month: '11',
      day: '25',
      hour: '06',
      minute: '30',
    });
    expect(boundParts('infinity')).toBeUndefined();
  });
});

describe('retention batch shape', () => {
  const plain: TableLayout = {
    correlation: 0.99,
    indexed: true,
    partitioned: false,
    serverVersion: 150004,
    pages: 50_000,
    expiredShare: 0.1,
    rangesFromStatistics: false,
  };
  it.each<[string, Partial<TableLayout>, string, RegExp]>([
    ['in time order', {}, 'indexRange', /correlation 0\.99 .*stored in time order/],
    ['in reverse time order', { correlation: -0.95 }, 'indexRange', /stored in time order/],
    [
      'in time order, mostly expired',
      { expiredShare: 0.5 },
      'tidRange',
      /correlation 0\.99 .*stored in time order, but about 50% of the rows are older than the cutoff: page ranges/,
    ],
    [
      'in time order, mostly expired, with statistics to size ranges by',
      { expiredShare: null, rangesFromStatistics: true },
      'indexRange',
      /correlation 0\.99 .*stored in time order, index ranges sized from its statistics/,
    ],
    ['in time order, expired share not estimated', { expiredShare: null }, 'indexRange', /index ranges/],
    ['scattered', { correlation: 0.12 }, 'tidRange', /correlation 0\.12 .*not in time order/],
    ['between the two', { correlation: 0.7 }, 'measure', /correlation 0\.70/],
    ['never analyzed, large', { correlation: null }, 'measure', /no statistics on created_at/],
    ['never analyzed, small', { correlation: null, pages: 200 }, 'indexRange', /small table/],
    ['without an index', { indexed: false, correlation: 1 }, 'tidRange', /no index leads with created_at/],
    [
      'on PostgreSQL 13, scattered',
      { serverVersion: 130012, correlation: 0.1 },
      'indexRange',
      /PostgreSQL 13/,
    ],
    ['on PostgreSQL 13 without an index', { serverVersion: 130012, indexed: false }, 'scan', /PostgreSQL 13/],
    ['partitioned, scattered', { partitioned: true, correlation: 0.1 }, 'indexRange', /ctids repeat/],
    ['partitioned without an index', { partitioned: true, indexed: false }, 'scan', /ctids repeat/],
  ])('a table %s gets %s batches', (_, layout, shape, reason) => {
    const choice = chooseBatchShape('created_at', { ...plain, ...layout });
    expect(choice.shape).toBe(shape);
    expect(choice.reason).toMatch(reason);
  });
});

describe('retention output', () => {
  it('renders a run with its rules, vacuum and warnings', () => {
    const text = renderRetention({
      target: 'prod',
      status: 'incomplete',
      dryRun: false,
      totalRowsDeleted: 12_345,
      vacuumed: ['public.audit_logs'],
      warnings: ['no index'],
      rules: [
        {
          table: 'public.audit_logs',
          column: 'created_at',
          olderThan: '90 days',
          cutoff: 'c',
          rowsDeleted: 12_345,
          partitionsDropped: [],
          partitionsCreated: [],
          batches: 7,
          durationMs: 2_500,
          stoppedBecause: 'timeBudget',
          rowsLeft: 100,
          batchShape: 'tidRange',
          batchShapeReason:
            "correlation 0.01 of created_at with the rows' physical order: not in time order, page ranges",
          heldRowsSkipped: 2,
          pausedMs: 1_200,
        },
        {
          table: 'public.notifications',
          column: 'created_at',
          olderThan: '60 days',
          cutoff: 'c',
          where: { is_read: true },
          rowsDeleted: 0,
          partitionsDropped: [],
          partitionsCreated: [],
          batches: 0,
          durationMs: 0,
          stoppedBecause: 'timeBudget',
          rowsLeft: null,
        },
      ],
    });
    expect(text).toContain('prod: incomplete, 12,345 rows deleted');
    expect(text).toContain(
      'public.audit_logs, older than 90 days: 12,345 rows in 7 batches in 2.5 s (timeBudget, 100 left)',
    );
    expect(text).toContain(
      "    batches: heap page (TID) ranges (correlation 0.01 of created_at with the rows' physical order: not in time order, page ranges)",
    );
    expect(text).toContain('2 expired rows held by another session were skipped; the next run gets them');
    expect(text).toContain('    paused 1.2 s between batches');
    expect(text.match(/paused/g)).toHaveLength(1);
    expect(text).toContain('public.notifications where is_read = true');
    expect(text).toContain('unknown left');
    expect(text).toContain('vacuumed: public.audit_logs');
    expect(text).toContain('warning: no index');
  });
});
