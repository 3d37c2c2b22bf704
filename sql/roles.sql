-- roles.sql: creates (or updates) the database role pgmaint runs as, with what each job needs and no more.
-- A DBA runs it as a superuser (or rds_superuser / a CREATEROLE admin) in each database pgmaint maintains.
-- PostgreSQL 13 to 17 (tested on 15 and 17); psql 10+ (\if). Safe to run again: the role is updated, grants
-- are re-applied, and predefined roles the chosen jobs no longer need are revoked (table grants are not: REVOKE
-- those yourself). All in one transaction: bad input changes nothing.
--
-- Usage (the password is a psql variable, never written in this file or in shell history if you read it first):
--   read -rs PGMAINT_PASSWORD
--   psql "host=db.example.com dbname=app user=admin" \
--     -v pgmaint_password="$PGMAINT_PASSWORD" \
--     -v retention_tables=public.audit_logs,public.notifications \
--     -v owned_tables=public.events \
--     -f sql/roles.sql
--
-- Variables (-v name=value):
--   pgmaint_password   required. Put the same password in the target's secret.
--   role               the role's name (default pgmaint): lower-case letters, digits and _.
--   connection_limit   sessions the role may hold at once, server-wide (default 20). A restore takes up to
--                      10 (pg_restore's parallel workers, its leader and the job's own), a backup 3, the other
--                      jobs 1 or 2, and jobs of one target can overlap.
--   jobs               the jobs this role runs, comma-separated (default health,backup,restore,retention,reindex).
--   retention_tables   tables with retention row rules (schema.table, comma-separated; default none).
--   owned_tables       tables whose ownership passes to the role (default none): partition rules (detach, drop
--                      and create partitions) and, before PostgreSQL 17, reindex. See "Ownership" below.
--   backup_access      per_table (default): SELECT on this database's tables, on any version. all_data
--                      (PostgreSQL 14+): pg_read_all_data, nothing to re-run after migrations, but see below.
--   replace            on: the role takes ownership of this database so `restore --replace` can rename it
--                      (default off). See restore below.
--
-- What each job gets:
--   health     pg_monitor (statistics of every session and query, settings, pgstattuple functions).
--   backup     per_table: USAGE on each schema and SELECT on each table, view and sequence of this database,
--              plus default privileges so what their current owners create there later is readable too (when
--              the running user may set them; otherwise, and for new schemas, re-run this script after
--              migrations). all_data: pg_read_all_data, which reads every table of every database AND the
--              system catalogs, pg_authid's password hashes included (an md5 hash is as good as the password):
--              that is why it is not the default. Either way: SELECT on each large object that exists now,
--              because pg_read_all_data does not cover large objects and they have no default privileges
--              before 18: re-run after adding large objects. pg_dumpall --globals-only --no-role-passwords
--              (the roles beside each backup) reads pg_roles and needs nothing more.
--              Row-level security is not bypassed: a table with RLS enabled fails the backup unless the role
--              has BYPASSRLS (ALTER ROLE pgmaint BYPASSRLS, superuser only); the script warns when it sees one.
--   restore    CREATEDB: restore creates a new database (owned by the role, so it can also drop a half-made
--              one), and pg_restore --no-owner creates everything in it as the role. Extensions in the backup
--              must be trusted (pg_trgm, hstore, ...) or the restore fails: install untrusted ones yourself.
--              With replace=on: ownership of this database (ALTER DATABASE ... RENAME and ALLOW_CONNECTIONS
--              need it), pg_signal_backend (to end other roles' sessions on it at the swap), and membership in
--              each role that owns objects in it now (a replace restores the backup's owners and grants, and
--              ALTER ... OWNER TO needs membership in the new owner; re-run after a new owner role appears).
--              Superuser owners are not granted (that would make the role a superuser): a warning names
--              them. Trade-off: the role may then drop the live database, end any non-superuser session on
--              the server, and act as the application's owner roles.
--   retention  pg_read_all_stats (also part of pg_monitor): where the server has replicas, pg_stat_replication
--              shows their positions only to it, and without them row batches pause after every batch, taking
--              each replica for one that is behind. Per listed table: SELECT and DELETE, nothing else. Batches delete without locking rows first (no
--              SELECT ... FOR UPDATE, which would need UPDATE on a column): a row the application holds is waited
--              for at most 50 ms, then the batch is redone in halves around it and the row is left for the next
--              run. A role made by an earlier version of this script keeps UPDATE on one column of each retention
--              table, which pgmaint no longer uses: REVOKE UPDATE ON <table> FROM pgmaint.
--              PostgreSQL 17+: MAINTAIN on the table as well, for the VACUUM after large deletes (before 17 the
--              VACUUM of a table the role does not own is skipped with a warning; autovacuum gets to it).
--              Partition rules need ownership (owned_tables): DETACH PARTITION and CREATE TABLE ... PARTITION OF
--              need the parent's owner, DROP TABLE the partition's owner; new partitions need CREATE on the schema.
--              Where pg_partman is installed: USAGE on its schema and SELECT on its part_config, to tell which
--              partition sets pg_partman premakes (without it pgmaint premakes nothing there and warns).
--   reindex    PostgreSQL 17+: pg_maintain (REINDEX, VACUUM, ANALYZE, CLUSTER, LOCK TABLE on every table; no
--              data access, no DDL).
--              Before 17 REINDEX needs the table's owner: list the tables whose indexes pgmaint should rebuild
--              in owned_tables (an index of a table it does not own fails the run). Mode "database" needs
--              ownership of the database (replace=on gives it).
--              It judges bloat from pg_stats, which shows only tables the role may SELECT (backup's grants,
--              or ownership), or, with the pgstattuple extension installed, measures it with pgstatindex:
--              pg_stat_scan_tables (also part of pg_monitor) is granted for that.
--
-- Ownership (owned_tables), the trade-off before PostgreSQL 17: the role becomes the owner of each listed table,
-- its partitions, indexes and owned sequences, and the previous owner is granted back every table and sequence
-- privilege, so the application keeps reading and writing. But the previous owner can no longer ALTER, DROP or
-- GRANT on the table: migrations that change it must run as pgmaint (SET ROLE) or hand it back first
-- (ALTER TABLE ... OWNER TO app). Partitions pgmaint creates are its own; the application reaches them through
-- the parent. The alternative, GRANT <app owner> TO pgmaint, leaves the application
-- untouched but gives pgmaint every right the owner has on every object it owns; this script does not do that.
-- Moving ownership needs the running user to be a superuser or a member of both the current owner and the role
-- (GRANT pgmaint TO <you> first, as an rds_superuser).

\set ON_ERROR_STOP on
\set QUIET on

\if :{?role}
\else
  \set role pgmaint
\endif
\if :{?connection_limit}
\else
  \set connection_limit 20
\endif
\if :{?jobs}
\else
  \set jobs health,backup,restore,retention,reindex
\endif
\if :{?retention_tables}
\else
  \set retention_tables ''
\endif
\if :{?owned_tables}
\else
  \set owned_tables ''
\endif
\if :{?backup_access}
\else
  \set backup_access per_table
\endif
\if :{?replace}
\else
  \set replace off
\endif
\if :{?pgmaint_password}
\else
  \set pgmaint_password ''
\endif

begin;
-- Values reach the DO block as transaction-local settings: psql does not substitute variables inside a
-- dollar-quoted body, and the settings vanish at commit. The password never appears in a logged DDL statement.
set local pgmaint.role = :'role';
set local pgmaint.password = :'pgmaint_password';
set local pgmaint.connection_limit = :'connection_limit';
set local pgmaint.jobs = :'jobs';
set local pgmaint.retention_tables = :'retention_tables';
set local pgmaint.owned_tables = :'owned_tables';
set local pgmaint.backup_access = :'backup_access';
set local pgmaint.replace = :'replace';

do $roles$
declare
  known_jobs constant text[] := array['health', 'backup', 'restore', 'retention', 'reindex'];
  -- The predefined roles this script hands out; any of them the chosen jobs do not need is revoked.
  managed_roles constant text[] :=
    array['pg_monitor', 'pg_read_all_stats', 'pg_read_all_data', 'pg_maintain', 'pg_stat_scan_tables',
          'pg_signal_backend'];
  version constant int := current_setting('server_version_num')::int;
  role_name constant text := current_setting('pgmaint.role');
  password constant text := current_setting('pgmaint.password');
  limit_text constant text := btrim(current_setting('pgmaint.connection_limit'));
  access constant text := lower(btrim(current_setting('pgmaint.backup_access')));
  replace_db constant boolean :=
    lower(btrim(current_setting('pgmaint.replace'))) in ('on', 'true', 'yes', '1');
  jobs text[];
  retention_oids oid[] := '{}';
  owned_oids oid[] := '{}';
  wanted_roles text[] := '{}';
  problems text[] := '{}';
  existing record;
  each_name text;
  rel record;
  item record;
  resolved oid;
  runner_is_super boolean;
  lent_create boolean;
  is_member boolean;
begin
  select array_agg(distinct lower(btrim(j))) into jobs
  from unnest(string_to_array(current_setting('pgmaint.jobs'), ',')) j
  where btrim(j) <> '';
  jobs := coalesce(jobs, '{}');

  -- Every problem at once, each naming the variable to fix.
  if role_name !~ '^[a-z_][a-z0-9_]{0,62}$' then
    problems := problems || format('role: %L is not a role name of lower-case letters, digits and _ (at most 63)', role_name);
  end if;
  if password = '' then
    problems := problems || 'pgmaint_password: not set; run psql -v pgmaint_password=... -f sql/roles.sql'::text;
  elsif length(password) < 12 then
    problems := problems || 'pgmaint_password: use at least 12 characters'::text;
  end if;
  if limit_text !~ '^[0-9]{1,5}$' or limit_text::int < 1 then
    problems := problems || format('connection_limit: expected a whole number of sessions, at least 1, got %L', limit_text);
  end if;
  foreach each_name in array jobs loop
    if not each_name = any (known_jobs) then
      problems := problems || format('jobs: unknown job %L (known: %s)', each_name, array_to_string(known_jobs, ', '));
    end if;
  end loop;
  if access not in ('per_table', 'all_data') then
    problems := problems || format('backup_access: expected per_table or all_data, got %L', access);
  elsif access = 'all_data' and version < 140000 then
    problems := problems || format('backup_access: all_data needs pg_read_all_data, PostgreSQL 14 or later (this is %s)',
                                   split_part(current_setting('server_version'), ' ', 1));
  end if;
  if lower(btrim(current_setting('pgmaint.replace'))) not in ('on', 'off', 'true', 'false', 'yes', 'no', '1', '0') then
    problems := problems || format('replace: expected on or off, got %L', current_setting('pgmaint.replace'));
  end if;

  -- Table lists: names as PostgreSQL resolves them (quoting, search_path), ordinary or partitioned tables only.
  for item in
    select v.variable, btrim(t) as table_name
    from (values ('retention_tables', current_setting('pgmaint.retention_tables')),
                 ('owned_tables', current_setting('pgmaint.owned_tables'))) v (variable, list),
         unnest(string_to_array(v.list, ',')) t
    where btrim(t) <> ''
  loop
    begin
      resolved := to_regclass(item.table_name);
    exception when others then
      resolved := null;
    end;
    if resolved is null then
      problems := problems || format('%s: table %L does not exist in database %I', item.variable, item.table_name, current_database());
    elsif (select relkind from pg_class where oid = resolved) not in ('r', 'p') then
      problems := problems || format('%s: %L is not a table', item.variable, item.table_name);
    elsif item.variable = 'retention_tables' then
      retention_oids := retention_oids || resolved;
    else
      owned_oids := owned_oids || resolved;
    end if;
  end loop;

  select rolsuper into runner_is_super from pg_roles where rolname = current_user;
  if not runner_is_super and not (select rolcreaterole from pg_roles where rolname = current_user) then
    problems := problems || format('run this script as a superuser or a role with CREATEROLE (not %I)', current_user);
  end if;
  select * into existing from pg_roles where rolname = role_name;
  if found and (existing.rolsuper or existing.rolcreaterole or existing.rolreplication) then
    problems := problems || format(
      'role: %I already exists with SUPERUSER, CREATEROLE or REPLICATION; pgmaint must not run with them (ALTER ROLE %I NOSUPERUSER NOCREATEROLE NOREPLICATION first)',
      role_name, role_name);
  end if;

  if cardinality(problems) > 0 then
    raise exception using
      message = 'roles.sql: nothing was changed: ' || array_to_string(problems, '; '),
      errcode = 'invalid_parameter_value';
  end if;

  -- The role: LOGIN, a connection limit, CREATEDB only for restore, nothing else.
  begin
    if existing.rolname is null then
      execute format('create role %I login nosuperuser nocreaterole noreplication inherit %s connection limit %s password %L',
                     role_name, case when 'restore' = any (jobs) then 'createdb' else 'nocreatedb' end,
                     limit_text::int, password);
    else
      execute format('alter role %I login %s connection limit %s password %L',
                     role_name, case when 'restore' = any (jobs) then 'createdb' else 'nocreatedb' end,
                     limit_text::int, password);
    end if;
  exception when others then
    -- Raised afresh: the original error's context quotes the statement, password included.
    raise exception using
      message = format('roles.sql: nothing was changed: could not create or update role %I: %s', role_name, sqlerrm),
      errcode = sqlstate;
  end;
  -- Hardened servers revoke CONNECT from PUBLIC.
  execute format('grant connect on database %I to %I', current_database(), role_name);

  if 'health' = any (jobs) then
    wanted_roles := wanted_roles || 'pg_monitor'::text;
  end if;
  if 'reindex' = any (jobs) then
    wanted_roles := wanted_roles || 'pg_stat_scan_tables'::text;
    if version >= 170000 then
      wanted_roles := wanted_roles || 'pg_maintain'::text;
    elsif cardinality(owned_oids) = 0 then
      raise warning 'reindex on PostgreSQL % needs ownership: list the tables whose indexes pgmaint rebuilds in owned_tables',
        split_part(current_setting('server_version'), ' ', 1);
    end if;
  end if;
  if 'retention' = any (jobs) then
    -- pg_stat_replication shows a replica's positions only to pg_read_all_stats: without them every
    -- replica may be behind, and row batches pause after each one.
    wanted_roles := wanted_roles || 'pg_read_all_stats'::text;
  end if;
  if 'restore' = any (jobs) and replace_db then
    wanted_roles := wanted_roles || 'pg_signal_backend'::text;
  end if;

  if 'backup' = any (jobs) then
    if access = 'all_data' then
      wanted_roles := wanted_roles || 'pg_read_all_data'::text;
    else
      for item in
        select n.nspname,
               array(select distinct r.rolname
                     from pg_class c join pg_roles r on r.oid = c.relowner
                     where c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')) as owners
        from pg_namespace n
        where n.nspname not in ('pg_catalog', 'information_schema')
          and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
      loop
        execute format('grant usage on schema %I to %I', item.nspname, role_name);
        execute format('grant select on all tables in schema %I to %I', item.nspname, role_name);
        execute format('grant select on all sequences in schema %I to %I', item.nspname, role_name);
        foreach each_name in array item.owners loop
          begin
            execute format('alter default privileges for role %I in schema %I grant select on tables to %I',
                           each_name, item.nspname, role_name);
            execute format('alter default privileges for role %I in schema %I grant select on sequences to %I',
                           each_name, item.nspname, role_name);
          exception when insufficient_privilege then
            raise warning 'tables % creates in schema % later will not be readable by %: run this script again after migrations',
              quote_ident(each_name), quote_ident(item.nspname), role_name;
          end;
        end loop;
      end loop;
    end if;
    for item in select oid from pg_largeobject_metadata loop
      execute format('grant select on large object %s to %I', item.oid, role_name);
    end loop;
    if exists (select 1 from pg_class where relrowsecurity and relkind in ('r', 'p'))
       and not (select rolbypassrls from pg_roles where rolname = role_name) then
      raise warning 'tables with row-level security exist in %: backup fails on them unless % has BYPASSRLS (ALTER ROLE % BYPASSRLS, as a superuser)',
        quote_ident(current_database()), role_name, role_name;
    end if;
  end if;

  -- Predefined roles: granted as the jobs need, revoked when they no longer do.
  foreach each_name in array managed_roles loop
    continue when to_regrole(each_name) is null; -- pg_read_all_stats arrived in 10, pg_read_all_data in 14, pg_maintain in 17
    is_member := exists (select 1 from pg_auth_members
                         where roleid = to_regrole(each_name) and member = to_regrole(role_name));
    if each_name = any (wanted_roles) and not is_member then
      execute format('grant %I to %I', each_name, role_name);
    elsif not each_name = any (wanted_roles) and is_member then
      execute format('revoke %I from %I', each_name, role_name);
    end if;
  end loop;

  if 'retention' = any (jobs) then
    for rel in
      select c.oid, c.relname, n.nspname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = any (retention_oids)
    loop
      execute format('grant usage on schema %I to %I', rel.nspname, role_name);
      execute format('grant select, delete on table %I.%I to %I', rel.nspname, rel.relname, role_name);
      if version >= 170000 then
        execute format('grant maintain on table %I.%I to %I', rel.nspname, rel.relname, role_name);
      end if;
    end loop;
  elsif cardinality(retention_oids) > 0 then
    raise warning 'retention_tables given but retention is not in jobs: no table grants made';
  end if;
  -- pg_partman, where installed (in any schema): retention reads its part_config to leave premaking the sets
  -- pg_partman maintains to pg_partman. Nothing to grant where it is not installed.
  if 'retention' = any (jobs) then
    for item in
      select n.nspname
      from pg_extension e join pg_namespace n on n.oid = e.extnamespace
      where e.extname = 'pg_partman' and to_regclass(format('%I.part_config', n.nspname)) is not null
    loop
      execute format('grant usage on schema %I to %I', item.nspname, role_name);
      execute format('grant select on table %I.part_config to %I', item.nspname, role_name);
    end loop;
  end if;

  -- Ownership: each listed table with its partitions (recursively); indexes and owned sequences follow.
  for rel in
    select c.oid, c.relname, c.relkind, c.relnamespace, n.nspname, c.relowner::regrole::text as previous_owner,
           c.relowner = to_regrole(role_name) as already_owned
    -- pg_partition_tree lists nothing for a table that is not partitioned: the listed tables come first.
    from (select listed.oid as relid, 0 as level from unnest(owned_oids) listed (oid)
          union
          select t.relid, t.level from unnest(owned_oids) listed (oid), lateral pg_partition_tree(listed.oid) t) tree
    join pg_class c on c.oid = tree.relid
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p')
    order by tree.level
  loop
    execute format('grant usage on schema %I to %I', rel.nspname, role_name);
    if rel.relkind = 'p' then
      -- New partitions are created beside their parent.
      execute format('grant create on schema %I to %I', rel.nspname, role_name);
    end if;
    continue when rel.already_owned;
    -- A non-superuser may only hand a table to a role that may create in its schema: lend CREATE for the move.
    lent_create := not runner_is_super and not has_schema_privilege(role_name, rel.relnamespace, 'CREATE');
    if lent_create then
      execute format('grant create on schema %I to %I', rel.nspname, role_name);
    end if;
    begin
      execute format('alter table %I.%I owner to %I', rel.nspname, rel.relname, role_name);
    exception when insufficient_privilege then
      raise exception using
        message = format('roles.sql: nothing was changed: cannot give %I.%I to %I: %s', rel.nspname, rel.relname, role_name, sqlerrm),
        hint = format('run as a superuser, or GRANT %I TO %I and be a member of %s', role_name, current_user, rel.previous_owner);
    end;
    if lent_create then
      execute format('revoke create on schema %I from %I', rel.nspname, role_name);
    end if;
    -- The application keeps every privilege it had as owner, except DDL (ALTER, DROP).
    execute format('grant all on table %I.%I to %s', rel.nspname, rel.relname, rel.previous_owner);
    for item in
      select s.oid::regclass::text as seq
      from pg_depend d join pg_class s on s.oid = d.objid
      where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass
        and d.refobjid = rel.oid and d.deptype in ('a', 'i') and s.relkind = 'S'
    loop
      execute format('grant all on sequence %s to %s', item.seq, rel.previous_owner);
    end loop;
  end loop;

  if replace_db and 'restore' = any (jobs) then
    execute format('alter database %I owner to %I', current_database(), role_name);
    -- A replace gives the restored objects back to their owners (ALTER ... OWNER TO needs membership
    -- in the new owner). Extension members are created by CREATE EXTENSION, not given an owner.
    for item in
      select r.rolname, r.rolsuper
      from pg_roles r
      where r.rolname not in (role_name, 'pg_database_owner')
        and r.oid in (
          select c.relowner from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%'
            and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
          union
          select n.nspowner from pg_namespace n
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_%'
            and not exists (select 1 from pg_depend d where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e')
          union
          select p.proowner from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname not in ('pg_catalog', 'information_schema')
            and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
          union
          select t.typowner from pg_type t join pg_namespace n on n.oid = t.typnamespace
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%'
            and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e')
          union
          select m.lomowner from pg_largeobject_metadata m)
      order by r.rolname
    loop
      if item.rolsuper then
        raise warning 'objects in % are owned by superuser %: a restore --replace cannot give them back (membership in a superuser role would make % one); ALTER ... OWNER TO an application role first',
          current_database(), item.rolname, role_name;
      elsif not pg_has_role(role_name, item.rolname, 'MEMBER') then
        execute format('grant %I to %I', item.rolname, role_name);
      end if;
    end loop;
  end if;

  raise notice 'role % ready in database % (PostgreSQL %): jobs %, connection limit %',
    role_name, current_database(), split_part(current_setting('server_version'), ' ', 1), array_to_string(jobs, ','), limit_text;
end
$roles$;

commit;
