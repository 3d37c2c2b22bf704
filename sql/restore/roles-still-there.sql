-- roles-still-there: which of the roles $1 exist now. The replace check reads the live and the restored
-- database's access one after the other: a role dropped in between (by anyone) would otherwise show as
-- losing everything it had. Needs no privilege. PG 10+.
select coalesce(array_agg(rolname::text), '{}') as roles
from pg_roles
where rolname = any ($1::text[])
