-- delete-batch-limited: at most $1 expired rows of a slice (TID range, one time value, or the whole table), found
-- by the slice's scan and deleted by ctid, each re-checked (READ COMMITTED). No FOR UPDATE: the caller's short
-- lock_timeout bounds the wait for a held row. On a partitioned table a ctid may name rows in several partitions;
-- each one deleted still matches the rule. DELETE and SELECT on the table; PostgreSQL 10+. Slots: quoted catalog
-- names (functions/shared/pg/sql-names.ts).
with found as (
  select array(select ctid from {table} where {predicate} limit $1) as ctids
), deleted as (
  delete from {table}
  where ctid = any ((select ctids from found)::tid[])
    and {predicate}
  returning 1
)
select cardinality(ctids) as found, (select count(*)::int from deleted) as deleted
from found
