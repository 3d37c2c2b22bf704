-- slow_queries for pg_stat_statements 1.3 to 1.7 (a database upgraded from PostgreSQL 12 or older keeps it until ALTER EXTENSION pg_stat_statements UPDATE), whose columns are mean_time and total_time; otherwise as slow_queries.sql. pg_monitor (pg_read_all_stats shows every role's text); PostgreSQL 10+; {extschema} is the extension's schema, quoted by functions/shared/pg/sql-names.ts.
select s.queryid::text as "queryId", r.rolname as "user", s.calls::float8 as calls,
       s.mean_time::float8 as "meanMs", s.total_time::float8 as "totalMs",
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 120) as query
  from {extschema}.pg_stat_statements s
  left join pg_roles r on r.oid = s.userid
 where s.dbid = (select oid from pg_database where datname = current_database()) and s.calls >= $1
 order by s.mean_time desc
 limit 5
