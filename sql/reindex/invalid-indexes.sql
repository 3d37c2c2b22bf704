-- invalid-indexes: invalid indexes that are not REINDEX CONCURRENTLY leftovers (a failed CREATE INDEX
-- CONCURRENTLY, say): reported for a human to decide, never touched. Any role; PostgreSQL 12+.
select n.nspname || '.' || i.relname as name
  from pg_index x
  join pg_class i on i.oid = x.indexrelid
  join pg_namespace n on n.oid = i.relnamespace
 where not x.indisvalid
   and i.relname !~ '_cc(new|old)[0-9]*$'
   and not exists (select 1 from pg_stat_progress_create_index p where p.relid = x.indrelid)
 order by 1
