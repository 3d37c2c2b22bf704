-- cancel-backend: cancels the statement the run's own session ($1) is running, on a stop signal. The same role may cancel its own sessions; PostgreSQL 8.0+.
select pg_cancel_backend($1) as cancelled
