-- Per-table autovacuum settings (reloptions), which select=needed must honour as autovacuum does.
CREATE SCHEMA relopts;
-- A lower scale factor: 600 dead tuples of 20000 exceed 50 + 0.01 x 20000 = 250.
CREATE TABLE relopts.eager (id int PRIMARY KEY, v text NOT NULL) WITH (autovacuum_vacuum_scale_factor = 0.01);
-- autovacuum_vacuum_insert_threshold = -1 disables insert-triggered vacuums for this table
-- (PostgreSQL: "Minimum number of tuple inserts prior to vacuum, or -1 to disable insert vacuums").
CREATE TABLE relopts.append_only (id int PRIMARY KEY, v text NOT NULL) WITH (autovacuum_vacuum_insert_threshold = -1);
INSERT INTO relopts.eager SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
INSERT INTO relopts.append_only SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE relopts.eager;
ANALYZE relopts.append_only;
UPDATE relopts.eager SET v = v || 'x' WHERE id <= 600;
SELECT pg_stat_force_next_flush();
