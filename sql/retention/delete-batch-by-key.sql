-- delete-batch-by-key: delete-batch-by-ctid.sql for a partitioned table, where a ctid is only unique within one
-- partition: the locked rows are deleted by primary key. DELETE and SELECT ... FOR UPDATE on the table;
-- PostgreSQL 12+ (FOR UPDATE on partitioned tables). The slots in braces are catalog names, quoted
-- (functions/retention/sql-template.ts).
with batch as (
  select {key}, {column} as at
  from {table}
  where {predicate}
  {order}
  limit $1
  for update skip locked
), deleted as (
  -- Runs to completion although nothing reads it (a data-modifying WITH always does).
  delete from {table}
  where ({key}) in (select {key} from batch)
)
select count(*)::int as deleted, max(at)::text as newest
from batch
