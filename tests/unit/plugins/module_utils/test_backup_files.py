# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of module_utils/_backup_files.py: name patterns, gaps, the median shrink, and
the one-pass stream checker on bytes generated here (the module runs against real pg_dump output
in tests/integration/targets/backup_verify)."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import os
import struct
import zlib
from zoneinfo import ZoneInfo

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _backup_files
from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    DumpEndScanner,
    backup_files,
    compile_pattern,
    find_gaps,
    list_backups,
    pattern_or_default,
    read_backup_files,
    read_sidecar,
    size_vs_median,
    verify_header,
    verify_stream,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import median

DUMP = (
    b"--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET statement_timeout = 0;\n"
    + b"".join(b"INSERT INTO t VALUES (%d, 'row %d');\n" % (i, i) for i in range(20000))
    + b"\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n"
)
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


@pytest.mark.parametrize(
    "name",
    [
        "backup_20261127_020304.sql.gz.sha256",
        "backup_20261127_020304.sql.gz.tmp",
        "xbackup_20261127_020304.sql.gz",
        "backup_20261327_020304.sql.gz",  # month 13
        "backup_20260230_020304.sql.gz",  # 30 February
        "backup_2026112_020304.sql.gz",
        "backup_20261127-020304.sql.gz",
    ],
)
def test_names_that_are_no_backup(name):
    assert compile_pattern(None).match(name) is None


def test_literal_text_is_escaped():
    pattern = compile_pattern("db.(prod)+_%Y-%m-%dT%H%%.dump")
    assert pattern.match("db.(prod)+_2026-01-02T03%.dump") == datetime.datetime(2026, 1, 2, 3)
    assert pattern.match("dbX(prod)+_2026-01-02T03%.dump") is None
    assert pattern.format(datetime.datetime(2026, 1, 2, 3)) == "db.(prod)+_2026-01-02T03%.dump"


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("backup.sql.gz", "has no time fields"),
        ("backup_%Y%m.sql.gz", "no time fields for day"),
        ("backup_%Y%m%d_%s.sql.gz", "unknown directive %s"),
        ("backup_%Y%m%d%Y.sql.gz", "appears twice"),
        ("dir/backup_%Y%m%d.sql.gz", "must be a file name"),
        ("backup_%Y%m%d%", "lone %"),
        ("", "non-empty string"),
    ],
)
def test_bad_patterns(pattern, message):
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)


def test_pattern_or_default_by_format():
    assert pattern_or_default(None, "plain") == "backup_%Y%m%d_%H%M%S.sql.gz"
    assert pattern_or_default(None, "auto") == "backup_%Y%m%d_%H%M%S.sql.gz"
    assert pattern_or_default(None, "custom") == "backup_%Y%m%d_%H%M%S.dump"
    assert pattern_or_default("app_%Y%m%d.dump", "plain") == "app_%Y%m%d.dump"
    # An empty pattern is a pattern, and a bad one (it is not the default).
    assert pattern_or_default("", "plain") == ""


def test_read_backup_files_reports_every_problem():
    problems = []
    pattern = read_backup_files({"pattern": None, "timezone": "UTC"}, "custom", problems)
    assert pattern.pattern == "backup_%Y%m%d_%H%M%S.dump" and problems == []
    assert read_backup_files({"pattern": "x.sql", "timezone": "Mars/Olympus"}, "plain", problems) is None
    assert "has no time fields" in problems[0] and "unknown time zone 'Mars/Olympus'" in problems[1]


def test_list_backups_sorted_by_name_time_not_mtime(tmp_path):
    for name, mtime in (
        ("backup_20261127_020000.sql.gz", 1000),
        ("backup_20261125_020000.sql.gz", 3000),
        ("backup_20261126_020000.sql.gz", 2000),
    ):
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


def test_backup_files_describe_explicit_files_as_the_listing_does(tmp_path):
    put(tmp_path, b"x", "backup_20261127_020000.sql.gz")
    os.mkfifo(str(tmp_path / "backup_20261128_020000.sql.gz"))
    put(tmp_path, b"xy", "ledger.sql")
    paths = [
        str(tmp_path / name)
        for name in ("ledger.sql", "backup_20261128_020000.sql.gz", "backup_20261127_020000.sql.gz")
    ]
    found = backup_files(paths + [str(tmp_path / "missing" / "backup_20260101_000000.sql.gz")], None, "Asia/Tokyo")
    # In the given order, each as list_backups lists it.
    assert [b["path"] for b in found[:3]] == paths
    assert found[0]["time"] is None and found[0]["size"] == 2 and "error" not in found[0]
    assert found[1]["error"] == "not a regular file (FIFO)" and found[1]["mtime"] is not None
    assert found[2] == list_backups(str(tmp_path), None, "Asia/Tokyo")[0]
    assert found[2]["time"].utcoffset() == datetime.timedelta(hours=9)
    assert found[3]["error"].startswith("cannot stat") and found[3]["mtime"] is None
    assert found[3]["time"] == datetime.datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))


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
    result = verify_stream(put(tmp_path, gzip.compress(DUMP[: len(DUMP) // 2])))
    assert failed(result) == ["marker"]
    assert status(result, "gzip") == "ok"


def test_comment_lines_after_the_marker_are_still_the_end(tmp_path):
    # No window: however many -- lines follow, nothing that restores follows the marker.
    data = gzip.compress(DUMP + b"-- filler\n" * 20000)
    assert verify_stream(put(tmp_path, data))["ok"]


def detail(result, name):
    return next(c["detail"] for c in result["checks"] if c["name"] == name)


def test_crc_error(tmp_path):
    data = bytearray(gzip.compress(DUMP))
    data[-8] ^= 0x01  # the CRC32 of the trailer
    result = verify_stream(put(tmp_path, bytes(data)))
    assert failed(result) == ["gzip"]
    # Every byte was inflated: the count includes the output of the last call, and both
    # backends say CRC (ISA-L used to word some length errors as checksum errors).
    text = detail(result, "gzip")
    assert "gzip member 1 (starting at compressed byte 0): CRC32 mismatch" in text
    assert "length" not in text
    assert "inflated completely to %d bytes" % len(DUMP) in text
    assert "trailer at compressed byte %d" % (len(data) - 8) in text
    assert status(result, "marker") == "skipped"


def test_length_error_is_not_called_a_checksum_error(tmp_path):
    data = bytearray(gzip.compress(DUMP))
    data[-1] ^= 0x01  # ISIZE
    result = verify_stream(put(tmp_path, bytes(data)))
    assert failed(result) == ["gzip"]
    text = detail(result, "gzip")
    assert "length mismatch: the trailer says %d bytes" % (len(DUMP) ^ (1 << 24)) in text
    assert "the member inflated to %d bytes" % len(DUMP) in text
    assert "CRC" not in text and "checksum" not in text


def test_error_in_the_second_member_says_where(tmp_path):
    parts = [DUMP[:200000], DUMP[200000:400000], DUMP[400000:]]
    members = [gzip.compress(part) for part in parts]
    data = bytearray(b"".join(members))
    flipped = len(members[0]) + len(members[1]) // 2
    data[flipped] ^= 0xFF
    result = verify_stream(put(tmp_path, bytes(data)), read_size=8192)
    text = detail(result, "gzip")
    assert text.startswith("gzip member 2 (starting at compressed byte %d): " % len(members[0])), text
    if "corrupt deflate data" in text:
        position = int(text.split(" at compressed byte ")[1].split(";")[0])
        assert flipped <= position < len(members[0]) + len(members[1])
        before = int(text.split("; ")[1].split(" bytes of this member")[0])
        assert 0 < before < len(parts[1])
        assert "(%d uncompressed bytes in all)" % (len(parts[0]) + before) in text
    else:
        assert "CRC32 mismatch" in text


@pytest.mark.parametrize(
    "cut, words",
    [
        (
            4,
            "inside the 8-byte CRC and length trailer of gzip member 1 (starting at compressed byte 0) (4 of its bytes are there)",
        ),
        (
            8,
            "inside the 8-byte CRC and length trailer of gzip member 1 (starting at compressed byte 0) (0 of its bytes are there)",
        ),
        (100, "inside the deflate data of gzip member 1"),
    ],
)
def test_truncation_says_where(tmp_path, cut, words):
    data = gzip.compress(DUMP)
    text = detail(verify_stream(put(tmp_path, data[:-cut])), "gzip")
    assert text.startswith("truncated: ") and words in text, text
    if cut <= 8:
        assert "inflated completely to %d bytes" % len(DUMP) in text


def test_cut_inside_the_second_header(tmp_path):
    data = gzip.compress(DUMP[:1000]) + gzip.compress(DUMP[1000:])[:5]
    text = detail(verify_stream(put(tmp_path, data)), "gzip")
    assert text == "truncated: the file ends inside the header of gzip member 2 (starting at compressed byte %d)" % (
        len(data) - 5
    )


def test_header_fields_are_read(tmp_path):
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = body.compress(DUMP) + body.flush()
    trailer = struct.pack("<II", zlib.crc32(DUMP), len(DUMP))
    extra = b"AB\x02\x00xy"
    header = (
        b"\x1f\x8b\x08" + bytes([0x04 | 0x08 | 0x10 | 0x02]) + b"\0\0\0\0\0\x03" + struct.pack("<H", len(extra)) + extra
    )
    header += b"backup.sql\0a comment\0"
    good = header + struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    result = verify_stream(put(tmp_path, good + deflated + trailer), read_size=7)
    assert result["ok"], result["checks"]
    bad = header + struct.pack("<H", (zlib.crc32(header) + 1) & 0xFFFF)
    assert "has a bad header: header CRC16 mismatch" in detail(
        verify_stream(put(tmp_path, bad + deflated + trailer)), "gzip"
    )
    method = b"\x1f\x8b\x07\x00" + b"\0" * 6
    assert detail(verify_stream(put(tmp_path, method + deflated + trailer)), "gzip") == (
        "gzip member 1 (starting at compressed byte 0) has a bad header: compression method 7 is not deflate (8)"
    )


def test_trailing_bytes(tmp_path):
    data = gzip.compress(DUMP)
    assert status(verify_stream(put(tmp_path, data + b"\0" * 10)), "gzip") == "warning"
    result = verify_stream(put(tmp_path, data + b"garbage"))
    assert failed(result) == ["gzip"]
    assert "then 7 bytes of trailing garbage from compressed byte %d (not a gzip member)" % len(data) in detail(
        result, "gzip"
    )


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
    result = verify_header(put(tmp_path, data[: len(data) // 2]))
    assert result["ok"] and status(result, "header") == "ok"
    assert verify_header(put(tmp_path, data))["isize"] == len(DUMP)
    assert not verify_header(put(tmp_path, b""))["ok"]
    assert verify_header(put(tmp_path, b"PGDMP\x01\x0e\x00rest"))["format"] == "custom"


# --- where the dump ends (the completion marker) -----------------------------------------------

MARKER = b"-- PostgreSQL database dump complete"
COPY_START = b"COPY public.note (id, body) FROM stdin;\n"
ENDING = b"--\n" + MARKER + b"\n--\n\n\\unrestrict abc\n\n"
# Text columns holding the marker, as pg_dump writes such rows in a COPY block: a whole row
# (a one-column table), one column of a row, and a block of -- lines (newlines escaped).
DATA_ROWS = [MARKER + b"\n", b"7\t" + MARKER + b"\n", b"8\t--\\n" + MARKER + b"\\n--\n", b"--\n" + MARKER + b"\n--\n"]


def scan(data, step=None):
    scanner = DumpEndScanner()
    step = step or len(data) or 1
    for start in range(0, len(data), step):
        scanner.feed(data[start : start + step])
    return scanner.finish()


def dump_with(rows, after=b"\\.\n\n"):
    head = DUMP[: DUMP.index(b"\nINSERT") + 1]
    return head + COPY_START + b"".join(rows) + after + ENDING


@pytest.mark.parametrize("step", [None, 1, 2, 37, 255, 256, 257, 4096])
def test_scanner_finds_the_end_whatever_the_chunks(step):
    complete, why = scan(dump_with(DATA_ROWS), step)
    assert complete, why
    assert "after 1 COPY block" in why


@pytest.mark.parametrize("row", range(len(DATA_ROWS)))
@pytest.mark.parametrize("step", [None, 3, 256])
def test_marker_text_in_copy_data_is_not_the_end(row, step):
    # A dump cut right after the row that holds the marker text: the COPY block is not closed.
    data = dump_with(DATA_ROWS)
    cut = data[: data.index(DATA_ROWS[row], data.index(COPY_START)) + len(DATA_ROWS[row])]
    complete, why = scan(cut, step)
    assert not complete
    assert why.startswith("the script ends inside the COPY data of public.note (its COPY statement is on line "), why


@pytest.mark.parametrize("row", range(len(DATA_ROWS)))
def test_cut_copy_block_with_marker_fails_verify_stream(tmp_path, row):
    data = dump_with(DATA_ROWS)
    cut = data[: data.index(DATA_ROWS[row], data.index(COPY_START)) + len(DATA_ROWS[row])]
    for content, name in ((gzip.compress(cut), "backup_20261127_020000.sql.gz"), (cut, "backup_20261127_020000.sql")):
        result = verify_stream(put(tmp_path, content, name=name), read_size=4096)
        assert failed(result) == ["marker"] and result["marker_found"] is False
        assert "inside the COPY data of public.note" in detail(result, "marker")


def test_marker_split_across_gzip_members_and_reads(tmp_path):
    data = dump_with(DATA_ROWS)
    split = data.rindex(MARKER) + 10
    content = gzip.compress(data[:split]) + gzip.compress(data[split:])
    result = verify_stream(put(tmp_path, content), read_size=5)
    assert result["ok"] and result["gzip_members"] == 2 and result["marker_found"], result["checks"]


@pytest.mark.parametrize(
    "after, words",
    [
        (b"SELECT 1;\n", "is followed by SQL on line"),
        (b"\\connect other\n", "is followed by a psql command on line"),
        (b"/* more */\n", "is followed by a /* */ comment on line"),
        (dump_with([b"1\tx\n"]), "is followed by SQL on line"),  # two dumps concatenated, the second cut below
    ],
)
def test_marker_followed_by_more_script_is_not_the_end(after, words):
    data = dump_with(DATA_ROWS) + after
    if after.startswith(DUMP[:10]):
        data = data[: data.rindex(b"\\.\n")]
        words = "inside the COPY data"
    complete, why = scan(data)
    assert not complete and words in why, why


def test_a_whole_second_dump_after_the_first_is_complete():
    # pg_dumpall and `cat a.sql b.sql` write several dumps; the last marker ends the script.
    complete, why = scan(dump_with(DATA_ROWS) + b"\\connect other\n" + dump_with([b"1\tx\n"]))
    assert complete, why


@pytest.mark.parametrize(
    "ending",
    [
        ENDING.replace(b"\n", b"\r\n"),  # CRLF line ends (a copy through a Windows tool)
        b"--\n" + MARKER + b"\n",  # no \unrestrict (before 15.14), no last newline
        b"--\n" + MARKER,  # the last line without its newline
        b"--\n" + MARKER + b"\n--\n-- PostgreSQL database cluster dump complete\n--\n\n",
    ],
)
def test_endings_pg_dump_writes(ending):
    data = dump_with(DATA_ROWS)[: -len(ENDING)] + ending
    assert scan(data)[0] and scan(data, 3)[0]


@pytest.mark.parametrize("line", [b" " + MARKER, MARKER + b" and more", MARKER + b"!", b"--" + MARKER])
def test_marker_must_be_a_line_of_its_own(line):
    data = dump_with(DATA_ROWS)[: -len(ENDING)] + b"--\n" + line + b"\n--\n"
    complete, why = scan(data)
    assert not complete and why.startswith("no completion marker line"), why


def test_unclosed_copy_at_the_end_of_the_file():
    complete, why = scan(dump_with([b"1\tx\n"], after=b""))
    # The marker lines after the rows are rows too: the block never ended.
    assert not complete and "inside the COPY data of public.note" in why
    assert "is data inside a COPY block, string or comment" in why


@pytest.mark.parametrize(
    "statement, opened",
    [
        # --inserts: a string literal whose lines include the marker
        (b"INSERT INTO public.note VALUES (1, 'a\n--\n" + MARKER + b"\n--\n');\n", "a quoted string"),
        (b"INSERT INTO public.note VALUES (1, E'it\\'s\n" + MARKER + b"\n');\n", "a quoted string"),
        (b"INSERT INTO public.note VALUES (1, 'it''s\n" + MARKER + b"\n');\n", "a quoted string"),
        # a function body with the marker as a line
        (
            b"CREATE FUNCTION public.f() RETURNS text\n    LANGUAGE sql\n    AS $_$SELECT '\n" + MARKER + b"\n'$_$;\n",
            "a dollar-quoted string",
        ),
        (b'CREATE TABLE public."odd\n' + MARKER + b'\n" (id int);\n', "a quoted identifier"),
    ],
)
def test_marker_text_in_strings_is_not_the_end(statement, opened):
    head = DUMP[: DUMP.index(b"\nINSERT") + 1]
    whole = head + statement + ENDING
    assert scan(whole)[0], scan(whole)
    cut = head + statement[: statement.index(MARKER) + len(MARKER) + 1]
    for step in (None, 1, 100):
        complete, why = scan(cut, step)
        assert not complete and why.startswith("the script ends inside %s begun on line" % opened), why


def test_standard_conforming_strings_off():
    # With it off (pg_dump writes the SET), a backslash escapes the quote inside '...'.
    head = b"--\n-- PostgreSQL database dump\n--\n\nSET standard_conforming_strings = off;\n"
    statement = b"INSERT INTO t VALUES ('a\\';\n" + MARKER + b"\n');\n"
    assert scan(head + statement + ENDING)[0]
    complete, why = scan(head + statement[: statement.index(MARKER) + len(MARKER) + 1])
    assert not complete and "inside a quoted string" in why


def test_copy_word_cut_by_a_chunk_boundary():
    data = dump_with(DATA_ROWS)
    start = data.index(COPY_START)
    for shift in range(1, 5):
        scanner = DumpEndScanner()
        # A chunk ends inside the word COPY, with more than the look-ahead before it.
        scanner.feed(b"\n" * 300 + data[: start + shift])
        scanner.feed(data[start + shift : data.index(DATA_ROWS[0], start) + len(DATA_ROWS[0])])
        complete, why = scanner.finish()
        assert not complete and "inside the COPY data" in why, (shift, why)


def test_custom_checks_with_the_longest_timeout(tmp_path):
    # communicate() alone overflows beyond about 24 days; a century is a legal timeout.
    program = tmp_path / "pg_restore"
    program.write_text("#!/bin/sh\n[ \"$1\" = --list ] && echo '1; 2 0 TABLE DATA public t postgres'\nexit 0\n")
    program.chmod(0o755)
    checks, entries = _backup_files.check_custom(
        put(tmp_path, b"PGDMP..."), pg_restore=str(program), timeout=100 * 365.25 * 86400
    )
    assert [c["status"] for c in checks] == ["ok", "ok"] and entries == 1


@pytest.mark.parametrize("step", [None, 1, 50, 300])
def test_long_copy_statements(step):
    # pg_dump writes the column list on the COPY line: often far more than 64 bytes.
    columns = ", ".join("column_number_%d" % n for n in range(40)).encode()
    start = b"COPY public.a_table_with_a_long_name (" + columns + b") FROM stdin;\n"
    # More rows than the scanner's look-ahead, so that one read holds the whole statement.
    rows = [b"%d\tfiller\n" % n for n in range(100)] + DATA_ROWS
    data = dump_with(rows).replace(COPY_START, start)
    assert scan(data, step)[0]
    complete, why = scan(data[: data.index(DATA_ROWS[1]) + len(DATA_ROWS[1])] + b"1\tfiller\n" * 100, step)
    assert not complete and why.startswith(
        "the script ends inside the COPY data of public.a_table_with_a_long_name (its"
    ), why


@pytest.mark.parametrize("cut", [1000, 1997, 3991, 10970])
def test_a_cut_inside_the_deflate_data_reads_the_same_with_zlib_and_isal(tmp_path, monkeypatch, cut):
    # From a stream cut inside a deflate block the two inflaters emit a few bytes more or less
    # (these cuts of these rows gave 2 bytes apart): the message may not depend on that.
    pytest.importorskip("isal")
    import random
    import zlib

    from isal import isal_zlib

    from ansible_collections.stronghold.ops.plugins.module_utils import _backup_files

    rng = random.Random(1)
    rows = [
        "%d\t%s\t%d.%02d\t2026-%02d-%02d\n"
        % (
            number,
            rng.choice(["deposit", "withdrawal", "fee", "transfer"]),
            rng.randint(0, 99999),
            rng.randint(0, 99),
            rng.randint(1, 12),
            rng.randint(1, 28),
        )
        for number in range(40000)
    ]
    data = gzip.compress("".join(rows).encode(), 6)
    path = put(tmp_path, data[:-cut])
    texts = []
    for lib in (isal_zlib, zlib):
        monkeypatch.setattr(_backup_files, "inflate_lib", lib)
        texts.append(detail(verify_stream(path), "gzip"))
    assert texts[0] == texts[1], texts
    assert texts[0].startswith(
        "truncated: the file ends at compressed byte %d inside the deflate data" % (len(data) - cut)
    )


# --- map_ordered: the files read by several threads ---------------------------------------------


@pytest.mark.parametrize("workers", [1, 2, 5, 20])
def test_map_ordered_keeps_the_order_and_reports_each_error(workers):
    import threading
    import time

    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_ordered

    names = set()

    def work(item):
        names.add(threading.current_thread().name)
        time.sleep(0.01 * (7 - item))  # the first items finish last
        if item == 3:
            raise ValueError("item 3")
        return item * 10

    results = map_ordered(work, list(range(7)), workers)
    assert [r for r, dummy in results] == [0, 10, 20, None, 40, 50, 60]
    assert [e for dummy, e in results] == [None] * 3 + ["ValueError: item 3"] + [None] * 3
    assert len(names) == min(workers, 7)
    assert not [t for t in threading.enumerate() if t.name.startswith("backup-reader-")]


def test_map_ordered_runs_the_items_at_the_same_time():
    import threading

    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_ordered

    barrier = threading.Barrier(3, timeout=10)
    # Each item waits for the two others: only three threads at once get past the barrier.
    assert [r for r, dummy in map_ordered(lambda item: barrier.wait() >= 0, [1, 2, 3], 3)] == [True] * 3


def test_map_ordered_of_nothing():
    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_ordered

    assert map_ordered(str, [], 4) == []


def test_a_failing_read_stops_the_hashing_thread(tmp_path, monkeypatch):
    import threading

    path = tmp_path / "backup_20260101_020000.sql.gz"
    path.write_bytes(gzip.compress(b"-- PostgreSQL database dump\n" * 100000))

    def broken(self, data):
        raise RuntimeError("inflater broke")

    monkeypatch.setattr(_backup_files._GzipStream, "feed", broken)
    before = sum(1 for t in threading.enumerate() if t.name == "sha256")
    with pytest.raises(RuntimeError):
        _backup_files.verify_stream(str(path), read_size=4096)
    for thread in threading.enumerate():
        if thread.name == "sha256":
            thread.join(5)
    assert sum(1 for t in threading.enumerate() if t.name == "sha256") == before


# --- map_in_processes: the files read by forked workers -----------------------------------------


def no_children_left():
    try:
        return os.waitpid(-1, os.WNOHANG) is None
    except ChildProcessError:
        return True


def slow_square(item):
    import time

    time.sleep(0.02 * (5 - item % 5))
    if item == 3:
        raise ValueError("item 3")
    return {"item": item, "square": item * item, "pid": os.getpid()}


@pytest.mark.parametrize("workers", [1, 2, 3, 12])
def test_map_in_processes_keeps_the_order_and_reports_each_error(workers):
    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_in_processes

    results = map_in_processes(slow_square, list(range(9)), workers)
    assert [r and r["square"] for r, dummy in results] == [0, 1, 4, None, 16, 25, 36, 49, 64]
    assert [e for dummy, e in results] == [None] * 3 + ["ValueError: item 3"] + [None] * 5
    pids = {r["pid"] for r, dummy in results if r}
    if workers == 1:
        assert pids == {os.getpid()}
    else:
        # The worker that raised on item 3 may have read nothing else.
        assert os.getpid() not in pids and min(workers, 9) - 1 <= len(pids) <= min(workers, 9)
    assert no_children_left()


def test_a_worker_that_dies_fails_its_item_only():
    import signal

    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_in_processes

    def work(item):
        if item == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    results = map_in_processes(work, list(range(6)), 2)
    assert [r for r, dummy in results] == [0, 1, None, 3, 4, 5]
    assert results[2][1] == "the worker process ended before it was done"
    assert no_children_left()


def test_when_every_worker_dies_the_rest_is_read_here():
    import signal

    from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_in_processes

    parent = os.getpid()

    def work(item):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    results = map_in_processes(work, list(range(5)), 2)
    assert [r for r, dummy in results] == [None, None, 2, 3, 4]
    assert no_children_left()


def test_the_workers_die_with_a_killed_parent(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "sys.path[:0] = %r\n"
        "from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import map_in_processes\n"
        "def work(item):\n"
        "    open(os.path.join(%r, 'worker-%%d' %% os.getpid()), 'w').close()\n"
        "    time.sleep(60)\n"
        "map_in_processes(work, [1, 2, 3], 2)\n"
    ) % (sys.path, str(tmp_path))
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("worker-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
    assert len(pids) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while any(os.path.exists("/proc/%d" % pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if os.path.exists("/proc/%d" % pid)]
