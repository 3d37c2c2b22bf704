-- candidates: valid btree indexes of user tables and materialized views at least $1 bytes, with the
-- standard statistical btree bloat estimate (expected pages from reltuples and pg_stats column widths,
-- after the pgsql-bloat-estimation method). Partitioned parents are left out: their partitions' indexes
-- are listed one by one. Reads pg_stats, so a role sees estimates only for tables it may read; with
-- each index, what its table's statistics are worth (never analyzed, changes since the last ANALYZE
-- against autovacuum's own analyze threshold, columns without width statistics). PostgreSQL 12+.
with btree as (
  select i.oid as index_oid,
         t.oid as table_oid,
         n.nspname as schema_name,
         i.relname as index_name,
         t.relname as table_name,
         pg_relation_size(i.oid) as size_bytes,
         pg_table_size(t.oid) as table_bytes,
         i.reltuples,
         t.reltuples as table_reltuples,
         has_table_privilege(t.oid, 'SELECT') as stats_readable,
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
         bool_and(s.attname is not null) as has_stats,
         -- A "name" column's width statistics (64 bytes) say nothing of its index entries, which
         -- btree stores as cstring (12+).
         string_agg(a.attname || ' (name)', ', ')
           filter (where a.atttypid in ('pg_catalog.name'::regtype, 'pg_catalog.cstring'::regtype)) as no_width_columns
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
         w.no_width_columns,
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
       b.size_bytes::int8 as size_bytes,
       b.table_bytes::int8 as table_bytes,
       b.fillfactor,
       ts.has_stats,
       b.stats_readable,
       ts.no_width_columns,
       b.table_reltuples::float8 as table_reltuples,
       greatest(st.last_analyze, st.last_autoanalyze) as analyzed_at,
       coalesce(st.n_mod_since_analyze, 0)::float8 as changes_since_analyze,
       -- Autovacuum's own rule for "this table needs ANALYZE" (global settings; a table's reloptions
       -- may differ).
       (current_setting('autovacuum_analyze_threshold')::float8
         + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(b.table_reltuples, 0))
         as analyze_threshold,
       case
         -- A table VACUUM or ANALYZE counted as empty has no column statistics: a fresh build is the metapage.
         when b.table_reltuples = 0 and b.reltuples = 0
          and coalesce(st.last_vacuum, st.last_autovacuum, st.last_analyze, st.last_autoanalyze) is not null
           then current_setting('block_size')::int
         when b.reltuples < 0 or not ts.has_stats or ts.no_width_columns is not null then null
         -- Pages a fresh build would fill: the metapage, plus leaf pages packed to the fillfactor
         -- (24-byte page header, 16-byte btree special space).
         else (1 + ceil(b.reltuples / floor((current_setting('block_size')::int - 24 - 16)
                                             * b.fillfactor / (100.0 * ts.bytes_per_entry))))
              * current_setting('block_size')::int
       end::int8 as expected_bytes
  from btree b
  join tuple_sizes ts on ts.index_oid = b.index_oid
  left join pg_stat_all_tables st on st.relid = b.table_oid
 order by b.size_bytes desc
