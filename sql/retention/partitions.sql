-- partitions: the direct partitions of a range-partitioned table ($1) with their bounds read as timestamptz, and
-- whether each ends at or before the cutoff ($2). Any role; PostgreSQL 10+.
with parts as (
  select n.nspname as schema,
         c.relname as name,
         pg_get_expr(c.relpartbound, c.oid) as bound,
         greatest(c.reltuples, 0)::float8 as estimated_rows
  from pg_inherits i
  join pg_class c on c.oid = i.inhrelid
  join pg_namespace n on n.oid = c.relnamespace
  where i.inhparent = $1::oid
), parsed as (
  select *, regexp_match(bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') as m
  from parts
), typed as (
  select *,
         case when m[1] like '''%''' then btrim(m[1], '''')::timestamptz end as lower_at,
         case when m[2] like '''%''' then btrim(m[2], '''')::timestamptz end as upper_at
  from parsed
)
select schema,
       name,
       bound = 'DEFAULT' as is_default,
       coalesce(m[2] = 'MAXVALUE', false) as open_ended,
       lower_at::text as lower_bound,
       upper_at::text as upper_bound,
       coalesce(upper_at <= $2::timestamptz, false) as expired,
       estimated_rows
from typed
order by upper_at nulls last, name
