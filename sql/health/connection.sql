-- connection: the server's version and whether it is a standby. Any role; PostgreSQL 10+.
select current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       pg_is_in_recovery() as in_recovery,
       current_database() as database
