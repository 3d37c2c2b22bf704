-- invalid_indexes: indexes left invalid (a failed CREATE INDEX CONCURRENTLY, or the _ccnew/_ccold leftovers of an interrupted REINDEX CONCURRENTLY). Any role; PostgreSQL 12+.
select n.nspname as schema, t.relname as "table", c.relname as index,
       c.relname ~ '_cc(new|old)[0-9]*$' as "reindexLeftover",
       (c.relpages::float8 * current_setting('block_size')::float8)::float8 as bytes
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_class t on t.oid = i.indrelid
  join pg_namespace n on n.oid = c.relnamespace
 where not i.indisvalid
 order by n.nspname, c.relname
