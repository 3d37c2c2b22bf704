-- What each login role other than pgmaint's own (and not a superuser, who may do anything) may do
-- in the connected database: CONNECT/TEMPORARY on it, USAGE/CREATE on its schemas, SELECT, INSERT,
-- UPDATE, DELETE, TRUNCATE on its tables and views (any column counts), USAGE/SELECT/UPDATE on its
-- sequences. One row per object, roles without a privilege left out. Needs no privilege. PG 12+.
with roles as (
  select oid, rolname from pg_roles
  where rolcanlogin and not rolsuper and rolname <> current_user
),
objects as (
  select 'database' as kind, '' as schema, d.datname as name, d.oid
  from pg_database d where d.datname = current_database()
  union all
  select 'schema', n.nspname, n.nspname, n.oid
  from pg_namespace n
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%'
    and n.nspname not like 'pg\_temp%'
  union all
  select case when c.relkind = 'S' then 'sequence' else 'table' end, n.nspname, c.relname, c.oid
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%'
    and n.nspname not like 'pg\_temp%'
),
granted as (
  select o.kind, o.schema, o.name, r.rolname as role,
         array_remove(case o.kind
           when 'database' then array[
             case when has_database_privilege(r.oid, o.oid, 'CONNECT') then 'CONNECT' end,
             case when has_database_privilege(r.oid, o.oid, 'TEMPORARY') then 'TEMPORARY' end]
           when 'schema' then array[
             case when has_schema_privilege(r.oid, o.oid, 'USAGE') then 'USAGE' end,
             case when has_schema_privilege(r.oid, o.oid, 'CREATE') then 'CREATE' end]
           when 'sequence' then array[
             case when has_sequence_privilege(r.oid, o.oid, 'USAGE') then 'USAGE' end,
             case when has_sequence_privilege(r.oid, o.oid, 'SELECT') then 'SELECT' end,
             case when has_sequence_privilege(r.oid, o.oid, 'UPDATE') then 'UPDATE' end]
           else array[
             case when has_any_column_privilege(r.oid, o.oid, 'SELECT') then 'SELECT' end,
             case when has_any_column_privilege(r.oid, o.oid, 'INSERT') then 'INSERT' end,
             case when has_any_column_privilege(r.oid, o.oid, 'UPDATE') then 'UPDATE' end,
             case when has_table_privilege(r.oid, o.oid, 'DELETE') then 'DELETE' end,
             case when has_table_privilege(r.oid, o.oid, 'TRUNCATE') then 'TRUNCATE' end]
         end, null) as privileges
  from objects o cross join roles r
)
select o.kind, o.schema, o.name,
       coalesce(jsonb_object_agg(g.role, g.privileges)
                  filter (where g.role is not null and cardinality(g.privileges) > 0), '{}') as roles
from objects o
left join granted g on g.kind = o.kind and g.schema = o.schema and g.name = o.name
group by o.kind, o.schema, o.name;
