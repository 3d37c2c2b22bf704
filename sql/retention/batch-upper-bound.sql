-- batch-upper-bound: where the next range batch of a row rule ends: the time of the ($1 + 1)-th expired row, in
-- time order, from where the last batch ended, as text and in epoch milliseconds (what sizes the ranges after it
-- from the column's statistics, time-histogram.sql); null when no more than $1 are left. Deleting every expired
-- row before it then deletes at most $1 rows. Walks the time column's index; SELECT on the table. The slots in
-- braces are catalog names, quoted (functions/shared/pg/sql-names.ts).
select {column}::text as upper,
       extract(epoch from {column})::float8 * 1000 as upper_ms
from {table}
where {predicate}
order by {column}
offset $1
limit 1
