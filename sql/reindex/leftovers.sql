-- leftovers: invalid indexes an interrupted REINDEX CONCURRENTLY left behind (<name>_ccnew[N] or
-- <name>_ccold[N]), optionally on one table ($1 = table oid, or null for all), skipping tables an index
-- build is running on right now (that leftover is someone's rebuild in progress). Any role; PostgreSQL 12+.
select n.nspname as schema_name, i.relname as index_name,
       n.nspname || '.' || i.relname as name,
       n.nspname || '.' || t.relname as table_name,
       pg_relation_size(i.oid)::int8 as size_bytes
  from pg_index x
  join pg_class i on i.oid = x.indexrelid
  join pg_class t on t.oid = x.indrelid
  join pg_namespace n on n.oid = i.relnamespace
 where not x.indisvalid
   and i.relname ~ '_cc(new|old)[0-9]*$'
   and ($1::oid is null or x.indrelid = $1::oid)
   and not exists (select 1 from pg_stat_progress_create_index p where p.relid = x.indrelid)
 order by n.nspname, i.relname
