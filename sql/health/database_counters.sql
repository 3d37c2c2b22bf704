-- commit_ratio, temp_files: this database's cumulative transaction and temp-file counters and when they were last reset. Any role; PostgreSQL 10+.
select xact_commit::float8 as commits, xact_rollback::float8 as rollbacks, temp_files::float8 as "tempFiles",
       temp_bytes::float8 as "tempBytes", coalesce(stats_reset, pg_postmaster_start_time()) as since
  from pg_stat_database
 where datname = current_database()
