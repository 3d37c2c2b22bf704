import type { Client } from 'pg';
import type { JobContext } from '../shared/job';
import type { Pacing } from './pacing';
import { qualifiedName, type ResolvedRule } from './rules';

/** What the steps of one run share: the job context, the run's one connection, pacing, warnings so far. */
export interface RunState {
  readonly context: JobContext;
  readonly client: Client;
  readonly pacing: Pacing;
  readonly warnings: string[];
}

/** How a rule appears in the result: its table as resolved, its column, age, cutoff and filter. */
export function describeRule(rule: ResolvedRule, cutoff: string) {
  const base = { table: qualifiedName(rule), column: rule.column, olderThan: rule.olderThan, cutoff };
  if (rule.kind === 'partitions') return { ...base, partitions: true as const };
  if (rule.kind === 'chunks') return { ...base, hypertable: true as const };
  if (rule.where.length === 0) return base;
  return { ...base, where: Object.fromEntries(rule.where.map((w) => [w.column, w.configured])) };
}
