-- settings: the current value of each named setting (pg_settings), with its unit, for comparison with the values a config expects. Any role; PostgreSQL 10+.
select name, setting, unit, current_setting(name) as shown from pg_settings where name = any($1::text[])
