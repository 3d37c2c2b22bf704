-- blocked_queries: sessions of this database waiting for a lock, longest wait first (top 5), with the pids blocking them. pg_monitor; PostgreSQL 14+ (pg_locks.waitstart; blocked_queries-pg13.sql before).
select a.pid, a.usename as "user",
       extract(epoch from clock_timestamp() - coalesce(l.waitstart, a.query_start))::float8 as seconds,
       pg_blocking_pids(a.pid) as "blockedBy", l.locktype as "lockType", l.mode,
       l.relation::regclass::text as relation,
       left(regexp_replace(a.query, '\s+', ' ', 'g'), 120) as query,
       (count(*) over ())::int as waiting
  from pg_locks l
  join pg_stat_activity a on a.pid = l.pid
 where not l.granted and a.datname = current_database() and a.pid <> pg_backend_pid()
 order by coalesce(l.waitstart, a.query_start)
 limit 5
