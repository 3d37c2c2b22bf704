-- batch-row-ids: the rows (at most $1; null: all) a batch that met a held row would delete, their partition and ctid, read without
-- locking so the batch can be redone in halves around the held row. SELECT on the table; PostgreSQL 10+. The slots
-- in braces are catalog names, quoted (functions/shared/pg/sql-names.ts).
select tableoid::int8 as relation, ctid::text as ctid
from {table}
where {predicate}
order by tableoid, ctid
limit $1
