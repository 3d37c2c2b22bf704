-- timescaledb_job_errors: the latest recorded error of each given job (job_errors keeps a history). Any role that can read timescaledb_information; TimescaleDB 2.9+.
select distinct on (e.job_id) e.job_id as "jobId", e.sqlerrcode as "sqlState", e.err_message as "error", e.finish_time as "at"
  from timescaledb_information.job_errors e
 where e.job_id = any($1::int[])
 order by e.job_id, e.finish_time desc
