-- replicas: how far this server's replicas are behind its WAL, to pace a row rule's batches: the slowest one's
-- bytes behind (replayed for a standby; flushed for a WAL receiver, which replays nothing), and how many hide their
-- positions from this role (pg_stat_replication shows them only to pg_read_all_stats, part of pg_monitor). A
-- logical walsender that has not reported yet counts as behind by all it was sent. Any role; PostgreSQL 10+.
select count(*) filter (where sent_lsn is null)::int as hidden,
       coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(replay_lsn, flush_lsn, write_lsn, '0/0'::pg_lsn)))
                  filter (where sent_lsn is not null), 0)::float8 as behind_bytes
from pg_stat_replication
