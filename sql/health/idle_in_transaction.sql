-- idle_in_transaction: sessions of this database idle inside an open transaction, longest first (top 5). pg_monitor; PostgreSQL 10+.
select pid, usename as "user", state, extract(epoch from clock_timestamp() - state_change)::float8 as seconds,
       extract(epoch from clock_timestamp() - xact_start)::float8 as "transactionSeconds",
       left(regexp_replace(query, '\s+', ' ', 'g'), 120) as "lastQuery",
       (count(*) over ())::int as total
  from pg_stat_activity
 where state in ('idle in transaction', 'idle in transaction (aborted)')
   and datname = current_database() and pid <> pg_backend_pid()
 order by state_change
 limit 5
