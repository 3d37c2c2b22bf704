-- Every role on the server, and whether pgmaint's role may act as it: giving objects to a role
-- (ALTER ... OWNER TO) needs membership in it ($1: 'MEMBER' before PostgreSQL 16, 'SET' from 16);
-- setting its per-database settings needs CREATEROLE, and from 16 ADMIN OPTION on it too.
-- Needs no privilege; superusers may do both for every role. PostgreSQL 12+.
select r.rolname as name,
       pg_has_role(r.oid, $1) as can_act,
       (select s.rolsuper or (s.rolcreaterole and not r.rolsuper
                              and ($2 < 160000 or pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION')))
        from pg_roles s where s.rolname = current_user) as can_configure,
       r.rolname = current_user as is_me,
       r.rolsuper as superuser
from pg_roles r;
