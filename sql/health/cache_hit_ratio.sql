-- cache_hit_ratio: shared-buffer hits vs reads of every table and index block of this database since its statistics were reset (one row of pg_stat_database, so it costs nothing on big catalogs). Any role; PostgreSQL 10+.
select blks_hit::float8 as hits, blks_read::float8 as reads, stats_reset as "statsReset"
  from pg_stat_database
 where datname = current_database()
