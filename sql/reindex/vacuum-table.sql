-- vacuum-table: VACUUM (ANALYZE, SKIP_LOCKED) of one table ({table}, quoted by functions/shared/pg/sql-names.ts);
-- skips it rather than wait when another session holds a conflicting lock. Table owner; PostgreSQL 12+.
VACUUM (ANALYZE, SKIP_LOCKED) {table}
