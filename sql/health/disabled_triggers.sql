-- disabled_triggers: user triggers of this database that are disabled (tgenabled 'D'); foreign-key and other internal triggers excluded. Any role; PostgreSQL 10+.
select n.nspname as schema, c.relname as "table", t.tgname as trigger, (count(*) over ())::int as total
  from pg_trigger t
  join pg_class c on c.oid = t.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
 where not t.tgisinternal and t.tgenabled = 'D'
 order by 1, 2, 3
 limit 20
