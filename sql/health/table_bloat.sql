-- table_bloat: estimated bloat of tables of at least $1 bytes, from pg_class and pg_stats (a simplified ioguix estimate), worst first (top 5), and up to 20 tables it cannot estimate with why (never analyzed, columns without statistics, statistics hidden from the role). pg_monitor plus SELECT on the tables (pg_stats hides columns the role cannot read; pg_read_all_data grants it); PostgreSQL 10+.
with tables as (
  select c.oid, n.nspname, c.relname, c.reltuples::float8 as reltuples, c.relpages::float8 as relpages,
         has_table_privilege(c.oid, 'SELECT') as readable,
         coalesce((select substring(o from 'fillfactor=(\d+)')::int
                     from unnest(c.reloptions) o where o like 'fillfactor=%'), 100) as fillfactor
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'm')
     -- relpages is 0 until the first VACUUM or ANALYZE: then only the file's real size tells. It is
     -- asked only of tables the statistics counters saw rows in (pg_relation_size opens the file,
     -- and would wait behind an ACCESS EXCLUSIVE lock: a table locked so is not asked), not of every empty table of a large catalog.
     and (c.relpages::float8 * current_setting('block_size')::float8 >= $1
          or (c.relpages = 0
              and pg_stat_get_live_tuples(c.oid) + pg_stat_get_dead_tuples(c.oid) > 0
              and (case when exists (select 1 from pg_locks l where l.locktype = 'relation' and l.database = (select d.oid from pg_database d where d.datname = current_database()) and l.relation = c.oid and l.mode = 'AccessExclusiveLock') then 0 else pg_relation_size(c.oid) end) >= $1))
     and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
), widths as (
  -- pg_stats is a security-barrier view: a lateral lookup per table lets PostgreSQL use its indexes
  -- instead of building the whole view.
  select t.oid,
         (select count(*) from pg_attribute a
           where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped) as columns,
         s.with_stats, s.data_width, s.has_nulls
    from tables t
    cross join lateral (
      select count(*) as with_stats,
             coalesce(sum((1 - st.null_frac) * st.avg_width), 0) as data_width,
             coalesce(bool_or(st.null_frac > 0), false) as has_nulls
        from pg_stats st
       where st.schemaname = t.nspname and st.tablename = t.relname and not st.inherited
    ) s
), estimates as (
  select t.oid, t.nspname, t.relname, t.relpages, t.reltuples, w.columns = w.with_stats and t.reltuples >= 0 as estimable,
         case when not t.readable then 'hidden'
              when t.reltuples < 0 or w.with_stats = 0 then 'never analyzed'
              when w.with_stats < w.columns then 'columns without statistics' end as "missingStatistics",
         -- heap tuple: 23-byte header (+ null bitmap) aligned to 8, data aligned to 8, 4-byte line pointer
         ceil(t.reltuples / greatest(floor(
           (current_setting('block_size')::float8 - 24) * t.fillfactor / 100.0
           / (ceil((23 + case when w.has_nulls then ceil(w.columns / 8.0) else 0 end) / 8.0) * 8
              + ceil(w.data_width / 8.0) * 8 + 4)), 1)) as expected_pages
    from tables t
    join widths w on w.oid = t.oid
), ranked as (
  select e.*,
         (count(*) filter (where not estimable) over ())::int as "notEstimated",
         (count(*) over ())::int as considered,
         row_number() over (partition by estimable
                            order by greatest(relpages - expected_pages, 0) / greatest(relpages, 1) desc, relpages desc) as rank
    from estimates e
)
select r.nspname as schema, r.relname as "table",
       case when r.estimable then r.relpages * current_setting('block_size')::float8
            else greatest(r.relpages * current_setting('block_size')::float8, (case when exists (select 1 from pg_locks l where l.locktype = 'relation' and l.database = (select d.oid from pg_database d where d.datname = current_database()) and l.relation = r.oid and l.mode = 'AccessExclusiveLock') then 0 else pg_relation_size(r.oid) end)) end::float8 as bytes,
       (greatest(r.relpages - r.expected_pages, 0) * current_setting('block_size')::float8)::float8 as "bloatBytes",
       (100.0 * greatest(r.relpages - r.expected_pages, 0) / greatest(r.relpages, 1))::float8 as "bloatPercent",
       r."notEstimated", r.considered, r.estimable, r."missingStatistics"
  from ranked r
 where r.rank <= case when r.estimable then 5 else 20 end
 order by r.estimable desc, r.rank
