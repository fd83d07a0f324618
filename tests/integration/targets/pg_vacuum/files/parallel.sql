-- Four equal tables for jobs and max_runtime: every row updated once, so each has as many
-- dead tuples as live ones and a vacuum with a cost delay takes about a second.
CREATE SCHEMA par;
CREATE TABLE par.t1 (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE par.t2 (LIKE par.t1 INCLUDING ALL);
CREATE TABLE par.t3 (LIKE par.t1 INCLUDING ALL);
CREATE TABLE par.t4 (LIKE par.t1 INCLUDING ALL);
INSERT INTO par.t1 SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
INSERT INTO par.t2 SELECT * FROM par.t1;
INSERT INTO par.t3 SELECT * FROM par.t1;
INSERT INTO par.t4 SELECT * FROM par.t1;
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE par.t1, par.t2, par.t3, par.t4;
