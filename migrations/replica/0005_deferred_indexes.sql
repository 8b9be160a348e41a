-- tasklane replica, schema version 5.
--
-- A first sync that loads many tasks into an (almost) empty replica sets
-- the inbox's indexes aside and builds each once at the end: kept up row
-- by row, they cost more than everything else the load writes
-- (replica/bulk.rs). Their SQL waits here meanwhile, so that whoever opens
-- the replica next rebuilds them should the load never finish.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
) STRICT;
