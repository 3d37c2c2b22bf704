/**
 * A benchmark: measures one job against its named baseline in the same run (the machine is
 * shared and noisy, so only ratios measured side by side mean anything) and prints the figures.
 */
export interface Benchmark {
  readonly name: string;
  /** The target the issue sets, as text for the report ("≤ 1.15× pg_dump | gzip"). */
  readonly target: string;
  run(): Promise<BenchOutcome>;
}

export interface BenchOutcome {
  /** Printed lines: measured figures and ratios. */
  readonly lines: readonly string[];
  /** Whether the measured figures meet the target. */
  readonly pass: boolean;
}

/** Median of a few timed runs of `work`, in milliseconds. */
export async function medianMs(runs: number, work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
