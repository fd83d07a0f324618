-- Data that holds pg_dump's completion marker: a dump cut inside the COPY blocks, strings or
-- function bodies that hold it must not pass as complete (files/make_cases.py cuts them).
-- One column: each row is a whole line of the COPY block; these rows copy pg_dump's ending.
CREATE TABLE note_line (body text);
INSERT INTO note_line VALUES ('--'), ('-- PostgreSQL database dump complete'), ('--'), (''), ('\unrestrict fake'), ('after');
-- The marker as one column of a row, and inside a block of -- lines (newlines in the value).
CREATE TABLE note (id int PRIMARY KEY, body text);
INSERT INTO note VALUES (1, '-- PostgreSQL database dump complete'), (2, E'--\n-- PostgreSQL database dump complete\n--\n'), (3, 'tail');
-- The marker as a line of a function body.
CREATE FUNCTION note_marker() RETURNS text LANGUAGE sql AS $$SELECT '
-- PostgreSQL database dump complete
'$$;
