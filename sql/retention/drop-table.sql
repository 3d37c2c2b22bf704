-- drop-table: drops a detached expired partition. Table owner; PostgreSQL 10+.
drop table {partition}
