-- reindex-database: the seeds' plain REINDEX DATABASE ({database}, quoted by functions/shared/pg/sql-names.ts).
-- BLOCKS WRITES to each table while its indexes rebuild: for maintenance windows only.
-- Database owner; PostgreSQL 9.0+ (up to 15 it also rebuilds the system catalogs).
REINDEX DATABASE {database}
