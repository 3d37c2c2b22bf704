-- delete-rows-by-ctid: deletes the listed rows ($2 ctids, all in relation $1: the table or one of its partitions)
-- that still match the rule; what batch-row-ids.sql found. A row moved or changed since is re-checked and kept when
-- it no longer matches. No FOR UPDATE: the caller's short lock_timeout bounds the wait for a held row. DELETE and
-- SELECT on the table; PostgreSQL 10+. The slots in braces are catalog names, quoted
-- (functions/shared/pg/sql-names.ts).
delete from {table}
where ctid = any ($2::tid[])
  and tableoid = $1::oid
  and {predicate}
