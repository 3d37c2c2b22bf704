-- unlock: releases the run's advisory lock (closing the session would too). Any role; PostgreSQL 9.1+.
select pg_advisory_unlock(hashtextextended('pgmaint/reindex/' || current_database(), 0)) as unlocked
