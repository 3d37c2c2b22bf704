-- Tables whose rows a backup holds: ordinary tables and leaf partitions (partitioned parents hold
-- no rows of their own), outside the system schemas and not owned by an extension.
select n.nspname as schema,
       c.relname as name,
       greatest(c.reltuples, 0)::bigint as row_estimate
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r'
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\_toast%'
  and n.nspname not like 'pg\_temp%'
  and not exists (
    select 1 from pg_depend d
    where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
  )
order by n.nspname, c.relname;
