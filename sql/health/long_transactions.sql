-- long_transactions: open transactions of client sessions in this database, oldest first by xact_start (top 5), whatever their state (a session that keeps issuing short statements in one transaction holds back vacuum as much as an idle one), and how many are older than $1 seconds. pg_monitor sees every role's query text; PostgreSQL 10+.
select pid, usename as "user", state,
       extract(epoch from clock_timestamp() - xact_start)::float8 as seconds,
       extract(epoch from clock_timestamp() - state_change)::float8 as "inStateSeconds",
       left(regexp_replace(query, '\s+', ' ', 'g'), 120) as "lastQuery",
       (count(*) filter (where clock_timestamp() - xact_start >= make_interval(secs => $1)) over ())::int as "overWarning"
  from pg_stat_activity
 where xact_start is not null and backend_type = 'client backend'
   and datname = current_database() and pid <> pg_backend_pid()
 order by xact_start
 limit 5
