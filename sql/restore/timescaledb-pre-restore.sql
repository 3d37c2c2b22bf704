-- timescaledb-pre-restore: creates TimescaleDB in the new database and puts it in restoring mode (background jobs stop, catalog triggers off) before pg_restore. Superuser or the database owner with timescaledb available; TimescaleDB 2.x.
create extension if not exists timescaledb;
select timescaledb_pre_restore();
