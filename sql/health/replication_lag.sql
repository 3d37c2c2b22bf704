-- replication_lag: replay lag of each standby or subscriber streaming from this server, or this standby's own lag. pg_monitor (pg_read_all_stats shows client details); PostgreSQL 10+.
select pg_is_in_recovery() as standby,
       case when pg_is_in_recovery()
            then extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8 end as "ownLagSeconds",
       coalesce((select json_agg(json_build_object(
                   'application', application_name, 'client', client_addr::text, 'state', state,
                   'replayLagSeconds', extract(epoch from replay_lag)::float8) order by application_name)
                   from pg_stat_replication), '[]'::json) as standbys
