-- count-expired: how many rows a row rule would delete now (dry runs, and what an incomplete run left). SELECT
-- on the table; PostgreSQL 10+. The slots in braces are catalog names, quoted (functions/shared/pg/sql-names.ts).
select count(*)::int8 as rows
from {table}
where {predicate}
