-- oldest-row: the oldest time among the rows a rule covers (its where filter, any age). SELECT on the table;
-- PostgreSQL 10+. The slots in braces are catalog names, quoted (functions/shared/pg/sql-names.ts).
select min({column})::text as oldest
from {table}
where {predicate}
