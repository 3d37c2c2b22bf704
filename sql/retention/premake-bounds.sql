-- premake-bounds: the partitions to create so that $3 of them lie ahead of the one holding now(), continuing the
-- grid of the newest partition ($1 lower, $2 upper bound; its step is age(upper, lower), so monthly partitions
-- stay on month boundaries). Any role; PostgreSQL 10+.
with newest as (
  select $2::timestamptz as upper_at, age($2::timestamptz, $1::timestamptz) as step
), grid as (
  select min(k) as current_end
  from newest, generate_series(-5000, 5000) k
  where newest.upper_at + newest.step * k > now()
)
select (newest.upper_at + newest.step * k)::text as lower_bound,
       (newest.upper_at + newest.step * (k + 1))::text as upper_bound
from newest, grid, generate_series(0, grid.current_end + $3::int - 1) k
order by k
