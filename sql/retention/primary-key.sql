-- primary-key: the columns of a table's primary key, in key order (none: empty). Any role; PostgreSQL 10+.
select a.attname as name
from pg_index i
cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
where i.indrelid = $1::oid and i.indisprimary
order by k.position
