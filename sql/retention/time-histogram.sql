-- time-histogram: what the planner's statistics say of how a row rule's rows spread over its time column ($2), to
-- size index-range batches without walking the index for each batch's end: the histogram's bounds and the most
-- common values with their shares, in epoch milliseconds, and the cutoff ($3) on the same clock. Only for a
-- timestamp or timestamptz column with statistics (no row otherwise); a timestamp's epoch is its wall-clock time
-- read as UTC, as the times pgmaint sends back are. pg_stats shows a column's statistics to a role that may
-- SELECT it. Any role; PostgreSQL 10+.
with stats as (
  select s.null_frac, s.histogram_bounds::text as bounds, s.most_common_vals::text as common,
         s.most_common_freqs, t.typname = 'timestamptz' as with_zone
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attname = $2 and not a.attisdropped
  join pg_type t on t.oid = a.atttypid
  join pg_stats s on s.schemaname = n.nspname and s.tablename = c.relname and s.attname = a.attname
                 and not s.inherited
  where c.oid = $1::oid and t.typname in ('timestamp', 'timestamptz') and s.histogram_bounds is not null
)
select null_frac::float8 as null_frac,
       with_zone,
       case when with_zone
            then array(select extract(epoch from v)::float8 * 1000 from unnest(bounds::timestamptz[]) v)
            else array(select extract(epoch from v)::float8 * 1000 from unnest(bounds::timestamp[]) v) end as bounds,
       case when common is null then '{}'::float8[]
            when with_zone
            then array(select extract(epoch from v)::float8 * 1000 from unnest(common::timestamptz[]) v)
            else array(select extract(epoch from v)::float8 * 1000 from unnest(common::timestamp[]) v) end as common,
       coalesce(most_common_freqs::float8[], '{}') as common_shares,
       case when with_zone then extract(epoch from $3::timestamptz)::float8 * 1000
            else extract(epoch from $3::timestamp)::float8 * 1000 end as cutoff
from stats
