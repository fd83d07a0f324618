-- Dead tuples: heavy 8000 of 28000 row versions (28.6 %), light 600 (2.9 %), small 100 of
-- 200 (50 %), archive.old_heavy 8000 deleted (40 %). untouched gets none.
UPDATE public.heavy SET v = v || 'x' WHERE id <= 8000;
UPDATE public.light SET v = v || 'x' WHERE id <= 600;
UPDATE public.small SET v = v || 'x';
DELETE FROM archive.old_heavy WHERE id <= 8000;
SELECT pg_stat_force_next_flush();
