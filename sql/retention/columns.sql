-- columns: a table's live columns, their types, and whether an index leads with them. Any role; PostgreSQL 10+.
select a.attname as name,
       a.attnum::int as num,
       format_type(a.atttypid, a.atttypmod) as type,
       a.atttypid::regtype in ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype) as is_time,
       a.attnotnull as not_null,
       exists (
         select 1 from pg_index i
         where i.indrelid = a.attrelid and i.indkey[0] = a.attnum and i.indpred is null
       ) as leads_an_index
from pg_attribute a
where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped
order by a.attnum
