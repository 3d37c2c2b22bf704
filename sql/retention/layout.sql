-- layout: how a row rule's table is stored, to choose its batch shape: the planner's correlation between the time
-- column ($2) and the rows' physical order (null before the first ANALYZE), its pages now and its tuples per page
-- as last counted. pg_stats shows a column's statistics to a role that may SELECT it. Any role; PostgreSQL 10+.
select (select s.correlation::float8
        from pg_stats s
        where s.schemaname = n.nspname and s.tablename = c.relname and s.attname = $2 and not s.inherited) as correlation,
       case when c.relkind = 'r' then pg_relation_size(c.oid) / current_setting('block_size')::int8 else 0 end as pages,
       case when c.relpages > 0 then greatest(c.reltuples, 0) / c.relpages else null end::float8 as tuples_per_page
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.oid = $1::oid
