-- Whether an extension is installed in this database, and its schema. Any role; PostgreSQL 10+.
select n.nspname as schema, e.extversion as version
  from pg_extension e
  join pg_namespace n on n.oid = e.extnamespace
 where e.extname = $1
