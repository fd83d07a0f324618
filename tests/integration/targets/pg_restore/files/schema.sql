-- The application's data: 100 accounts owned by the application's role (the rollback must
-- keep that owner), and a database-level setting the rollback must carry over.
SET ROLE app_owner;
CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance numeric(12, 2) NOT NULL);
INSERT INTO accounts SELECT i, 'owner ' || i, i * 10.5 FROM generate_series(1, 100) AS i;
RESET ROLE;
ALTER DATABASE appdb SET work_mem = '7MB';
