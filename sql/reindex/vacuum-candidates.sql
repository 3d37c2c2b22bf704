-- vacuum-candidates: user tables whose dead rows exceed $1 percent of their live rows (and at least
-- $2 rows), most dead rows first. Any role; PostgreSQL 10+.
select schemaname as schema_name, relname as table_name,
       schemaname || '.' || relname as name,
       n_dead_tup::int8 as dead_rows
  from pg_stat_user_tables
 where n_dead_tup >= $2::int8
   and n_dead_tup > n_live_tup * $1::float8 / 100
 order by n_dead_tup desc
