-- checkpoints: timed and requested checkpoints since the statistics reset, from pg_stat_bgwriter. Any role; PostgreSQL 10-16 (17 moved them to pg_stat_checkpointer).
select checkpoints_timed::float8 as timed, checkpoints_req::float8 as requested, stats_reset as since from pg_stat_bgwriter
