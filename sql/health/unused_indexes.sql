-- unused_indexes: valid, non-unique indexes of at least $1 bytes never scanned since the statistics were reset, largest first. Any role; PostgreSQL 10+.
-- The size floor is applied before the per-index statistics lookups, which dominate on big catalogs.
with candidates as materialized (
  select c.oid, n.nspname, t.relname as table_name, c.relname as index_name,
         (c.relpages::float8 * current_setting('block_size')::float8)::float8 as bytes
    from pg_index i
    join pg_class c on c.oid = i.indexrelid
    join pg_class t on t.oid = i.indrelid
    join pg_namespace n on n.oid = t.relnamespace
   where i.indisvalid and not i.indisunique and not i.indisprimary
     and c.relpages::float8 * current_setting('block_size')::float8 >= $1
     and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
     and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
)
select nspname as schema, table_name as "table", index_name as index, bytes,
       (select stats_reset from pg_stat_database where datname = current_database()) as "statsReset"
  from candidates
 where pg_stat_get_numscans(oid) = 0
 order by bytes desc, index_name
