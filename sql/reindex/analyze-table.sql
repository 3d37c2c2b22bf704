-- analyze-table: ANALYZE of one table ({table}, quoted by functions/shared/pg/sql-names.ts) whose statistics are
-- missing or stale, so its indexes' bloat can be estimated. Samples the table under SHARE UPDATE
-- EXCLUSIVE: reads and writes go on. Table owner (MAINTAIN on 17+; others are skipped with a warning);
-- PostgreSQL 12+.
ANALYZE {table}
