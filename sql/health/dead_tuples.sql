-- dead_tuples: tables with at least $1 dead rows that no vacuum has touched for a day, by dead/live ratio (top 5). Any role; PostgreSQL 10+.
select schemaname as schema, relname as "table", n_live_tup::float8 as live, n_dead_tup::float8 as dead,
       (100.0 * n_dead_tup / greatest(n_live_tup, 1))::float8 as "deadPercent",
       greatest(last_vacuum, last_autovacuum) as "lastVacuum",
       (count(*) over ())::int as total
  from pg_stat_user_tables
 where n_dead_tup >= $1
   and coalesce(greatest(last_vacuum, last_autovacuum), '-infinity') < clock_timestamp() - interval '1 day'
 order by n_dead_tup::float8 / greatest(n_live_tup, 1) desc
 limit 5
