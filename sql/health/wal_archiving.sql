-- wal_archiving: whether archive_command has failed since the last WAL segment it archived. Any role; PostgreSQL 10+.
select current_setting('archive_mode') as "archiveMode", archived_count::float8 as archived,
       failed_count::float8 as failed, last_archived_wal as "lastArchivedWal", last_archived_time as "lastArchivedAt",
       last_failed_wal as "lastFailedWal", last_failed_time as "lastFailedAt",
       (last_failed_time is not null
        and (last_archived_time is null or last_failed_time > last_archived_time)) as failing
  from pg_stat_archiver
