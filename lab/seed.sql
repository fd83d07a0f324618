-- Lab data for financial_stronghold (run once by lab/lab.sh as the postgres superuser).
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO core_account (number, owner_name, currency, balance, is_active, created_at, updated_at)
SELECT 'FS' || lpad(g::text, 10, '0'),
       'Customer ' || g,
       (ARRAY['EUR', 'USD', 'GBP', 'CHF'])[1 + g % 4],
       0,
       g % 50 <> 0,
       now() - make_interval(days => 400 - g % 365),
       now()
  FROM generate_series(1, 2000) AS g
ON CONFLICT (number) DO NOTHING;

WITH ids AS (SELECT array_agg(id ORDER BY id) AS a FROM core_account)
INSERT INTO core_transaction (account_id, kind, amount, description, reference, status, created_at)
SELECT ids.a[1 + (g * 7919) % array_length(ids.a, 1)],
       CASE WHEN g % 3 = 0 THEN 'debit' ELSE 'credit' END,
       round((1 + (g * 37) % 250000 / 100.0)::numeric, 2),
       (ARRAY['card payment', 'salary', 'transfer', 'direct debit', 'atm withdrawal', 'interest'])[1 + g % 6],
       'TX' || lpad(g::text, 12, '0'),
       CASE WHEN g % 97 = 0 THEN 'failed' WHEN g % 11 = 0 THEN 'pending' ELSE 'posted' END,
       now() - make_interval(secs => (g * 97) % (365 * 86400))
  FROM generate_series(1::bigint, 320000) AS g, ids;
COMMIT;

-- Fresh statistics, then ~1/7 of the rows rewritten: dead tuples for VACUUM to find later
-- (below the autovacuum threshold of 50 + 20 % of the table, so they stay).
VACUUM ANALYZE core_account;
VACUUM ANALYZE core_transaction;
UPDATE core_transaction SET status = 'reconciled' WHERE status = 'posted' AND id % 7 = 0;
