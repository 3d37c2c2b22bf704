-- checkpoints: timed and requested checkpoints since the statistics reset, from pg_stat_checkpointer. Any role; PostgreSQL 17+.
select num_timed::float8 as timed, num_requested::float8 as requested, stats_reset as since from pg_stat_checkpointer
