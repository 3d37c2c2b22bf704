-- create-partition: a new partition ahead of the newest one, same interval (bounds are the server's own
-- timestamptz text, quoted as literals). SHARE UPDATE EXCLUSIVE on the parent; scans a default partition if there
-- is one. Table owner; PostgreSQL 10+.
create table {partition} partition of {parent} for values from ({lower}) to ({upper})
