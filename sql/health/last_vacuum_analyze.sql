-- last_vacuum_analyze: tables with at least $1 rows changed since their last analyze, by how long since either was last vacuumed or analyzed (never: at least since the statistics began), top 5. Any role; PostgreSQL 10+.
with since as (
  select coalesce(stats_reset, pg_postmaster_start_time()) as at from pg_stat_database where datname = current_database()
)
select schemaname as schema, relname as "table", n_mod_since_analyze::float8 as "changedSinceAnalyze",
       greatest(last_vacuum, last_autovacuum) as "lastVacuum", greatest(last_analyze, last_autoanalyze) as "lastAnalyze",
       extract(epoch from clock_timestamp() - coalesce(greatest(last_vacuum, last_autovacuum, last_analyze, last_autoanalyze),
                                                       (select at from since)))::float8 as "ageSeconds",
       (count(*) over ())::int as total
  from pg_stat_user_tables
 where n_mod_since_analyze >= $1
 order by "ageSeconds" desc
 limit 5
