-- delete-batch-by-ctid: delete-batch-by-key.sql for a table without a primary key: rows are addressed by ctid,
-- which is stable while this transaction holds their row locks. DELETE and SELECT ... FOR UPDATE on the table;
-- PostgreSQL 9.5+. The slots in braces are catalog names, quoted (functions/retention/sql-template.ts).
with batch as (
  select ctid
  from {table}
  where {predicate}
  {order}
  limit $1
  for update skip locked
), deleted as (
  delete from {table}
  where ctid = any (array(select ctid from batch))
  returning {column} as at
)
select count(*)::int as deleted, max(at)::text as newest
from deleted
