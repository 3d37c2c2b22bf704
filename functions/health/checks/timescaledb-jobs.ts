import { fixed, ident, sqlWithSlots } from '../../shared/pg/sql-names';
import { loadSql } from '../../shared/sql';
import type { HealthCheck, Query } from '../check';

interface Row {
  jobId: number;
  application: string;
  procedure: string;
  lastRunStatus: string;
  lastRunStartedAt: Date | null;
  totalFailures: number;
  consecutiveFailures: number;
  /** The job's latest recorded error (timescaledb_information.job_errors, TimescaleDB 2.9+). */
  lastError?: string;
}

/** Each failing job with its latest error message, where this TimescaleDB records job errors. */
async function withLastErrors(query: Query, rows: readonly Row[]): Promise<Row[]> {
  if (rows.length === 0) return [];
  const [view] = await query<{ name: string | null }>(
    "select to_regclass('timescaledb_information.job_errors')::text as name",
  );
  if (!view?.name) return [...rows];
  const errors = await query<{ jobId: number; error: string }>(loadSql('health/timescaledb_job_errors'), [
    rows.map((r) => r.jobId),
  ]);
  const byJob = new Map(errors.map((e) => [e.jobId, e.error]));
  return rows.map((r) => {
    const lastError = byJob.get(r.jobId);
    return lastError === undefined ? r : { ...r, lastError };
  });
}

/** `timescaledb_jobs`: TimescaleDB background jobs (compression, retention, aggregates) that fail. */
export const timescaledbJobsCheck: HealthCheck = {
  name: 'timescaledb_jobs',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: 3 },
  async run({ query }) {
    const [extension] = await query<{ schema: string }>(loadSql('health/extension'), ['timescaledb']);
    if (!extension) return { skipped: 'TimescaleDB is not installed in this database' };
    const [found] = await query<{ schema: string; name: string }>(loadSql('health/timescaledb_job_stat'));
    const jobstat = found ? ident(found.schema, found.name) : fixed('(select null::int as job_id)');
    const failing = await query<Row>(sqlWithSlots('health/timescaledb_jobs', { jobstat }));
    const rows = await withLastErrors(query, failing);
    const worst = Math.max(0, ...rows.map((r) => r.consecutiveFailures));
    return {
      value: worst,
      message:
        rows.length === 0
          ? 'no failing TimescaleDB job'
          : `${rows.length} TimescaleDB job(s) failing; worst ${worst} time(s) in a row (${rows
              .slice(0, 3)
              .map((r) => `${r.jobId} ${r.application}${r.lastError ? `: ${r.lastError}` : ''}`)
              .join(', ')})`,
      details: { jobs: rows },
      recommendation:
        'Read the job errors (timescaledb_information.job_errors, or the server log), fix the cause, and run the job once by hand with CALL run_job(job_id).',
    };
  },
};
