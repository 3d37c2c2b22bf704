-- drop-chunks: drops the hypertable's chunks whose range ends at or before the cutoff, returns their names; never a chunk that may hold a newer row. Owner of the hypertable; TimescaleDB 2.x.
select drop_chunks($1::oid::regclass, older_than => {cutoff})::text as chunk
