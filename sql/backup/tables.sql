-- Tables whose rows a backup holds: ordinary tables and leaf partitions (partitioned parents hold
-- no rows of their own), outside the system schemas, and of extensions' tables only their
-- configuration tables (pg_extension.extconfig), whose rows pg_dump dumps.
select n.nspname as schema,
       c.relname as name,
       greatest(c.reltuples, 0)::bigint as row_estimate,
       exists (
         select 1 from pg_depend d
         where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
       ) as extension_config
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r'
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\_toast%'
  and n.nspname not like 'pg\_temp%'
  and (
    not exists (
      select 1 from pg_depend d
      where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
    or exists (select 1 from pg_extension e where c.oid = any (e.extconfig))
  )
order by n.nspname, c.relname;
