-- Ends every other session on a database, so it can be renamed. Used only at the swap.
select count(pg_terminate_backend(pid)) as terminated
from pg_stat_activity
where datname = $1 and pid <> pg_backend_pid();
