-- detach-partition: detaches an expired partition in the caller's transaction (drop-table.sql follows in the same
-- one). ACCESS EXCLUSIVE on the parent, so it runs under a short lock_timeout. Table owner; PostgreSQL 10+.
alter table {parent} detach partition {partition}
