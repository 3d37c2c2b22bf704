-- delete-batch-range: one range batch of a row rule: every expired row from where the last batch ended up to the
-- bound batch-upper-bound.sql found, in one pass over the time column's index, as the seeds' DELETE does but in
-- slices. No FOR UPDATE first (that writes every row twice): the caller sets a lock_timeout of a few tens of
-- milliseconds, so a row an application holds is waited for that long at most before the batch is rolled back
-- and redone with SKIP LOCKED (delete-batch-by-ctid.sql). A row changed while the batch runs is re-checked
-- against the same conditions (READ COMMITTED re-evaluation) and kept when it no longer matches.
-- DELETE and SELECT on the table; any PostgreSQL. The slots in braces are catalog names, quoted
-- (functions/retention/sql-template.ts).
delete from {table}
where {predicate}
