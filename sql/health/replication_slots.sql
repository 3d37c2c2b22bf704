-- replication_slots: every slot, whether it is active and how much WAL it holds back (inactive_since read on PostgreSQL 17+). Any role; PostgreSQL 10+.
select s.slot_name as slot, s.slot_type as type, s.database, s.active, s.wal_status as "walStatus",
       (to_jsonb(s) ->> 'inactive_since')::timestamptz as "inactiveSince",
       case when pg_is_in_recovery() or s.restart_lsn is null then null
            else pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 end as "retainedBytes"
  from pg_replication_slots s
 order by s.slot_name
