-- set-limits: this session's statement and lock timeouts in milliseconds ($1, $2; 0 = none), for the
-- statement that follows. Any role; PostgreSQL 8.4+.
select set_config('statement_timeout', $1::text, false), set_config('lock_timeout', $2::text, false)
