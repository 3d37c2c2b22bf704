-- partman-extension: the schema pg_partman is installed in, and whether this role may read its part_config
-- (no row: pg_partman is not installed). Any role; PostgreSQL 10+.
select n.nspname as schema,
       case when has_schema_privilege(n.oid, 'USAGE')
            then coalesce(has_table_privilege(to_regclass(format('%I.part_config', n.nspname)), 'SELECT'), false)
            else false end as readable
from pg_extension e
join pg_namespace n on n.oid = e.extnamespace
where e.extname = 'pg_partman'
