# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of module_utils/_backup_files.py: name patterns, gaps, the median shrink, and
the one-pass stream checker on bytes generated here (the module runs against real pg_dump output
in tests/integration/targets/backup_verify)."""
from __future__ import annotations

import datetime
import gzip
import hashlib
import os

import zlib

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _backup_files
from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    TAIL_WINDOW,
    compile_pattern,
    find_gaps,
    list_backups,
    median,
    read_sidecar,
    size_vs_median,
    verify_header,
    verify_stream,
)

DUMP = (b"--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET statement_timeout = 0;\n"
        + b"".join(b"INSERT INTO t VALUES (%d, 'row %d');\n" % (i, i) for i in range(20000))
        + b"\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n")
UTC = datetime.timezone.utc

try:
    from isal import isal_zlib
except ImportError:
    isal_zlib = None


@pytest.fixture(autouse=True, params=["zlib", "isal"])
def inflate_backend(request, monkeypatch):
    """Every test with stock zlib and with ISA-L (the optional faster backend) when installed."""
    if request.param == "isal":
        if isal_zlib is None:
            pytest.skip("isal is not installed")
        monkeypatch.setattr(_backup_files, "inflate_lib", isal_zlib)
    else:
        monkeypatch.setattr(_backup_files, "inflate_lib", zlib)
    return request.param


def failed(result):
    return sorted(c["name"] for c in result["checks"] if c["status"] == "failed")


def status(result, name):
    return next(c["status"] for c in result["checks"] if c["name"] == name)


def put(tmp_path, data, name="backup_20261127_020000.sql.gz", sidecar=None):
    path = tmp_path / name
    path.write_bytes(data)
    if sidecar is not None:
        (tmp_path / (name + ".sha256")).write_text(sidecar)
    return str(path)


def sha_line(data, name="backup_20261127_020000.sql.gz"):
    return "%s  %s\n" % (hashlib.sha256(data).hexdigest(), name)


# --- patterns ---------------------------------------------------------------------------------

def test_default_pattern_round_trip():
    pattern = compile_pattern(None)
    when = pattern.match("backup_20261127_020304.sql.gz")
    assert when == datetime.datetime(2026, 11, 27, 2, 3, 4)
    assert pattern.format(when) == "backup_20261127_020304.sql.gz"
    assert pattern.glob() == "backup_????????_??????.sql.gz"


@pytest.mark.parametrize("name", [
    "backup_20261127_020304.sql.gz.sha256",
    "backup_20261127_020304.sql.gz.tmp",
    "xbackup_20261127_020304.sql.gz",
    "backup_20261327_020304.sql.gz",   # month 13
    "backup_20260230_020304.sql.gz",   # 30 February
    "backup_2026112_020304.sql.gz",
    "backup_20261127-020304.sql.gz",
])
def test_names_that_are_no_backup(name):
    assert compile_pattern(None).match(name) is None


def test_literal_text_is_escaped():
    pattern = compile_pattern("db.(prod)+_%Y-%m-%dT%H%%.dump")
    assert pattern.match("db.(prod)+_2026-01-02T03%.dump") == datetime.datetime(2026, 1, 2, 3)
    assert pattern.match("dbX(prod)+_2026-01-02T03%.dump") is None
    assert pattern.format(datetime.datetime(2026, 1, 2, 3)) == "db.(prod)+_2026-01-02T03%.dump"


@pytest.mark.parametrize("pattern, message", [
    ("backup.sql.gz", "has no time fields"),
    ("backup_%Y%m.sql.gz", "no time fields for day"),
    ("backup_%Y%m%d_%s.sql.gz", "unknown directive %s"),
    ("backup_%Y%m%d%Y.sql.gz", "appears twice"),
    ("dir/backup_%Y%m%d.sql.gz", "must be a file name"),
    ("backup_%Y%m%d%", "lone %"),
    ("", "non-empty string"),
])
def test_bad_patterns(pattern, message):
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)


def test_list_backups_sorted_by_name_time_not_mtime(tmp_path):
    for name, mtime in (("backup_20261127_020000.sql.gz", 1000), ("backup_20261125_020000.sql.gz", 3000),
                        ("backup_20261126_020000.sql.gz", 2000)):
        put(tmp_path, b"x", name, sidecar="")
        os.utime(str(tmp_path / name), (mtime, mtime))
    put(tmp_path, b"x", "notes.txt")
    found = list_backups(str(tmp_path), None, "UTC")
    assert [b["name"][7:15] for b in found] == ["20261125", "20261126", "20261127"]
    assert found[0]["time"] == datetime.datetime(2026, 11, 25, 2, tzinfo=UTC)
    assert found[0]["mtime"] == 3000 and found[0]["size"] == 1


def test_list_backups_time_zone(tmp_path):
    put(tmp_path, b"x")
    found = list_backups(str(tmp_path), None, "Asia/Tokyo")
    assert found[0]["time"].utcoffset() == datetime.timedelta(hours=9)
    with pytest.raises(ValueError, match="unknown time zone"):
        list_backups(str(tmp_path), None, "Mars/Olympus")


def test_list_backups_reports_entries_that_are_no_file(tmp_path):
    os.symlink(str(tmp_path / "gone"), str(tmp_path / "backup_20261127_020000.sql.gz"))
    os.mkfifo(str(tmp_path / "backup_20261128_020000.sql.gz"))
    found = list_backups(str(tmp_path), None)
    assert found[0]["error"].startswith("cannot stat")
    assert found[1]["error"] == "not a regular file (FIFO)"


# --- retention and size -----------------------------------------------------------------------

def test_gaps():
    day = datetime.datetime(2026, 11, 1, 2, tzinfo=UTC)
    times = [day + datetime.timedelta(days=n) for n in (0, 1, 2, 5, 6)]
    gaps = find_gaps(list(reversed(times)), 86400)
    assert gaps == [{"after": times[2], "before": times[3], "seconds": 3 * 86400.0}]
    # 1.5 days is exactly the limit: not a gap; a little more is.
    assert find_gaps([day, day + datetime.timedelta(hours=36)], 86400) == []
    assert len(find_gaps([day, day + datetime.timedelta(hours=36, seconds=1)], 86400)) == 1
    assert find_gaps([day], 86400) == []
    with pytest.raises(ValueError):
        find_gaps(times, 0)


def test_median_and_shrink():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert size_vs_median(50, [100, 100, 1000]) == (100, 50.0)
    assert size_vs_median(150, [100]) == (100, -50.0)
    assert size_vs_median(10, []) == (None, None)
    assert size_vs_median(10, [None, 0]) == (0, None)


# --- the stream checker -----------------------------------------------------------------------

def test_valid_gzip_with_sidecar(tmp_path):
    data = gzip.compress(DUMP)
    result = verify_stream(put(tmp_path, data, sidecar=sha_line(data)))
    assert result["ok"], result["checks"]
    assert [c["name"] for c in result["checks"]] == ["read", "format", "gzip", "sha256", "header", "marker"]
    assert status(result, "sha256") == "ok"
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["uncompressed_bytes"] == len(DUMP)
    assert result["gzip_members"] == 1 and result["marker_found"] and result["format"] == "plain"


def test_multi_member_is_valid(tmp_path):
    parts = [DUMP[:1000], DUMP[1000:50000], DUMP[50000:]]
    data = b"".join(gzip.compress(part) for part in parts)
    result = verify_stream(put(tmp_path, data), read_size=4096)
    assert result["ok"], result["checks"]
    assert result["gzip_members"] == 3 and result["uncompressed_bytes"] == len(DUMP)


@pytest.mark.parametrize("cut", [1, 4, 8, 100])
def test_cut_from_the_end(tmp_path, cut):
    data = gzip.compress(DUMP)
    result = verify_stream(put(tmp_path, data[:-cut], sidecar=sha_line(data)))
    assert "gzip" in failed(result) and "sha256" in failed(result)
    assert "truncated" in next(c["detail"] for c in result["checks"] if c["name"] == "gzip")


def test_valid_gzip_of_a_cut_dump_has_no_marker(tmp_path):
    result = verify_stream(put(tmp_path, gzip.compress(DUMP[:len(DUMP) // 2])))
    assert failed(result) == ["marker"]
    assert status(result, "gzip") == "ok"


def test_marker_far_from_the_end_is_not_searched_forever(tmp_path):
    data = gzip.compress(DUMP + b"-- filler\n" * (TAIL_WINDOW // 5))
    assert failed(verify_stream(put(tmp_path, data))) == ["marker"]


def test_crc_error(tmp_path):
    data = bytearray(gzip.compress(DUMP))
    data[-8] ^= 0x01  # the CRC32 of the trailer
    result = verify_stream(put(tmp_path, bytes(data)))
    assert failed(result) == ["gzip"]
    # zlib says "incorrect data check", ISA-L "Incorrect checksum found".
    assert "check" in next(c["detail"] for c in result["checks"] if c["name"] == "gzip").lower()
    assert status(result, "marker") == "skipped"


def test_length_error(tmp_path):
    data = bytearray(gzip.compress(DUMP))
    data[-1] ^= 0x01  # ISIZE
    assert failed(verify_stream(put(tmp_path, bytes(data)))) == ["gzip"]


def test_trailing_bytes(tmp_path):
    data = gzip.compress(DUMP)
    assert status(verify_stream(put(tmp_path, data + b"\0" * 10)), "gzip") == "warning"
    assert failed(verify_stream(put(tmp_path, data + b"garbage"))) == ["gzip"]


def test_sidecar_mismatch_and_formats(tmp_path):
    data = gzip.compress(DUMP)
    result = verify_stream(put(tmp_path, data, sidecar=sha_line(b"other")))
    assert failed(result) == ["sha256"]
    assert status(verify_stream(put(tmp_path, data, sidecar="nonsense\n")), "sha256") == "failed"
    result = verify_stream(put(tmp_path, data, sidecar=sha_line(data, "other.sql.gz")))
    assert status(result, "sha256") == "warning"
    assert status(verify_stream(put(tmp_path, data, sidecar=sha_line(data)), sidecar=False), "sha256") == "skipped"


def test_read_sidecar_binary_mode(tmp_path):
    path = tmp_path / "s.sha256"
    path.write_text("%s *backup.sql.gz\n" % ("A" * 64))
    assert read_sidecar(str(path)) == ("a" * 64, "backup.sql.gz")


def test_empty_and_uncompressed(tmp_path):
    assert failed(verify_stream(put(tmp_path, b""))) == ["format"]
    result = verify_stream(put(tmp_path, DUMP, name="backup_20261127_020000.sql"))
    assert result["ok"] and status(result, "gzip") == "skipped" and result["compressed"] is False


def test_expected_format(tmp_path):
    path = put(tmp_path, gzip.compress(DUMP))
    assert failed(verify_stream(path, fmt="custom")) == ["format"]
    with pytest.raises(ValueError):
        verify_stream(path, fmt="tar")


def test_unreadable_entry(tmp_path):
    os.mkfifo(str(tmp_path / "fifo"))
    result = verify_stream(str(tmp_path / "fifo"))
    assert "read" in failed(result) and "not a regular file" in result["checks"][0]["detail"]


def test_header_level(tmp_path):
    data = gzip.compress(DUMP)
    result = verify_header(put(tmp_path, data[:len(data) // 2]))
    assert result["ok"] and status(result, "header") == "ok"
    assert verify_header(put(tmp_path, data))["isize"] == len(DUMP)
    assert not verify_header(put(tmp_path, b""))["ok"]
    assert verify_header(put(tmp_path, b"PGDMP\x01\x0e\x00rest"))["format"] == "custom"
