-- premake-bounds: the partitions to create so that $3 of them lie ahead of the one holding now(), continuing the
-- grid of the newest partition ($1 lower, $2 upper bound) in the zone $4 it is laid out in: its step is
-- age(upper, lower) of their wall-clock times there, so monthly partitions stay on that zone's month boundaries
-- whatever the session's timezone. lower_local is the new lower bound's wall-clock text there, for its name.
-- Any role; PostgreSQL 10+.
with newest as (
  select $2::timestamptz at time zone $4::text as upper_local,
         age($2::timestamptz at time zone $4::text, $1::timestamptz at time zone $4::text) as step
), grid as (
  select min(k) as current_end
  from newest, generate_series(-5000, 5000) k
  where (newest.upper_local + newest.step * k) at time zone $4::text > now()
)
select ((newest.upper_local + newest.step * k) at time zone $4::text)::text as lower_bound,
       ((newest.upper_local + newest.step * (k + 1)) at time zone $4::text)::text as upper_bound,
       (newest.upper_local + newest.step * k)::text as lower_local
from newest, grid, generate_series(0, grid.current_end + $3::int - 1) k
order by k
