-- table-pages: a plain table's pages now (where a TID-range pass ends; rows updated during the pass move to new
-- pages at the end). Any role; PostgreSQL 10+.
select pg_relation_size($1::oid) / current_setting('block_size')::int8 as pages
