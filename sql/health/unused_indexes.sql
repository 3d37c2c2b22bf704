-- unused_indexes: valid, non-unique indexes never scanned since the statistics were reset, of at least $1 bytes, largest first. Any role; PostgreSQL 10+.
select s.schemaname as schema, s.relname as "table", s.indexrelname as index,
       (c.relpages::float8 * current_setting('block_size')::float8)::float8 as bytes,
       (select stats_reset from pg_stat_database where datname = current_database()) as "statsReset"
  from pg_stat_user_indexes s
  join pg_index i on i.indexrelid = s.indexrelid
  join pg_class c on c.oid = s.indexrelid
 where s.idx_scan = 0 and i.indisvalid and not i.indisunique and not i.indisprimary
   and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
   and c.relpages::float8 * current_setting('block_size')::float8 >= $1
 order by c.relpages desc, s.indexrelname
