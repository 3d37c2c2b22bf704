-- job-lock-keepalive: the server probes this session's TCP connection after 30 s of silence and
-- drops it after 3 unanswered probes 10 s apart, so a run killed without closing its connection
-- (a Lambda sandbox torn down) releases its job lock within about a minute instead of the OS
-- default of over two hours, and the next retry can start. No effect on Unix sockets. Any role
-- (user-settable settings); PostgreSQL 9.1+.
select set_config('tcp_keepalives_idle', '30', false),
       set_config('tcp_keepalives_interval', '10', false),
       set_config('tcp_keepalives_count', '3', false)
