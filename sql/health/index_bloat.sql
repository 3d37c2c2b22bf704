-- index_bloat: estimated bloat of valid btree indexes of at least $1 bytes, from pg_class and pg_stats (a simplified ioguix estimate), worst first (top 5), and up to 20 indexes it cannot estimate with why (table never analyzed, columns without statistics, expressions, statistics hidden from the role). pg_monitor plus SELECT on the tables (pg_stats); PostgreSQL 11+.
with indexes as (
  select i.indexrelid, i.indrelid, n.nspname, t.relname as table_name, c.relname as index_name,
         c.reltuples::float8 as reltuples, c.relpages::float8 as relpages, i.indkey,
         i.indexprs is not null as has_expressions, t.reltuples < 0 as table_never_counted,
         has_table_privilege(t.oid, 'SELECT') as readable,
         coalesce((select substring(o from 'fillfactor=(\d+)')::int
                     from unnest(c.reloptions) o where o like 'fillfactor=%'), 90) as fillfactor
    from pg_index i
    join pg_class c on c.oid = i.indexrelid
    join pg_class t on t.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_am am on am.oid = c.relam
   where am.amname = 'btree' and i.indisvalid
     -- An index's relpages is only what CREATE INDEX, VACUUM or ANALYZE last saw: while its table
     -- has never been counted, only the file's real size tells. It is asked only when the
     -- statistics counters saw rows in the table (pg_relation_size opens the file, and would wait
     -- behind an ACCESS EXCLUSIVE lock: an index locked so is not asked), not of every index on an empty table of a large catalog.
     and (c.relpages::float8 * current_setting('block_size')::float8 >= $1
          or ((t.reltuples < 0 or c.reltuples < 0 or c.relpages <= 1)
              and pg_stat_get_live_tuples(t.oid) + pg_stat_get_dead_tuples(t.oid) > 0
              and (case when exists (select 1 from pg_locks l where l.locktype = 'relation' and l.database = (select d.oid from pg_database d where d.datname = current_database()) and l.relation = c.oid and l.mode = 'AccessExclusiveLock') then 0 else pg_relation_size(c.oid) end) >= $1))
     and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
), widths as (
  -- pg_stats is a security-barrier view: a lateral lookup per index lets PostgreSQL use its indexes
  -- instead of building the whole view.
  select x.indexrelid, cardinality(x.indkey::int2[]) as columns, s.with_stats, s.data_width, s.has_nulls
    from indexes x
    cross join lateral (
      select array_agg(a.attname) as names
        from unnest(x.indkey::int2[]) as key(attnum)
        join pg_attribute a on a.attrelid = x.indrelid and a.attnum = key.attnum
    ) k
    cross join lateral (
      select count(*) as with_stats,
             coalesce(sum((1 - st.null_frac) * st.avg_width), 0) as data_width,
             coalesce(bool_or(st.null_frac > 0), false) as has_nulls
        from pg_stats st
       where st.schemaname = x.nspname and st.tablename = x.table_name and not st.inherited
         and st.attname = any (k.names)
    ) s
), estimates as (
  select x.indexrelid, x.nspname, x.table_name, x.index_name, x.relpages,
         w.columns = w.with_stats and x.reltuples >= 0 and not x.table_never_counted as estimable,
         case when x.has_expressions then 'expression'
              when not x.readable then 'hidden'
              when x.table_never_counted or x.reltuples < 0 or w.with_stats = 0 then 'never analyzed'
              when w.with_stats < w.columns then 'columns without statistics' end as "missingStatistics",
         -- index tuple: 8-byte header (+ 4-byte null bitmap) and data, each aligned to 8, plus a 4-byte
         -- line pointer; a page loses 24 bytes of header and 16 of btree special space; one metapage
         ceil(x.reltuples / greatest(floor(
           (current_setting('block_size')::float8 - 40) * x.fillfactor / 100.0
           / (8 + case when w.has_nulls then 8 else 0 end + ceil(w.data_width / 8.0) * 8 + 4)), 1)) + 1 as expected_pages
    from indexes x
    join widths w on w.indexrelid = x.indexrelid
), ranked as (
  select e.*,
         (count(*) filter (where not estimable) over ())::int as "notEstimated",
         (count(*) over ())::int as considered,
         row_number() over (partition by estimable
                            order by greatest(relpages - expected_pages, 0) / greatest(relpages, 1) desc, relpages desc) as rank
    from estimates e
)
select r.nspname as schema, r.table_name as "table", r.index_name as index,
       case when r.estimable then r.relpages * current_setting('block_size')::float8
            else greatest(r.relpages * current_setting('block_size')::float8, (case when exists (select 1 from pg_locks l where l.locktype = 'relation' and l.database = (select d.oid from pg_database d where d.datname = current_database()) and l.relation = r.indexrelid and l.mode = 'AccessExclusiveLock') then 0 else pg_relation_size(r.indexrelid) end)) end::float8 as bytes,
       (greatest(r.relpages - r.expected_pages, 0) * current_setting('block_size')::float8)::float8 as "bloatBytes",
       (100.0 * greatest(r.relpages - r.expected_pages, 0) / greatest(r.relpages, 1))::float8 as "bloatPercent",
       r."notEstimated", r.considered, r.estimable, r."missingStatistics"
  from ranked r
 where r.rank <= case when r.estimable then 5 else 20 end
 order by r.estimable desc, r.rank
