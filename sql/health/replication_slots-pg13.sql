-- replication_slots before PostgreSQL 17, which does not record since when a slot is inactive (the check remembers when it first saw it so), otherwise as replication_slots.sql. Any role; PostgreSQL 13-16 (wal_status).
select s.slot_name as slot, s.slot_type as type, s.database, s.active, s.wal_status as "walStatus",
       null::timestamptz as "inactiveSince",
       case when pg_is_in_recovery() or s.restart_lsn is null then null
            else pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 end as "retainedBytes"
  from pg_replication_slots s
 order by s.slot_name
