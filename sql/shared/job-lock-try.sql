-- job-lock-try: one run of job $1 per database at a time (a session advisory lock, released by
-- job-lock-release.sql or on disconnect). Any role; PostgreSQL 9.1+.
select pg_try_advisory_lock(hashtext('pgmaint/' || $1), hashtext(current_database())) as acquired
