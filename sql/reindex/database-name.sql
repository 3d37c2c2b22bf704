-- database-name: this database's name quoted as an identifier, and the total size of its indexes.
-- Any role; PostgreSQL 9.0+.
select format('%I', current_database()) as quoted_name,
       (select coalesce(sum(pg_relation_size(c.oid)), 0) from pg_class c where c.relkind = 'i')::int8
         as index_bytes
