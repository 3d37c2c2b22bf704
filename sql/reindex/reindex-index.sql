-- reindex-index: rebuilds one index ({index}, quoted by functions/shared/pg/sql-names.ts) without blocking writes.
-- Must run outside a transaction block. Index or table owner; PostgreSQL 12+ (not 14.0 to 14.3).
REINDEX INDEX CONCURRENTLY {index}
