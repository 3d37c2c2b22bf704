-- premake-bounds: the partitions to create so that $3 of them lie ahead of the one holding $4 (now() when null),
-- continuing the grid of the newest partition ($1 lower, $2 upper bound). The grid steps on a wall clock where the
-- newest partition is one whole step: days and months on the session's TimeZone when its bounds are midnights
-- there, else on UTC's when they are midnights there (a UTC day read in Europe/London lasts 25 hours at the change
-- to summer time; stepping by that leaves the grid); steps under a day on UTC's, which never changes. Names follow
-- the dates on that wall clock, or the session's for steps under a day. Any role; PostgreSQL 10+.
with zone as (
  select coalesce(
           case when $2::timestamptz - $1::timestamptz < interval '24 hours' then 'UTC' end,
           (select z
              from (values (1, current_setting('TimeZone')), (2, 'UTC')) as candidates(rank, z)
             where ($1::timestamptz at time zone z)::time = '00:00'
               and ($2::timestamptz at time zone z)::time = '00:00'
             order by rank
             limit 1),
           current_setting('TimeZone')) as grid_zone,
         case when $2::timestamptz - $1::timestamptz < interval '24 hours' then current_setting('TimeZone') end
           as name_zone
), newest as (
  select grid_zone,
         coalesce(name_zone, grid_zone) as name_zone,
         $1::timestamptz at time zone grid_zone as lower_wall,
         $2::timestamptz at time zone grid_zone as upper_wall,
         age($2::timestamptz at time zone grid_zone, $1::timestamptz at time zone grid_zone) as step,
         coalesce($4::timestamptz, now()) as at
  from zone
), grid as (
  select min(k) as current_end
  from newest, generate_series(-5000, 5000) k
  where (newest.upper_wall + newest.step * k) at time zone newest.grid_zone > newest.at
), planned as (
  select k, name_zone, $1::timestamptz as newest_lower,
         (upper_wall + step * k) at time zone grid_zone as lower_at,
         (upper_wall + step * (k + 1)) at time zone grid_zone as upper_at
  from newest, grid, generate_series(0, grid.current_end + $3::int - 1) k
)
select lower_at::text as lower_bound,
       upper_at::text as upper_bound,
       to_char(lower_at at time zone name_zone, 'YYYY-MM-DD HH24:MI:SS') as lower_name_clock,
       to_char(newest_lower at time zone name_zone, 'YYYY-MM-DD HH24:MI:SS') as newest_name_clock
from planned
order by k
