CREATE TABLE django_migrations (id serial PRIMARY KEY, app text NOT NULL, name text NOT NULL);
INSERT INTO django_migrations (app, name) VALUES ('core', '0001_initial');
