-- cache_hit_ratio: shared-buffer hits vs reads of user tables and their indexes since the statistics were reset. Any role; PostgreSQL 10+.
select (coalesce(sum(heap_blks_hit), 0) + coalesce(sum(idx_blks_hit), 0))::float8 as hits,
       (coalesce(sum(heap_blks_read), 0) + coalesce(sum(idx_blks_read), 0))::float8 as reads,
       (select stats_reset from pg_stat_database where datname = current_database()) as "statsReset"
  from pg_statio_user_tables
