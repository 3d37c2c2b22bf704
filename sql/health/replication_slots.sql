-- replication_slots: every slot, whether it is active, since when it is inactive, and how much WAL it holds back. Any role; PostgreSQL 17+ (inactive_since; replication_slots-pg13.sql before).
select s.slot_name as slot, s.slot_type as type, s.database, s.active, s.wal_status as "walStatus",
       s.inactive_since as "inactiveSince",
       case when pg_is_in_recovery() or s.restart_lsn is null then null
            else pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 end as "retainedBytes"
  from pg_replication_slots s
 order by s.slot_name
