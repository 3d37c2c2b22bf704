-- can-vacuum: whether this role may VACUUM a table (its owner, or a member of the owning role; PostgreSQL 17+ also
-- MAINTAIN). Without it VACUUM only warns and does nothing. Any role; PostgreSQL 10+.
select pg_has_role(c.relowner, 'USAGE')
       or case when current_setting('server_version_num')::int >= 170000
               then has_table_privilege(c.oid, 'MAINTAIN') else false end as allowed
from pg_class c
where c.oid = $1::oid
