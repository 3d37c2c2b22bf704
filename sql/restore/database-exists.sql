-- Whether a database of this name exists on the server.
select exists (select 1 from pg_database where datname = $1) as exists;
