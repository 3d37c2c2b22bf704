import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  jobId: number;
  application: string;
  procedure: string;
  lastRunStatus: string;
  lastRunStartedAt: Date | null;
  totalFailures: number;
  consecutiveFailures: number;
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
    // Where the per-job statistics table lives moved between releases; to_regclass finds it and quotes it.
    const [found] = await query<{ name: string | null }>(
      "select coalesce(to_regclass('_timescaledb_internal.bgw_job_stat'), to_regclass('_timescaledb_catalog.bgw_job_stat'))::text as name",
    );
    const stats = found?.name ?? '(select null::int as job_id)';
    const rows = await query<Row>(loadSql('health/timescaledb_jobs').replaceAll('@bgw_job_stat@', stats));
    const worst = Math.max(0, ...rows.map((r) => r.consecutiveFailures));
    return {
      value: worst,
      message:
        rows.length === 0
          ? 'no failing TimescaleDB job'
          : `${rows.length} TimescaleDB job(s) failing; worst ${worst} time(s) in a row (${rows
              .slice(0, 3)
              .map((r) => `${r.jobId} ${r.application}`)
              .join(', ')})`,
      details: { jobs: rows },
      recommendation:
        'Read the job errors (timescaledb_information.job_errors, or the server log), fix the cause, and run the job once by hand with CALL run_job(job_id).',
    };
  },
};
