-- job-lock-holder: who holds job $1's lock on this database (job-lock-try.sql), for the refusal
-- message. pg_stat_activity shows other roles' details only to pg_read_all_stats; PostgreSQL 10+.
select a.pid, a.application_name, a.usename::text as user_name, a.backend_start::text as since
from pg_locks l
join pg_stat_activity a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
  and l.classid = hashtext('pgmaint/' || $1)::oid and l.objid = hashtext(current_database())::oid and l.objsubid = 2
limit 1
