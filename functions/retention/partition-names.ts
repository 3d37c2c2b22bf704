/**
 * Names for premade partitions follow the newest partition's own pattern: `trades_20261125` is
 * followed by `trades_20261126`, `orders_2026_11` by `orders_2026_12`. A name that carries no
 * recognisable date gets `<parent>_p<YYYYMMDD>`.
 */

interface BoundParts {
  readonly year: string;
  readonly month: string;
  readonly day: string;
  readonly hour: string;
  readonly minute: string;
}

/** The server's timestamptz text, `2026-11-25 00:00:00+00`, read as local date parts. */
export function boundParts(bound: string): BoundParts | undefined {
  const match = /^(\d{4,})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}))?/.exec(bound);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { year: match[1], month: match[2], day: match[3], hour: match[4] ?? '00', minute: match[5] ?? '00' };
}

// Longest first, so `20261125` is not mistaken for the month `202611`.
const PATTERNS: ReadonlyArray<(p: BoundParts) => string> = [
  (p) => `${p.year}${p.month}${p.day}_${p.hour}${p.minute}`,
  (p) => `${p.year}_${p.month}_${p.day}`,
  (p) => `${p.year}-${p.month}-${p.day}`,
  (p) => `${p.year}${p.month}${p.day}`,
  (p) => `${p.year}_${p.month}`,
  (p) => `${p.year}-${p.month}`,
  (p) => `${p.year}${p.month}`,
  (p) => `${p.year}`,
];

export function nextPartitionName(
  parent: string,
  newest: { readonly name: string; readonly lowerBound: string | null },
  lowerBound: string,
): string {
  const next = boundParts(lowerBound);
  if (!next) throw new Error(`cannot read partition bound "${lowerBound}"`);
  const previous = newest.lowerBound ? boundParts(newest.lowerBound) : undefined;
  if (previous) {
    for (const pattern of PATTERNS) {
      const old = pattern(previous);
      const at = newest.name.lastIndexOf(old);
      const name =
        at >= 0 ? newest.name.slice(0, at) + pattern(next) + newest.name.slice(at + old.length) : '';
      // A coarser pattern than the interval (a year in the name of monthly partitions) would repeat it.
      if (name && name !== newest.name) return name;
    }
  }
  const time = next.hour === '00' && next.minute === '00' ? '' : `_${next.hour}${next.minute}`;
  return `${parent}_p${next.year}${next.month}${next.day}${time}`;
}
