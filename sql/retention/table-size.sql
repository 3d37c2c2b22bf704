-- table-size: bytes on disk of a table with its indexes and TOAST, summed over partitions when partitioned. Any role; PostgreSQL 12+ (pg_partition_tree).
select case
         when c.relkind = 'p' then (select coalesce(sum(pg_total_relation_size(t.relid)), 0) from pg_partition_tree(c.oid) t)
         else pg_total_relation_size(c.oid)
       end::int8 as bytes
from pg_class c
where c.oid = $1::oid
