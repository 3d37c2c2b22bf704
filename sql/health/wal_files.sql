-- wal_files: WAL segments in pg_wal, their total size and max_wal_size in bytes. pg_monitor (pg_ls_waldir) or superuser; PostgreSQL 10+.
select count(*)::int as files, coalesce(sum(size), 0)::float8 as bytes,
       (select pg_size_bytes(setting || coalesce(unit, '')) from pg_settings where name = 'max_wal_size')::float8 as "maxWalSize"
  from pg_ls_waldir()
 where name ~ '^[0-9A-F]{24}$'
