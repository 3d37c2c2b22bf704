-- partman-config: pg_partman's settings for one partition set ($1, the parent's oid), if pg_partman maintains it.
-- parent_table is text ('schema.table'), so it is resolved rather than compared as a string. SELECT on
-- part_config; pg_partman 4.x and 5.x; PostgreSQL 10+.
select premake::int as premake, partition_interval::text as partition_interval
from {config}
where to_regclass(parent_table) = $1::oid
