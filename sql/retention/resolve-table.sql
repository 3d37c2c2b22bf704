-- resolve-table: a rule's table as PostgreSQL resolves the name (search_path, quoting), with its kind. Any role; PostgreSQL 10+.
select c.oid::int8 as oid,
       n.nspname as schema,
       c.relname as name,
       c.relkind as kind,
       greatest(c.reltuples, 0)::float8 as estimated_rows
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.oid = to_regclass($1)
