-- job-lock-release: releases the lock job-lock-try.sql took for job $1. Any role; PostgreSQL 9.1+.
select pg_advisory_unlock(hashtext('pgmaint/' || $1), hashtext(current_database())) as released
