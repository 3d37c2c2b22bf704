-- try-lock: the session advisory lock that lets one reindex run per database at a time. Any role; PostgreSQL 9.1+.
select pg_try_advisory_lock(hashtextextended('pgmaint/reindex/' || current_database(), 0)) as locked
