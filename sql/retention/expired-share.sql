-- expired-share: the planner's estimate of a row rule's rows older than the cutoff ($1), time alone, to choose its
-- batch shape: EXPLAIN only, no row is read. SELECT on the table; PostgreSQL 10+. The slots in braces are catalog
-- names, quoted (functions/shared/pg/sql-names.ts).
explain (format json)
select
from {table}
where {column} < $1
