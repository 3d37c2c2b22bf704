-- cutoffs: the run's one reading of the database clock and each rule's cutoff, as exact text. Any role; PostgreSQL 10+.
select now()::text as now,
       (now() - make_interval(secs => r.seconds))::text as cutoff
from unnest($1::float8[]) with ordinality as r(seconds, position)
order by r.position
