-- autovacuum_freeze: this database's tables nearest to a forced anti-wraparound vacuum, by xid age (top 5). Any role; PostgreSQL 10+.
select n.nspname as schema, c.relname as "table", age(c.relfrozenxid)::float8 as "xidAge",
       (100.0 * age(c.relfrozenxid) / current_setting('autovacuum_freeze_max_age')::float8)::float8 as percent,
       pg_relation_size(c.oid)::float8 as bytes
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'm', 't') and c.relfrozenxid <> '0'::xid
 order by age(c.relfrozenxid) desc
 limit 5
