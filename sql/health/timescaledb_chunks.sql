-- timescaledb_chunks: per hypertable its chunks and bytes, its compression policy's age and the uncompressed chunks past it. Any role that can read timescaledb_information; TimescaleDB 2.x.
with policies as (
  select j.hypertable_schema, j.hypertable_name, (j.config ->> 'compress_after') as compress_after
    from timescaledb_information.jobs j
   where j.proc_name = 'policy_compression' and j.config ? 'compress_after'
)
select h.hypertable_schema as schema,
       h.hypertable_name as hypertable,
       (select count(*) from timescaledb_information.chunks c
         where c.hypertable_schema = h.hypertable_schema and c.hypertable_name = h.hypertable_name)::float8 as chunks,
       coalesce(hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass), 0)::float8 as bytes,
       p.compress_after as "compressAfter",
       case when p.compress_after is null then null
            else (select count(*) from timescaledb_information.chunks c
                   where c.hypertable_schema = h.hypertable_schema and c.hypertable_name = h.hypertable_name
                     and not c.is_compressed
                     -- Integer-time hypertables age by their own integer now function: not judged here.
                     and c.range_end is not null and p.compress_after ~ '[a-z]'
                     and c.range_end <= now() - p.compress_after::interval)::float8
       end as "uncompressedPastPolicy"
  from timescaledb_information.hypertables h
  left join policies p on p.hypertable_schema = h.hypertable_schema and p.hypertable_name = h.hypertable_name
 order by bytes desc, h.hypertable_schema, h.hypertable_name
