-- Every role on the server, and whether pgmaint's role may act as it: giving objects to a role
-- (ALTER ... OWNER TO) needs membership in it ($1: 'MEMBER' before PostgreSQL 16, 'SET' from 16).
-- Needs no privilege; superusers may act as every role. PostgreSQL 12+.
select r.rolname as name,
       pg_has_role(r.oid, $1) as can_act,
       r.rolname = current_user as is_me,
       r.rolsuper as superuser
from pg_roles r;
