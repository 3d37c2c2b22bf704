-- delete-batch-range: one batch of a row rule, every expired row of one slice in one pass: a range of the time
-- index (in-order tables) or of heap pages (a TID range scan, 14+: rows not stored in time order). No FOR UPDATE:
-- the caller's lock_timeout of tens of ms bounds the wait for a held row, then the batch is redone around it
-- (held-rows.ts). Changed rows are re-checked, slice included (READ COMMITTED), and kept when they no longer
-- match. DELETE and SELECT on the table; PostgreSQL 10+. Slots: quoted catalog names (functions/shared/pg/sql-names.ts).
delete from {table}
where {predicate}
