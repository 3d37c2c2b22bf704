-- delete-batch-by-key: one batch of a row rule. Locks up to $1 expired rows that no one else holds (a row an
-- application has locked is skipped, never waited for), deletes them by primary key, and returns how many went
-- and the newest time among them (where the next batch starts). DELETE and SELECT ... FOR UPDATE on the table;
-- PostgreSQL 9.5+ (SKIP LOCKED). The slots in braces are catalog names, quoted (functions/retention/sql-template.ts).
with batch as (
  select {key}
  from {table}
  where {predicate}
  {order}
  limit $1
  for update skip locked
), deleted as (
  delete from {table}
  where ({key}) in (select {key} from batch)
  returning {column} as at
)
select count(*)::int as deleted, max(at)::text as newest
from deleted
