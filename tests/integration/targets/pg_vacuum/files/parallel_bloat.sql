UPDATE par.t1 SET v = v || 'x';
UPDATE par.t2 SET v = v || 'x';
UPDATE par.t3 SET v = v || 'x';
UPDATE par.t4 SET v = v || 'x';
SELECT pg_stat_force_next_flush();
