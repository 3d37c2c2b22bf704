-- drop-index: drops one leftover index ({index}, quoted by functions/shared/pg/sql-names.ts) without blocking
-- writes. Must run outside a transaction block. Index owner; PostgreSQL 9.2+.
DROP INDEX CONCURRENTLY IF EXISTS {index}
