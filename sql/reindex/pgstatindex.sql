-- pgstatindex: the measured leaf density of one btree index ($1 = index oid), read page by page by
-- pgstattuple's pgstatindex. {schema} is the extension's schema (server-facts), quoted by
-- functions/shared/pg/sql-names.ts. Needs pg_stat_scan_tables or superuser; PostgreSQL 10+ with pgstattuple 1.3+.
select index_size::int8 as index_size,
       internal_pages::int8 as internal_pages,
       leaf_pages::int8 as leaf_pages,
       empty_pages::int8 as empty_pages,
       deleted_pages::int8 as deleted_pages,
       avg_leaf_density::float8 as avg_leaf_density
  from {schema}.pgstatindex($1::oid::regclass)
