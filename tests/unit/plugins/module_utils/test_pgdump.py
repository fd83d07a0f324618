# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dump and restore plumbing of _pgdump: the pipefail semantics, the file handling and the
gzip streaming into psql, with small stand-in client programs (shell scripts in pg_bin_dir)
so that every failure mode is exact. The real pg_dump, psql and pg_restore against a real
PostgreSQL 15 are in tests/integration/targets/pg_backup and pg_restore."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import (
    COMPLETION_MARKER,
    DumpError,
    client_connection,
    describe_returncode,
    detect_format,
    dump_to_file,
    first_error_line,
    restore_file,
)

PARAMS = {
    "login_user": "postgres",
    "login_password": "s3cret pw'",
    "login_host": "",
    "login_port": 5432,
    "login_unix_socket": "/run/postgresql",
    "login_db": None,
    "ssl_mode": "prefer",
    "ca_cert": None,
    "ssl_cert": None,
    "ssl_key": None,
    "connect_params": {},
    "connect_timeout": 10,
    "session_role": None,
}

DUMP = (
    b"--\n-- PostgreSQL database dump\n--\nCREATE TABLE t (id int);\n"
    + b"INSERT INTO t VALUES (1);\n" * 5000
    + b"--\n"
    + COMPLETION_MARKER
    + b"\n--\n\n\\unrestrict abc\n"
)


def program(directory, name, body):
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bindir(tmp_path):
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def backups(tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    return directory


def params_with(bindir):
    return dict(PARAMS, pg_bin_dir=str(bindir))


def test_password_only_in_the_environment():
    conninfo, env = client_connection(dict(PARAMS, connect_params={"options": "-c x=1"}), "my db")
    assert "s3cret" not in conninfo
    assert env["PGPASSWORD"] == "s3cret pw'"
    assert "dbname='my db'" in conninfo
    assert "host='/run/postgresql'" in conninfo
    assert "options='-c x=1'" in conninfo


def test_password_from_connect_params_also_moves_to_the_environment():
    conninfo, env = client_connection(dict(PARAMS, login_password="", connect_params={"password": "other"}), "db")
    assert "other" not in conninfo
    assert env["PGPASSWORD"] == "other"


def test_conninfo_quotes_backslashes_and_quotes():
    conninfo, dummy = client_connection(dict(PARAMS, login_user="o'brien\\x"), "db")
    assert "user='o\\'brien\\\\x'" in conninfo


def test_describe_returncode():
    assert describe_returncode("pg_dump", -9) == "pg_dump was killed by SIGKILL"
    assert describe_returncode("psql", 3) == "psql exited with status 3"


def test_first_error_line_skips_the_caret_lines():
    stderr = 'psql:<stdin>:40: ERROR:  relation "x" does not exist\nLINE 1: INSERT INTO x VALUES (1);\n                    ^\n'
    assert first_error_line(stderr) == 'psql:<stdin>:40: ERROR:  relation "x" does not exist'
    assert first_error_line("something odd\nlast words\n") == "last words"
    assert first_error_line("") == ""


def test_plain_dump_is_gzipped_hashed_and_named(bindir, backups):
    source = bindir / "dump.sql"
    source.write_bytes(DUMP)
    program(bindir, "pg_dump", 'cat "%s"\n' % source)
    result = dump_to_file(None, params_with(bindir), "app", str(backups), "backup_20260101_000000.sql.gz")
    path = backups / "backup_20260101_000000.sql.gz"
    data = path.read_bytes()
    assert gzip.decompress(data) == DUMP
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["size"] == len(data)
    assert result["uncompressed_size"] == len(DUMP)
    assert (
        backups / "backup_20260101_000000.sql.gz.sha256"
    ).read_text() == "%s  backup_20260101_000000.sql.gz\n" % result["sha256"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(backups)) == ["backup_20260101_000000.sql.gz", "backup_20260101_000000.sql.gz.sha256"]


def test_custom_dump_is_copied_as_is(bindir, backups):
    program(bindir, "pg_dump", 'printf "PGDMP-binary"\n')
    result = dump_to_file(None, params_with(bindir), "app", str(backups), "b.dump", fmt="custom")
    assert (backups / "b.dump").read_bytes() == b"PGDMP-binary"
    assert result["format"] == "custom"


@pytest.mark.parametrize(
    "body, message",
    [
        ('printf -- "-- PostgreSQL database dump\\nCOPY half"\nexit 1\n', "pg_dump exited with status 1"),
        ('echo "pg_dump: error: connection failed" >&2\nexit 1\n', "pg_dump: error: connection failed"),
        ('printf -- "-- PostgreSQL database dump\\nCOPY half"\nkill -9 $$\n', "pg_dump was killed by SIGKILL"),
        ('printf -- "-- PostgreSQL database dump\\nCOPY half"\nexit 0\n', "does not end as a complete dump"),
    ],
)
def test_failed_dump_leaves_nothing(bindir, backups, body, message):
    (backups / "backup_20250101_000000.sql.gz").write_bytes(b"older")
    program(bindir, "pg_dump", body)
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "backup_20260101_000000.sql.gz")
    assert message in str(caught.value)
    assert os.listdir(backups) == ["backup_20250101_000000.sql.gz"]
    assert (backups / "backup_20250101_000000.sql.gz").read_bytes() == b"older"


CUT_IN_COPY = (
    b"--\n-- PostgreSQL database dump\n--\nCOPY public.note (id, body) FROM stdin;\n1\tx\n"
    + COMPLETION_MARKER
    + b"\n--\n\n"
)


@pytest.mark.parametrize(
    "output, words",
    [
        # The marker text as a row of a COPY block that never ends (pg_dump cut, yet exit 0).
        (CUT_IN_COPY, "ends inside the COPY data of public.note"),
        # The marker, then more SQL: not where pg_dump ends a dump.
        (DUMP + b"SELECT 1;\n", "is followed by SQL"),
    ],
)
def test_output_must_end_where_pg_dump_ends_a_dump(bindir, backups, output, words):
    source = bindir / "dump.sql"
    source.write_bytes(output)
    program(bindir, "pg_dump", 'cat "%s"\n' % source)
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "backup_20260101_000000.sql.gz")
    assert words in str(caught.value) and "no backup was written" in str(caught.value)
    assert os.listdir(backups) == []


def test_timeout_stops_pg_dump(bindir, backups):
    program(bindir, "pg_dump", "exec sleep 30\n")
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "b.sql.gz", timeout=1)
    assert "did not finish within 1 seconds" in str(caught.value)
    assert os.listdir(backups) == []


def test_never_overwrites(bindir, backups):
    (backups / "b.sql.gz").write_bytes(b"precious")
    program(bindir, "pg_dump", "echo should not run >&2\nexit 1\n")
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "b.sql.gz")
    assert "never overwritten" in str(caught.value)
    assert (backups / "b.sql.gz").read_bytes() == b"precious"


def test_never_overwrites_a_sidecar(bindir, backups):
    (backups / "b.sql.gz.sha256").write_text("0" * 64 + "  b.sql.gz\n")
    program(bindir, "pg_dump", "echo should not run >&2\nexit 1\n")
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "b.sql.gz")
    assert "b.sql.gz.sha256 already exists" in str(caught.value)
    assert os.listdir(backups) == ["b.sql.gz.sha256"]


def test_missing_program(bindir, backups):
    with pytest.raises(DumpError) as caught:
        dump_to_file(None, params_with(bindir), "app", str(backups), "b.sql.gz")
    assert "pg_dump not found or not executable" in str(caught.value)


def test_detect_format(tmp_path):
    for name, data, expected in (
        ("a.gz", gzip.compress(b"x"), "gzip"),
        ("a.dump", b"PGDMP\x01", "custom"),
        ("a.sql", b"--\n", "plain"),
    ):
        (tmp_path / name).write_bytes(data)
        assert detect_format(str(tmp_path / name)) == expected


# A psql stand-in that stores what it is fed, and fails like psql does when told to.
PSQL = 'cat > "%s"\nexit "${PSQL_EXIT:-0}"\n'


def restore_with(bindir, tmp_path, data, name="b.sql.gz", **kwargs):
    received = tmp_path / "received.sql"
    program(bindir, "psql", PSQL % received)
    backup = tmp_path / name
    backup.write_bytes(data)
    result = restore_file(None, params_with(bindir), str(backup), "scratch", **kwargs)
    return result, received.read_bytes() if received.exists() else None


def test_restore_streams_gzip_into_psql(bindir, tmp_path):
    result, received = restore_with(bindir, tmp_path, gzip.compress(DUMP))
    assert result["ok"] is True, result
    assert received == DUMP
    assert result["format"] == "gzip"
    command = result["command"]
    assert command[1:7] == ["--no-password", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    assert "s3cret" not in " ".join(command)


def test_restore_multi_member_gzip(bindir, tmp_path):
    half = len(DUMP) // 2
    result, received = restore_with(bindir, tmp_path, gzip.compress(DUMP[:half]) + gzip.compress(DUMP[half:]))
    assert result["ok"] is True, result
    assert received == DUMP


def test_restore_truncated_gzip_is_not_ok(bindir, tmp_path):
    data = gzip.compress(DUMP)
    result, dummy = restore_with(bindir, tmp_path, data[: len(data) // 2])
    assert result["ok"] is False
    assert "truncated" in result["error"]


def test_restore_corrupt_gzip_is_not_ok(bindir, tmp_path):
    data = bytearray(gzip.compress(DUMP))
    data[len(data) // 2] ^= 0xFF
    result, dummy = restore_with(bindir, tmp_path, bytes(data))
    assert result["ok"] is False
    assert "corrupt" in result["error"] or "truncated" in result["error"]


def test_restore_psql_error_is_not_ok(bindir, tmp_path, monkeypatch):
    monkeypatch.setenv("PSQL_EXIT", "3")
    result, dummy = restore_with(bindir, tmp_path, gzip.compress(DUMP))
    assert result["ok"] is False
    assert result["error"].startswith("psql exited with status 3")


def test_restore_plain_sql_uncompressed(bindir, tmp_path):
    result, received = restore_with(bindir, tmp_path, DUMP, name="b.sql", fmt="plain")
    assert result["ok"] is True
    assert received == DUMP


def test_restore_custom_uses_pg_restore(bindir, tmp_path):
    args = tmp_path / "args"
    program(bindir, "pg_restore", 'echo "$@" > "%s"\n' % args)
    backup = tmp_path / "b.dump"
    backup.write_bytes(b"PGDMP\x01\x0e")
    result = restore_file(None, params_with(bindir), str(backup), "scratch")
    assert result["ok"] is True
    assert result["format"] == "custom"
    seen = args.read_text()
    assert "--exit-on-error --single-transaction --no-owner" in seen
    assert seen.strip().endswith(str(backup))
    result = restore_file(None, params_with(bindir), str(backup), "scratch", no_owner=False)
    assert "--no-owner" not in args.read_text()


def test_restore_unreadable_file(bindir, tmp_path):
    result = restore_file(None, params_with(bindir), str(tmp_path / "missing.sql.gz"), "scratch")
    assert result["ok"] is False
    assert "cannot read" in result["error"]


def test_timeout_problem_bounds_the_deadline_timer():
    from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import MAX_TIMEOUT, timeout_problem

    assert timeout_problem(None) is None
    assert timeout_problem(1) is None and timeout_problem(MAX_TIMEOUT) is None
    assert "between 1 second and 2592000" in timeout_problem(0)
    assert "between 1 second and 2592000" in timeout_problem(MAX_TIMEOUT + 1)


@pytest.mark.parametrize(
    "value, seconds",
    [(None, None), ("", None), (1, 1.0), (2592000, 2592000.0), ("90s", 90.0), ("30m", 1800.0), ("1d12h", 129600.0)],
)
def test_read_timeout_takes_seconds_and_durations(value, seconds):
    from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import read_timeout

    assert read_timeout(value) == seconds


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "timeout must be between 1 second and 2592000 (30 days), got 0"),
        (-1, "timeout must be between 1 second and 2592000 (30 days), got -1"),
        ("31d", "timeout must be between 1 second and 2592000 (30 days), got 2678400"),
        (10**12, "timeout must be between 1 second and 2592000 (30 days), got 1000000000000"),
        ("1e999", "timeout must be between 1 second and 2592000 (30 days), got inf"),
        ("later", "timeout: cannot read 'later' as a duration"),
        (False, "timeout: a duration must be a number of seconds"),
    ],
)
def test_read_timeout_refuses_what_the_timer_cannot_hold(value, message):
    from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
    from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import read_timeout

    with pytest.raises(FindingError) as caught:
        read_timeout(value)
    assert str(caught.value).startswith(message)


def test_seconds_text():
    from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import seconds_text

    assert [seconds_text(s) for s in (90.0, 90, 0.5, 1800.0)] == ["90", "90", "0.5", "1800"]


def test_deadline_kills_when_it_expires_and_survives_a_century():
    import subprocess

    from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import _Deadline

    century = _Deadline(100 * 365.25 * 86400, [])
    assert century.thread is not None and century.thread.is_alive()
    century.cancel()
    century.thread.join(5)
    assert not century.thread.is_alive() and not century.expired

    proc = subprocess.Popen(["sleep", "60"])
    deadline = _Deadline(0.2, [proc])
    assert proc.wait(timeout=30) != 0
    assert deadline.expired
    deadline.cancel()

    none = _Deadline(None, [])
    assert none.thread is None and not none.expired
    none.cancel()
