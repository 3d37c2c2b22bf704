import { describe, expect, it } from 'vitest';
import { exhaustedAt, type SequenceRange, usedPercent } from '../../functions/health/checks/sequence-range';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
/** bigint maxvalue as the check receives it (float8): 2^63. */
const BIGINT_MAX = 2 ** 63;

const sequence = (overrides: Partial<SequenceRange>): SequenceRange => ({
  increment: 1,
  minValue: 1,
  maxValue: INT_MAX,
  lastValue: 1,
  columnType: null,
  ...overrides,
});

describe('sequence_exhaustion: the share of its range a sequence has used', () => {
  it.each<[string, Partial<SequenceRange>, number]>([
    ['an int serial at 95%', { lastValue: 2040109466 }, 95],
    ['never called', { lastValue: null }, 0],
    ['at its first value', { lastValue: 1 }, 0],
    ['at its maximum', { lastValue: INT_MAX }, 100],
    ['from -2^31, at 1.9e9', { minValue: INT_MIN, lastValue: 1_900_000_000 }, 94.24],
    ['from -2^31, at -1e9', { minValue: INT_MIN, lastValue: -1_000_000_000 }, 26.72],
    ['from -2^31, at its start', { minValue: INT_MIN, lastValue: INT_MIN }, 0],
    [
      'descending from -1 towards -2^31, at -1.9e9',
      { increment: -1, minValue: INT_MIN, maxValue: -1, lastValue: -1_900_000_000 },
      88.48,
    ],
    [
      'a bigint sequence feeding an int column at 80% of the column',
      { maxValue: BIGINT_MAX, lastValue: 1717986918, columnType: 'integer' },
      80,
    ],
    [
      'a bigint sequence feeding a smallint column, past the column maximum',
      { maxValue: BIGINT_MAX, lastValue: 40000, columnType: 'smallint' },
      100,
    ],
    [
      'a bigint sequence feeding a bigint column',
      { maxValue: BIGINT_MAX, lastValue: 1717986918, columnType: 'bigint' },
      0,
    ],
  ])('%s', (_, overrides, percent) => {
    expect(usedPercent(sequence(overrides))).toBeCloseTo(percent, 2);
  });

  it('runs out at the end it moves towards, within the column type', () => {
    expect(exhaustedAt(sequence({}))).toBe(INT_MAX);
    expect(exhaustedAt(sequence({ increment: -1, minValue: INT_MIN, maxValue: -1 }))).toBe(INT_MIN);
    expect(exhaustedAt(sequence({ maxValue: BIGINT_MAX, columnType: 'smallint' }))).toBe(32767);
  });
});
