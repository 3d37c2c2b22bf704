-- hypertable-dimension: a hypertable's first (partitioning) dimension, no row when the table is not a hypertable. Any role; TimescaleDB 2.x.
select d.column_name,
       format_type(d.column_type, null) as column_type,
       d.column_type in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) as is_time
from timescaledb_information.dimensions d
where format('%I.%I', d.hypertable_schema, d.hypertable_name)::regclass = $1::oid::regclass
order by d.dimension_number
limit 1
