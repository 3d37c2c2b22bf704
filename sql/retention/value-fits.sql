-- value-fits: fails (22P02 and friends) when $1 cannot be read as the column's type; reads no rows. SELECT on the
-- table; PostgreSQL 10+. The slots in braces are catalog names, quoted (functions/shared/pg/sql-names.ts).
select from {table} where {column} = $1 limit 0
