-- unlock: releases the run's advisory lock (try-lock.sql). Any role; PostgreSQL 10+.
select pg_advisory_unlock(hashtext('pgmaint/retention'), hashtext(current_database())) as released
