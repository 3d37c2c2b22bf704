-- long_running_queries: active statements in this database, oldest first (top 5) and how many run longer than $1 seconds. pg_monitor sees every role's query text; PostgreSQL 10+.
select pid, usename as "user", extract(epoch from clock_timestamp() - query_start)::float8 as seconds,
       wait_event_type as "waitEventType",
       left(regexp_replace(query, '\s+', ' ', 'g'), 120) as query,
       (count(*) filter (where clock_timestamp() - query_start >= make_interval(secs => $1)) over ())::int as over_threshold
  from pg_stat_activity
 where state = 'active' and backend_type = 'client backend'
   and datname = current_database() and pid <> pg_backend_pid() and query_start is not null
 order by query_start
 limit 5
