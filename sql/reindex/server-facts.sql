-- server-facts: version, standby or primary, and where pgstattuple lives if installed. Any role; PostgreSQL 10+.
select current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       pg_is_in_recovery() as in_recovery,
       current_setting('block_size')::int as block_size,
       (select n.nspname
          from pg_extension e join pg_namespace n on n.oid = e.extnamespace
         where e.extname = 'pgstattuple') as pgstattuple_schema
