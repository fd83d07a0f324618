-- Tables of the pg_vacuum integration test (run with psql -f, one statement at a time).
-- pg_stat_force_next_flush(): a backend sends its table counters to the shared statistics at
-- most once a second; forcing the flush before each VACUUM keeps the pending INSERT counts
-- from being added after VACUUM has set n_live_tup (which would double it).
CREATE SCHEMA archive;
CREATE TABLE public.heavy (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE public.light (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE public.untouched (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE public.small (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE archive.old_heavy (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO public.heavy SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
INSERT INTO public.light SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
-- 1000 rows only: a larger never-vacuumed table reaches autovacuum's insert threshold
-- (1000 + 0.2 x rows inserted since vacuum), which the module rightly counts as "needs vacuum".
INSERT INTO public.untouched SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
INSERT INTO public.small SELECT g, md5(g::text) FROM generate_series(1, 100) g;
INSERT INTO archive.old_heavy SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT pg_stat_force_next_flush();
-- A clean start, as after a load: vacuumed and analyzed. untouched is only analyzed, so its
-- last_vacuum is NULL until something vacuums it.
VACUUM ANALYZE public.heavy, public.light, public.small, archive.old_heavy;
ANALYZE public.untouched;
