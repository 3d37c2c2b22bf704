-- autovacuum_freeze: each connectable database's xid and multixact age as a share of the age at which autovacuum forces a freeze, worst first (top 5). Any role; PostgreSQL 10+.
select datname as database, age(datfrozenxid)::float8 as "xidAge", mxid_age(datminmxid)::float8 as "mxidAge",
       greatest(100.0 * age(datfrozenxid) / current_setting('autovacuum_freeze_max_age')::float8,
                100.0 * mxid_age(datminmxid) / current_setting('autovacuum_multixact_freeze_max_age')::float8)::float8 as percent
  from pg_database
 where datallowconn
 order by percent desc
 limit 5
