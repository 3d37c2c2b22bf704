-- vacuum: reclaims the space of the deleted rows and refreshes the planner's statistics. Table owner (or
-- pg_maintain on 17+); PostgreSQL 10+. Cannot run inside a transaction block.
vacuum (analyze) {table}
