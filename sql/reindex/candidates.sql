-- candidates: valid btree indexes of user tables and materialized views at least $1 bytes, with the
-- standard statistical btree bloat estimate (expected pages from reltuples and pg_stats column widths,
-- after the pgsql-bloat-estimation method). Partitioned parents are left out: their partitions' indexes
-- are listed one by one. Reads pg_stats, so a role sees estimates only for tables it may read.
-- PostgreSQL 12+.
with btree as (
  select i.oid as index_oid,
         t.oid as table_oid,
         n.nspname as schema_name,
         i.relname as index_name,
         t.relname as table_name,
         format('%I.%I', n.nspname, i.relname) as qualified_name,
         pg_relation_size(i.oid) as size_bytes,
         pg_table_size(t.oid) as table_bytes,
         i.reltuples,
         coalesce(substring(array_to_string(i.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 90) as fillfactor
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = i.relnamespace
    join pg_am am on am.oid = i.relam
   where am.amname = 'btree'
     and i.relkind = 'i'
     and t.relkind in ('r', 'm')
     and t.relpersistence <> 't'
     and x.indisvalid and x.indisready and x.indislive
     -- REINDEX CONCURRENTLY cannot rebuild the index of an exclusion constraint.
     and not x.indisexclusion
     and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
     and n.nspname !~ '^pg_(toast_)?temp_'
     and pg_relation_size(i.oid) >= $1::bigint
),
widths as (
  -- Per index: the average width of a leaf tuple's data, from the table's (or, for expressions, the
  -- index's) column statistics, with nulls taking no space.
  select b.index_oid,
         max(coalesce(s.null_frac, 0)) > 0 as has_nulls,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) as data_width,
         -- Columns of type "name" have no usable width statistics; a column without statistics has none.
         bool_and(s.attname is not null and a.atttypid <> 'pg_catalog.name'::regtype) as has_stats
    from btree b
    join pg_attribute a on a.attrelid = b.index_oid and a.attnum > 0
    left join pg_stats s
      on s.schemaname = b.schema_name
     and ((s.tablename = b.table_name and s.attname = pg_get_indexdef(a.attrelid, a.attnum, true))
       or (s.tablename = b.index_name and s.attname = a.attname))
   group by b.index_oid
),
tuple_sizes as (
  select w.index_oid,
         w.has_stats,
         -- IndexTupleData (8 bytes), plus a null bitmap when a column can be null, padded to MAXALIGN;
         -- then the data, padded to MAXALIGN; then its 4-byte line pointer.
         4 + ceil((8 + case when w.has_nulls then 4 else 0 end) / 8.0) * 8
           + ceil(w.data_width / 8.0) * 8 as bytes_per_entry
    from widths w
)
select b.index_oid::int8 as index_oid,
       b.table_oid::int8 as table_oid,
       b.schema_name,
       b.index_name,
       b.table_name,
       b.qualified_name,
       b.size_bytes::int8 as size_bytes,
       b.table_bytes::int8 as table_bytes,
       b.fillfactor,
       case
         when b.reltuples < 0 or not ts.has_stats then null
         -- Pages a fresh build would fill: the metapage, plus leaf pages packed to the fillfactor
         -- (24-byte page header, 16-byte btree special space).
         else (1 + ceil(b.reltuples / floor((current_setting('block_size')::int - 24 - 16)
                                             * b.fillfactor / (100.0 * ts.bytes_per_entry))))
              * current_setting('block_size')::int
       end::int8 as expected_bytes
  from btree b
  join tuple_sizes ts on ts.index_oid = b.index_oid
 order by b.size_bytes desc
