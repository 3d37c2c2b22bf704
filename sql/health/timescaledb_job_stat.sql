-- timescaledb_job_stat: where TimescaleDB keeps its per-job statistics table (the schema moved between
-- releases), as schema and name; no row when neither exists. Any role; TimescaleDB 2.x.
select n.nspname as schema, c.relname as name
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where c.oid = coalesce(to_regclass('_timescaledb_internal.bgw_job_stat'),
                        to_regclass('_timescaledb_catalog.bgw_job_stat'))
