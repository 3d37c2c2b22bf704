-- slow_queries: statements of this database with at least $1 calls, by mean execution time (top 5). pg_monitor (pg_read_all_stats shows every role's text); pg_stat_statements 1.8+ (PostgreSQL 13+; mean_exec_time, total_exec_time; slow_queries-pgss1.3.sql before); {extschema} is the extension's schema, quoted by functions/shared/pg/sql-names.ts.
select s.queryid::text as "queryId", r.rolname as "user", s.calls::float8 as calls,
       s.mean_exec_time::float8 as "meanMs", s.total_exec_time::float8 as "totalMs",
       left(regexp_replace(s.query, '\s+', ' ', 'g'), 120) as query
  from {extschema}.pg_stat_statements s
  left join pg_roles r on r.oid = s.userid
 where s.dbid = (select oid from pg_database where datname = current_database()) and s.calls >= $1
 order by s.mean_exec_time desc
 limit 5
