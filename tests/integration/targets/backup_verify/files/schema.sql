-- A small ledger: enough rows for real COPY blocks, a django_migrations table for the
-- "latest migration" sanity query.
CREATE TABLE django_migrations (id serial PRIMARY KEY, app text NOT NULL, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now());
INSERT INTO django_migrations (app, name) VALUES ('core', '0001_initial'), ('core', '0002_accounts'), ('core', '0042_ledger_index');
CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO account SELECT g, 'owner ' || g FROM generate_series(1, 500) g;
CREATE TABLE core_transaction (id bigint PRIMARY KEY, account_id int NOT NULL REFERENCES account, amount numeric(12, 2) NOT NULL,
                               memo text, created_at timestamptz NOT NULL);
INSERT INTO core_transaction
SELECT g, 1 + g % 500, (g % 10000) / 100.0, md5(g::text) || ' payment', '2026-01-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 20000) g;
CREATE INDEX core_transaction_created ON core_transaction (created_at);
