-- timescaledb-installed: the TimescaleDB extension's version in this database, no row when it is not installed. Any role; PostgreSQL 10+.
select extversion as version from pg_extension where extname = 'timescaledb'
