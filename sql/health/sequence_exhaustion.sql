-- sequence_exhaustion: how far each sequence has gone towards the maximum of its own type or of the integer column it feeds (serial, identity, OWNED BY), worst first. pg_monitor sees the sequences; reading their value needs SELECT or USAGE on them (pg_read_all_data grants it); PostgreSQL 10+.
with sequences as (
  select c.oid, n.nspname, c.relname, s.seqincrement, s.seqmax::numeric as seqmax, s.seqmin::numeric as seqmin,
         has_sequence_privilege(c.oid, 'SELECT,USAGE') as readable,
         a.attrelid::regclass::text as "column_table", a.attname, a.atttypid::regtype::text as column_type
    from pg_sequence s
    join pg_class c on c.oid = s.seqrelid
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_depend d
      on d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass
     and d.deptype in ('a', 'i') and d.refobjsubid > 0
    left join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
), measured as (
  select q.*,
         case when readable then pg_sequence_last_value(oid)::numeric end as last_value,
         case column_type when 'smallint' then 32767::numeric when 'integer' then 2147483647::numeric end as column_max
    from sequences q
), limited as (
  select m.*,
         case when seqincrement > 0 then least(seqmax, coalesce(column_max, seqmax))
              else greatest(seqmin, coalesce(-column_max - 1, seqmin)) end as "limit"
    from measured m
)
select nspname as schema, relname as sequence, column_table as "table", attname as "column", column_type as "columnType",
       readable, last_value::float8 as "lastValue", "limit"::float8 as "limit",
       (case when last_value is null then 0 else 100.0 * last_value / nullif("limit", 0) end)::float8 as "usedPercent"
  from limited
 order by readable desc, case when last_value is null then 0 else last_value / nullif("limit", 0) end desc nulls last
