-- connections: client backends in use vs max_connections minus the reserved slots. pg_monitor (counts every role's sessions); PostgreSQL 10+ (reserved_connections is 16+, read on 16+).
select (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as used,
       current_setting('max_connections')::int as max_connections,
       current_setting('superuser_reserved_connections')::int
         + case when current_setting('server_version_num')::int >= 160000
                then current_setting('reserved_connections')::int else 0 end as reserved,
       (select coalesce(json_object_agg(state, n), '{}'::json)
          from (select coalesce(state, 'unknown') as state, count(*) as n
                  from pg_stat_activity
                 where backend_type = 'client backend'
                 group by 1) by_state) as by_state
