-- old-transactions: the oldest transaction in this database (open, idle in transaction, or prepared)
-- that has been open at least $1 seconds; REINDEX CONCURRENTLY would wait for it. Sees other roles'
-- sessions fully with pg_read_all_stats. PostgreSQL 10+.
select description, age_seconds
  from (select 'pid ' || a.pid || coalesce(' (' || nullif(a.application_name, '') || ')', '') || ', ' || a.state
                 as description,
               extract(epoch from now() - a.xact_start)::float8 as age_seconds
          from pg_stat_activity a
         where a.datname = current_database()
           and a.pid <> pg_backend_pid()
           and a.xact_start is not null
           and a.backend_type = 'client backend'
        union all
        select 'prepared transaction ' || p.gid as description,
               extract(epoch from now() - p.prepared)::float8 as age_seconds
          from pg_prepared_xacts p
         where p.database = current_database()) open_transactions
 where age_seconds >= $1::float8
 order by age_seconds desc
 limit 1
