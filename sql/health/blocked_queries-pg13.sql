-- blocked_queries on PostgreSQL 13, which has no pg_locks.waitstart: the wait is measured from the start of the waiting statement (at least as long as the lock wait), otherwise as blocked_queries.sql. pg_monitor; PostgreSQL 13.
select a.pid, a.usename as "user",
       extract(epoch from clock_timestamp() - a.query_start)::float8 as seconds,
       pg_blocking_pids(a.pid) as "blockedBy", l.locktype as "lockType", l.mode,
       l.relation::regclass::text as relation,
       left(regexp_replace(a.query, '\s+', ' ', 'g'), 120) as query,
       (count(*) over ())::int as waiting
  from pg_locks l
  join pg_stat_activity a on a.pid = l.pid
 where not l.granted and a.datname = current_database() and a.pid <> pg_backend_pid()
 order by a.query_start
 limit 5
