/**
 * How much of a sequence's range is used. The range is the sequence's own (minvalue..maxvalue),
 * narrowed to the integer column it feeds; an ascending sequence uses it up from the bottom, a
 * descending one from the top. A sequence from −2³¹ at 1.9e9 has used 94% of an int column.
 */

export interface SequenceRange {
  readonly increment: number;
  readonly minValue: number;
  readonly maxValue: number;
  /** null until the first nextval (or when the role cannot read it). */
  readonly lastValue: number | null;
  /** The type of the narrowest column it feeds, as regtype prints it; null when it feeds none. */
  readonly columnType: string | null;
}

const COLUMN_BOUNDS: Record<string, readonly [number, number]> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** The values the sequence can still hand out to its column: its range within the column type's. */
export function effectiveRange(sequence: SequenceRange): { low: number; high: number } {
  const bounds = sequence.columnType ? COLUMN_BOUNDS[sequence.columnType] : undefined;
  return {
    low: Math.max(sequence.minValue, bounds?.[0] ?? -Infinity),
    high: Math.min(sequence.maxValue, bounds?.[1] ?? Infinity),
  };
}

/** Percent of the range used, 0 before the first value, 100 at (or past: a wider sequence) the end. */
export function usedPercent(sequence: SequenceRange): number {
  if (sequence.lastValue === null) return 0;
  const { low, high } = effectiveRange(sequence);
  if (high <= low) return 100;
  const used = sequence.increment > 0 ? sequence.lastValue - low : high - sequence.lastValue;
  return Math.min(100, Math.max(0, (100 * used) / (high - low)));
}

/** The value at which nextval fails (or the column overflows): the end the sequence moves towards. */
export function exhaustedAt(sequence: SequenceRange): number {
  const { low, high } = effectiveRange(sequence);
  return sequence.increment > 0 ? high : low;
}
