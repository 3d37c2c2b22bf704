-- expired-chunks: the chunks drop_chunks(older_than => cutoff) drops (those whose range ends at or before the cutoff: show_chunks picks them the same way), oldest first, with sizes. SELECT on the hypertable; TimescaleDB 2.x.
select c.chunk_schema as schema,
       c.chunk_name as name,
       c.range_start::text as range_start,
       c.range_end::text as range_end,
       coalesce(s.total_bytes, 0)::int8 as bytes
from show_chunks($1::oid::regclass, older_than => {cutoff}) as shown(chunk)
join timescaledb_information.chunks c
  on format('%I.%I', c.chunk_schema, c.chunk_name)::regclass = shown.chunk
left join chunks_detailed_size($1::oid::regclass) s
  on s.chunk_schema = c.chunk_schema and s.chunk_name = c.chunk_name
order by c.range_start
