-- timescaledb-post-restore: ends TimescaleDB's restoring mode after pg_restore and restarts its background jobs in this database. The database owner or a superuser; TimescaleDB 2.x.
select timescaledb_post_restore();
