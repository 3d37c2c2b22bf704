-- hypertable-size: bytes on disk of a hypertable with all its chunks, indexes and TOAST. SELECT on the hypertable; TimescaleDB 2.x.
select coalesce(hypertable_size($1::oid::regclass), 0)::int8 as bytes
