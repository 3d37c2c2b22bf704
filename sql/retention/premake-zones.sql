-- premake-zones: the newest partition's bounds ($1 lower, $2 upper) as wall-clock text in the session's zone and in
-- UTC, and whether both are midnights there. The grid is continued in the zone it was laid out in (the one whose
-- text the partition's name carries, else the one where its bounds are midnights), whatever the session's zone.
-- Any role; PostgreSQL 10+.
select z.zone,
       ($1::timestamptz at time zone z.zone)::text as lower_local,
       ($2::timestamptz at time zone z.zone)::text as upper_local,
       ($1::timestamptz at time zone z.zone)::time = '00:00'
         and ($2::timestamptz at time zone z.zone)::time = '00:00' as midnights
from (values (1, current_setting('TimeZone')), (2, 'UTC')) as z(preference, zone)
order by z.preference
