import { backupParallelBench } from './backup-parallel.bench';
import { backupRestoreBench } from './backup-restore.bench';
import type { Benchmark } from './bench-context';
import { healthConnectionBench } from './health-connection.bench';
import { healthSuiteBench } from './health-suite.bench';
import { reindexBench } from './reindex.bench';
import { retentionBench } from './retention.bench';

/** Every benchmark `npm run bench` knows; each job adds its own. */
export const BENCHMARKS: readonly Benchmark[] = [
  healthConnectionBench,
  healthSuiteBench,
  backupRestoreBench,
  backupParallelBench,
  reindexBench,
  retentionBench,
];
