-- database-name: this database's name, and the total size of its indexes.
-- Any role; PostgreSQL 9.0+.
select current_database() as name,
       (select coalesce(sum(pg_relation_size(c.oid)), 0) from pg_class c where c.relkind = 'i')::int8
         as index_bytes
