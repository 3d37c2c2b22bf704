-- database_size: on-disk size of this database. pg_monitor (pg_read_all_stats) or CONNECT on it; PostgreSQL 10+.
select pg_database_size(current_database())::float8 as bytes
