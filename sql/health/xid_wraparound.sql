-- xid_wraparound: transaction-ID and multixact age of every database, worst first (top 3). Any role; PostgreSQL 10+.
select datname as database, age(datfrozenxid)::float8 as "xidAge", mxid_age(datminmxid)::float8 as "mxidAge",
       greatest(age(datfrozenxid), mxid_age(datminmxid))::float8 as worst
  from pg_database
 order by greatest(age(datfrozenxid), mxid_age(datminmxid)) desc
 limit 3
