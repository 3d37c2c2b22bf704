-- sequence_exhaustion: every sequence with its range (minvalue..maxvalue, increment), its last value, and the narrowest integer column it feeds: through serial, identity or OWNED BY, or only through a column DEFAULT nextval(...). pg_monitor sees the sequences; reading their value needs SELECT or USAGE on them (pg_read_all_data grants it); PostgreSQL 10+.
with sequences as (
  select c.oid, n.nspname, c.relname, s.seqincrement::float8 as increment,
         s.seqmin::float8 as seqmin, s.seqmax::float8 as seqmax,
         has_sequence_privilege(c.oid, 'SELECT,USAGE') as readable
    from pg_sequence s
    join pg_class c on c.oid = s.seqrelid
    join pg_namespace n on n.oid = c.relnamespace
), fed as (
  -- Columns a sequence feeds: owned (serial, identity, OWNED BY: the sequence depends on the column),
  -- or named by a column default (the default depends on the sequence).
  select d.objid as seq_oid, d.refobjid as table_oid, d.refobjsubid as attnum
    from pg_depend d
   where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass
     and d.deptype in ('a', 'i') and d.refobjsubid > 0
  union
  select d.refobjid, ad.adrelid, ad.adnum
    from pg_depend d
    join pg_attrdef ad on ad.oid = d.objid
   where d.classid = 'pg_attrdef'::regclass and d.refclassid = 'pg_class'::regclass
)
select q.nspname as schema, q.relname as sequence, q.readable, q.increment,
       q.seqmin as "minValue", q.seqmax as "maxValue",
       case when q.readable then pg_sequence_last_value(q.oid)::float8 end as "lastValue",
       col.table_name as "table", col.attname as "column", col.column_type as "columnType"
  from sequences q
  left join lateral (
    select a.attrelid::regclass::text as table_name, a.attname, a.atttypid::regtype::text as column_type
      from fed f
      join pg_attribute a on a.attrelid = f.table_oid and a.attnum = f.attnum
     where f.seq_oid = q.oid
     order by case a.atttypid when 'smallint'::regtype then 1 when 'integer'::regtype then 2 else 3 end,
              a.attrelid::regclass::text, a.attname
     limit 1
  ) col on true
