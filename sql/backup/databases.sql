-- The server's databases, for a target with "databases": which accept connections and which are
-- templates (neither kind is backed up by "*"). Any role; PostgreSQL 9.0+.
select datname as name, datallowconn as allows_connections, datistemplate as is_template
from pg_catalog.pg_database
order by datname;
