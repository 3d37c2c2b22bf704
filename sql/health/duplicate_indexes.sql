-- duplicate_indexes: non-unique indexes whose key columns (same access method and operator classes, no expressions or predicates) are a prefix of, or equal to, another index's on the same table. Any role; PostgreSQL 10+.
select n.nspname as schema, t.relname as "table", ca.relname as index, cb.relname as "coveredBy",
       (ca.relpages::float8 * current_setting('block_size')::float8)::float8 as bytes
  from pg_index a
  join pg_index b on b.indrelid = a.indrelid and b.indexrelid <> a.indexrelid
  join pg_class ca on ca.oid = a.indexrelid
  join pg_class cb on cb.oid = b.indexrelid
  join pg_class t on t.oid = a.indrelid
  join pg_namespace n on n.oid = t.relnamespace
 where a.indisvalid and b.indisvalid and not a.indisunique
   and ca.relam = cb.relam
   and a.indexprs is null and b.indexprs is null and a.indpred is null and b.indpred is null
   and (b.indkey::text || ' ') like (a.indkey::text || ' %')
   and (b.indclass::text || ' ') like (a.indclass::text || ' %')
   -- two identical non-unique indexes: report only one of them
   and (b.indkey::text <> a.indkey::text or b.indisunique or a.indexrelid > b.indexrelid)
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
 order by n.nspname, t.relname, ca.relname
