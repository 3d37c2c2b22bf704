-- prepared_transactions: two-phase transactions of this database left prepared, oldest first (top 5). Any role; PostgreSQL 10+.
select gid, owner, extract(epoch from clock_timestamp() - prepared)::float8 as seconds,
       prepared as "preparedAt", (count(*) over ())::int as total
  from pg_prepared_xacts
 where database = current_database()
 order by prepared
 limit 5
