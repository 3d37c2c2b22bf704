-- The tables backup.excludeSchemas/excludeTables/excludeTableData leave out of pg_dump, matched as
-- pg_dump matches them: $1 schema regexes; $2/$3 and $4/$5 table patterns' schema regexes (null:
-- none given, so only tables visible on the search path) and name regexes. 'table': not dumped;
-- 'data': dumped without rows. Any role; PostgreSQL 12+ (COLLATE on name columns as pg_dump does).
with excluded_table as (
  select c.oid,
         exists (
           select 1 from unnest($1::text[]) as s(re)
           where n.nspname operator(pg_catalog.~) s.re collate pg_catalog.default
         )
         or exists (
           select 1 from unnest($2::text[], $3::text[]) as t(schema_re, name_re)
           where c.relname operator(pg_catalog.~) t.name_re collate pg_catalog.default
             and case when t.schema_re is null then pg_catalog.pg_table_is_visible(c.oid)
                      else n.nspname operator(pg_catalog.~) t.schema_re collate pg_catalog.default end
         ) as whole,
         exists (
           select 1 from unnest($4::text[], $5::text[]) as t(schema_re, name_re)
           where c.relname operator(pg_catalog.~) t.name_re collate pg_catalog.default
             and case when t.schema_re is null then pg_catalog.pg_table_is_visible(c.oid)
                      else n.nspname operator(pg_catalog.~) t.schema_re collate pg_catalog.default end
         ) as data
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'f', 'm')
)
select n.nspname as schema, c.relname as name, case when e.whole then 'table' else 'data' end as excluded
from excluded_table e
join pg_catalog.pg_class c on c.oid = e.oid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where e.whole or e.data
order by 1, 2;
