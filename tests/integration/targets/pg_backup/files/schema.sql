-- The test database: a small table the cases check row by row, and a big one (about 12 MB
-- of SQL, 7 MB gzipped: md5 text hardly compresses) so that a dump killed after 1 MiB is
-- killed midway and a 1 MiB tmpfs fills up.
CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance numeric(12, 2) NOT NULL);
INSERT INTO accounts SELECT i, 'owner ' || i, i * 10.5 FROM generate_series(1, 100) AS i;
CREATE TABLE ledger (id bigint PRIMARY KEY, a text, b text, c text);
INSERT INTO ledger SELECT i, md5(i::text), md5((i * 7)::text), md5((i * 13)::text) FROM generate_series(1, 110000) AS i;
