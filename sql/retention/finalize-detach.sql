-- finalize-detach: completes a concurrent detach that was interrupted (the partition is left "detach pending").
-- Table owner; PostgreSQL 14+.
alter table {parent} detach partition {partition} finalize
