-- What the backup needs to know before it starts: the server's version and the database's size.
select current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       current_database() as database,
       pg_database_size(current_database()) as database_size;
