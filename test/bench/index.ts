import type { Benchmark } from './bench-context';
import { healthConnectionBench } from './health-connection.bench';

/** Every benchmark `npm run bench` knows; each job adds its own. */
export const BENCHMARKS: readonly Benchmark[] = [healthConnectionBench];
