-- A table whose name would inject SQL if the module pasted it into its command unquoted.
CREATE TABLE public.victim (id int);
CREATE TABLE public."we""ird; DROP TABLE victim; --" (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO public."we""ird; DROP TABLE victim; --" SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE public."we""ird; DROP TABLE victim; --";
DELETE FROM public."we""ird; DROP TABLE victim; --" WHERE id <= 600;
SELECT pg_stat_force_next_flush();
