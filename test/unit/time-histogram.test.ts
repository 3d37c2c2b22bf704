import { describe, expect, it } from 'vitest';
import {
  rangeEnd,
  rowsBetween,
  type TimeHistogram,
  timeText,
} from '../../functions/retention/time-histogram';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** 1,000,000 rows spread evenly over 100 days from T0 (10 buckets of 10 days), the cutoff at day 50. */
const even: TimeHistogram = {
  withZone: true,
  rows: 1_000_000,
  bounds: Array.from({ length: 11 }, (_, i) => T0 + i * 10 * DAY),
  bucketShare: 1,
  common: [],
  cutoff: T0 + 50 * DAY,
};

describe('time histogram: ranges sized from the column statistics', () => {
  it('puts rows in a range as the buckets say, linear within one', () => {
    expect(rowsBetween(even, T0, T0 + 10 * DAY)).toBeCloseTo(100_000);
    expect(rowsBetween(even, T0 + 5 * DAY, T0 + 25 * DAY)).toBeCloseTo(200_000);
    expect(rowsBetween(even, T0 - 10 * DAY, T0)).toBe(0);
    expect(rowsBetween(even, T0 + 100 * DAY, T0 + 200 * DAY)).toBe(0);
  });

  it('counts the common values, and only the buckets share of the rows in buckets', () => {
    const h = { ...even, bucketShare: 0.5, common: [{ at: T0 + 3 * DAY, share: 0.4 }] };
    expect(rowsBetween(h, T0, T0 + 10 * DAY)).toBeCloseTo(50_000 + 400_000);
    expect(rowsBetween(h, T0 + 3 * DAY + 1, T0 + 10 * DAY)).toBeCloseTo(35_000, -1);
  });

  it('ends a range where about the asked rows lie, in whole milliseconds', () => {
    const end = rangeEnd(even, T0 + 20 * DAY, 5_000);
    expect(typeof end).toBe('number');
    expect(end).toBe(Math.floor(T0 + 20 * DAY + DAY / 2));
    expect(rowsBetween(even, T0 + 20 * DAY, end as number)).toBeLessThanOrEqual(5_000);
    expect(rowsBetween(even, T0 + 20 * DAY, (end as number) + 1)).toBeGreaterThan(5_000);
  });

  it('runs to the cutoff when what is left before it fits', () => {
    expect(rangeEnd(even, T0 + 49 * DAY, 10_000)).toBe('cutoff');
    expect(rangeEnd(even, T0 + 49 * DAY, 9_000)).not.toBe('cutoff');
  });

  it('cannot say before the oldest time the statistics saw, past the newest, or inside a tie', () => {
    expect(rangeEnd(even, T0 - 1, 1_000)).toBeNull();
    // Statistics older than the newest expired rows: the rows after their newest time are uncounted.
    const stale = { ...even, cutoff: T0 + 120 * DAY };
    expect(rangeEnd(stale, T0 + 99 * DAY, 1_000_000)).toBeNull();
    expect(typeof rangeEnd(stale, T0 + 20 * DAY, 1_000)).toBe('number');
    const tie = { ...even, bucketShare: 0.9, common: [{ at: T0 + 20 * DAY, share: 0.1 }] };
    expect(rangeEnd(tie, T0 + 20 * DAY, 50_000)).toBeNull();
  });

  it('writes times as the column reads them: an instant for timestamptz, wall-clock UTC for timestamp', () => {
    expect(timeText({ withZone: true }, T0 + 1234)).toBe('2026-01-01T00:00:01.234Z');
    expect(timeText({ withZone: false }, T0 + 1234)).toBe('2026-01-01T00:00:01.234');
  });
});
