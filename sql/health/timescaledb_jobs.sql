-- timescaledb_jobs: TimescaleDB background jobs whose last run failed, with their consecutive failures. Any role that can read timescaledb_information; TimescaleDB 2.x.
select j.job_id as "jobId", j.application_name as application, j.proc_name as procedure,
       js.last_run_status as "lastRunStatus", js.last_run_started_at as "lastRunStartedAt",
       js.total_failures::float8 as "totalFailures",
       coalesce((select (to_jsonb(b) ->> 'consecutive_failures')::float8
                   from {jobstat} b where b.job_id = j.job_id), case when js.last_run_status = 'Failed' then 1 else 0 end) as "consecutiveFailures"
  from timescaledb_information.jobs j
  join timescaledb_information.job_stats js on js.job_id = j.job_id
 where js.last_run_status = 'Failed'
 order by j.job_id
