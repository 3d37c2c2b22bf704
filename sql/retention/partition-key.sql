-- partition-key: how a partitioned table is partitioned: strategy, number of key columns, the first key column. Any role; PostgreSQL 10+.
select p.partstrat as strategy,
       p.partnatts::int as key_columns,
       a.attname as column_name,
       a.atttypid::regtype in ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype) as is_time
from pg_partitioned_table p
left join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
where p.partrelid = $1::oid
