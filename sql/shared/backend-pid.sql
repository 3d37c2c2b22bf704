-- backend-pid: this session's server process, so a stop can cancel the statement it runs (a REINDEX, a retention batch). Any role; PostgreSQL 8.0+.
select pg_backend_pid() as pid
