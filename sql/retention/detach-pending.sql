-- detach-pending: whether a partition ($1 schema, $2 name) was left half-detached by an interrupted DETACH ...
-- CONCURRENTLY. Any role; PostgreSQL 14+ (inhdetachpending).
select i.inhdetachpending as pending
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2
