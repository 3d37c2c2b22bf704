-- index-size: the size of one index by its quoted, schema-qualified name ($1). Any role; PostgreSQL 9.4+.
select pg_relation_size(to_regclass($1))::int8 as size_bytes
