-- detach-partition-concurrently: detaches an expired partition without blocking queries on the parent. Not in a
-- transaction block, not when the parent has a default partition. Table owner; PostgreSQL 14+.
alter table {parent} detach partition {partition} concurrently
