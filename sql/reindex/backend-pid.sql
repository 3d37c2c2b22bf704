-- backend-pid: this session's server process, so a stop can cancel the REINDEX it runs. Any role; PostgreSQL 8.0+.
select pg_backend_pid() as pid
