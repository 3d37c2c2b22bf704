-- try-lock: one retention run per database at a time (session advisory lock, released on disconnect). Any role; PostgreSQL 10+.
select pg_try_advisory_lock(hashtext('pgmaint/retention'), hashtext(current_database())) as acquired
