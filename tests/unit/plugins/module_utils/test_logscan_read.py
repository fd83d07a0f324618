# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bisection over an in-memory file, rotated siblings, duplicates and the read of real small files."""

from __future__ import annotations

import calendar
import gzip
import io
import os
from datetime import timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _logscan_read as read
from ansible_collections.stronghold.ops.plugins.module_utils._logscan import check_options, choose_window
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_read import (
    CountingFile,
    find_start,
    first_time_after,
    scan,
    siblings,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import TimeFormat

UTC = timezone.utc
T0 = calendar.timegm((2026, 12, 5, 0, 0, 0))
FMT = TimeFormat("python", UTC)


def line_at(seconds, text="INFO tick"):
    return "%s,000 %s\n" % (_stamp(seconds), text)


def _stamp(seconds):
    return "2026-12-05 %02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def make_log(count=3000, traceback_every=7):
    """(bytes, {seconds: offset of its line}) one record a second, tracebacks under some."""
    out = io.BytesIO()
    offsets = {}
    for second in range(count):
        offsets[second] = out.tell()
        if second % traceback_every == 0:
            out.write(line_at(second, "ERROR boom").encode())
            out.write(b'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: x\n')
        else:
            out.write(line_at(second).encode())
    return out.getvalue(), offsets


@pytest.mark.parametrize("probe", [64, 512, 4096])
@pytest.mark.parametrize("second", [0, 1, 2, 7, 500, 1499, 2998, 2999, 5000])
def test_find_start_lands_at_or_just_before_the_window(monkeypatch, probe, second):
    monkeypatch.setattr(read, "PROBE", probe)
    data, offsets = make_log()
    handle = CountingFile(io.BytesIO(data))
    start = T0 + second - 0.5  # the first record of the window is the one at `second`
    offset = find_start(handle, len(data), FMT, start)
    first_in_window = offsets.get(second, len(data))
    assert offset <= first_in_window
    # Bisection: close to it, and far less read than the file.
    assert first_in_window - offset <= 2 * probe + 200
    assert offset == 0 or data[offset - 1 : offset] == b"\n"
    if second > 100:
        assert handle.bytes_read < len(data) / 4


def test_first_time_after_steps_over_continuation_lines():
    data, offsets = make_log()
    handle = io.BytesIO(data)
    # Land inside the traceback of the record at 7 s: the next record is at 8 s.
    inside = offsets[7] + len(line_at(7, "ERROR boom")) + 5
    found = first_time_after(handle, inside, len(data), FMT)
    assert found == (offsets[8], T0 + 8)
    # Exactly on a line start: that line counts.
    assert first_time_after(handle, offsets[9], len(data), FMT) == (offsets[9], T0 + 9)
    assert first_time_after(handle, 0, len(data), FMT) == (0, T0)
    # Nothing before the limit.
    assert first_time_after(handle, offsets[9] + 1, offsets[10], FMT) is None


def test_find_start_without_any_timestamp_reads_from_zero():
    data = b"  continuation\n" * 20000
    assert find_start(CountingFile(io.BytesIO(data)), len(data), FMT, T0) == 0


def test_find_start_tolerates_jitter(monkeypatch):
    monkeypatch.setattr(read, "PROBE", 256)
    lines = []
    for second in range(2000):
        jitter = 0.4 if second % 2 else 0.0  # two workers, slightly out of order
        lines.append("%s,%03d INFO x\n" % (_stamp(second), int((1 - jitter) * 999) % 1000))
    data = "".join(lines).encode()
    offset = find_start(CountingFile(io.BytesIO(data)), len(data), FMT, T0 + 1000)
    assert data[offset:].startswith(_stamp(999).encode()) or data.index(_stamp(1000).encode()) - offset < 600


@pytest.mark.parametrize(
    "name, rotated",
    [
        ("app.log.1", True),
        ("app.log.2.gz", True),
        ("app.log-20261204", True),
        ("app.log-20261204.gz", True),
        ("app.log.2026-12-04", True),
        ("app.log.2026-12-04_09-00-00", True),
        ("app.log.2026-12-04_09", True),
        ("app.log", False),
        ("app.log.bak", False),
        ("app.log.1.swp", False),
        ("app.logger", False),
        ("other.log.1", False),
    ],
)
def test_siblings_by_name(tmp_path, name, rotated):
    (tmp_path / "app.log").write_text("")
    (tmp_path / name).write_text("")
    found = [os.path.basename(p) for p in siblings(str(tmp_path / "app.log"))]
    assert (name in found) is rotated
    assert "app.log" not in found


def _settings(paths=None, **extra):
    params = {
        "paths": paths or [],
        "rotated": True,
        "since": "1h",
        "until": "2026-12-05T02:00:00Z",
        "timestamp_format": "auto",
        "timezone": "UTC",
        "patterns": [{"name": "errors", "regex": "ERROR", "last": 2}],
        "missing_severity": "warning",
        "fail_on": "never",
    }
    params.update(extra)
    settings = check_options(params)
    return settings, choose_window(settings, None)


def _write(path, first, last, mtime, compressed=False, text="ERROR boom"):
    data = "".join(line_at(s, text) for s in range(first, last)).encode()
    if compressed:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        with open(path, "wb") as handle:
            handle.write(data)
    os.utime(path, (T0 + mtime, T0 + mtime))


def test_scan_reads_rotated_plain_and_gzip_and_skips_old_files(tmp_path):
    live = str(tmp_path / "app.log")
    _write(live + ".3.gz", 0, 1800, 1800, compressed=True)  # before the window (01:00 to 02:00)
    _write(live + ".2.gz", 1800, 4000, 4000, compressed=True)  # crosses the window start
    _write(live + ".1", 4000, 6000, 6000)
    _write(live, 6000, 9000, 9000)  # goes past the window end (7200)
    settings, window = _settings([live])
    observed = scan(settings, window)
    by_name = {os.path.basename(f.path): f.report() for f in observed["files"]}
    assert by_name["app.log.3.gz"]["skipped_reason"] == "modified before the window"
    assert by_name["app.log.3.gz"]["bytes_read"] == 0
    assert by_name["app.log.2.gz"]["compressed"] is True
    # (3600, 7200]: 399 records from .2.gz (3601..3999), 2000 from .1, 1201 from the live file (6000..7200).
    assert observed["matchers"][0].count == 399 + 2000 + 1201
    assert [os.path.basename(f.path) for f in observed["files"]] == [
        "app.log.3.gz",
        "app.log.2.gz",
        "app.log.1",
        "app.log",
    ]


def test_scan_counts_a_copytruncate_copy_once(tmp_path):
    live = str(tmp_path / "app.log")
    _write(live, 3700, 4000, 4000)
    _write(live + ".1", 3700, 3900, 3900)  # the copy, caught before the truncate
    settings, window = _settings([live])
    observed = scan(settings, window)
    assert observed["matchers"][0].count == 300
    reasons = {os.path.basename(f.path): f.skipped for f in observed["files"]}
    assert reasons["app.log.1"].startswith("same content as")


def test_scan_counts_a_path_given_twice_once(tmp_path):
    live = str(tmp_path / "app.log")
    _write(live, 3700, 4000, 4000)
    os.link(live, str(tmp_path / "hard.log"))
    settings, window = _settings([live, str(tmp_path / "hard.log")])
    observed = scan(settings, window)
    assert observed["matchers"][0].count == 300


def test_scan_stops_a_file_truncated_while_read(tmp_path, monkeypatch):
    live = str(tmp_path / "app.log")
    _write(live, 3601, 7200, 7200)
    monkeypatch.setattr(read, "BLOCK", 4096)
    real_split = read.split_lines
    calls = []

    def truncate_after_first_block(block):
        calls.append(1)
        if len(calls) == 2:
            os.truncate(live, 0)
        return real_split(block)

    monkeypatch.setattr(read, "split_lines", truncate_after_first_block)
    settings, window = _settings([live])
    observed = scan(settings, window)
    item = observed["files"][0]
    assert item.skipped == "truncated during the scan"
    assert 0 < observed["matchers"][0].count < 3599


def test_missing_and_undated_files(tmp_path):
    (tmp_path / "plain.log").write_text("no timestamps here\n" * 10)
    os.utime(str(tmp_path / "plain.log"), (T0 + 7000, T0 + 7000))
    settings, window = _settings([str(tmp_path / "missing.log"), str(tmp_path / "plain.log")])
    observed = scan(settings, window)
    reasons = [f.skipped for f in observed["files"]]
    assert reasons[0] == "missing"
    assert reasons[1].startswith("no timestamp recognised")


def test_gzip_is_left_at_the_first_record_past_the_window(tmp_path, monkeypatch):
    """A gzip archive is decompressed from its start only up to the window's end."""
    monkeypatch.setattr(read, "BLOCK", 64 * 1024)  # a small archive: blocks in proportion
    path = str(tmp_path / "app.log.2.gz")
    with gzip.open(path, "wb", compresslevel=1) as handle:
        for second in range(0, 3600):
            lines = ("%s,%03d ERROR n=%d\n" % (_stamp(second), part, second * 20 + part) for part in range(20))
            handle.write("".join(lines).encode())
    os.utime(path, (T0 + 3600, T0 + 3600))
    settings, dummy = _settings([str(tmp_path / "app.log")], since="2m", until="2026-12-05T00:05:00Z")
    window = choose_window(settings, None)
    observed = scan(settings, window)
    archive = [f for f in observed["files"] if f.path == path][0].report()
    # (00:03:00, 00:05:00]: 00:03:00,001 to 00:05:00,000, that is 120 seconds of 20 records.
    assert observed["matchers"][0].count == 120 * 20
    assert archive["compressed"] and archive["skipped_reason"] is None
    # The window ends at 8 % of the archive; the timestamp detection (its first 64 KiB,
    # decompressed) and the blocks add a fixed amount.
    assert archive["bytes_read"] < archive["size"] / 3


def test_a_directory_is_unreadable_not_a_crash(tmp_path):
    (tmp_path / "logs").mkdir()
    settings, window = _settings([str(tmp_path / "logs")])
    observed = scan(settings, window)
    assert observed["files"][0].skipped == "unreadable: not a regular file"


def test_a_copy_of_the_same_size_keeps_the_rotated_file(tmp_path):
    """copytruncate between copy and truncate: same content twice; the stable copy is read."""
    live = str(tmp_path / "app.log")
    _write(live + ".1", 3700, 4000, 4000)
    _write(live, 3700, 4000, 4000)
    settings, window = _settings([live])
    observed = scan(settings, window)
    assert observed["matchers"][0].count == 300
    reasons = {os.path.basename(f.path): f.skipped for f in observed["files"]}
    assert reasons["app.log.1"] is None
    assert reasons["app.log"].startswith("same content as")


def _reference(records, start, end, regex, lines_mode):
    """The plain definition: records (a timestamped line and its continuation) in (start, end]."""
    import re as _re

    pattern = _re.compile(regex)
    count = 0
    for stamp_time, lines in records:
        if stamp_time is None or not start < stamp_time <= end:
            continue
        hits = sum(1 for line in lines if pattern.search(line))
        count += hits if lines_mode else (1 if hits else 0)
    return count


@pytest.mark.parametrize("seed", range(12))
def test_scan_agrees_with_the_plain_definition(tmp_path, monkeypatch, seed):
    """Random logs, tiny blocks and probes: scan counts exactly what the definition counts."""
    import random

    rng = random.Random(seed)
    monkeypatch.setattr(read, "BLOCK", rng.choice([97, 256, 1024, 4096]))
    monkeypatch.setattr(read, "PROBE", rng.choice([32, 64, 200]))
    records = []
    if rng.random() < 0.5:
        records.append((None, ["  orphan ERROR continuation"]))
    second = 0
    for dummy in range(rng.randint(50, 400)):
        second += rng.choice([0, 0, 1, 2, 5, 30])
        level = rng.choice(["INFO", "INFO", "WARNING", "ERROR"])
        lines = ["%s,%03d %s core msg ERROR=%d" % (_stamp(second), rng.randint(0, 999), level, rng.randint(0, 3))]
        for dummy2 in range(rng.choice([0, 0, 0, 1, 3, 8])):
            lines.append(rng.choice(["Traceback (most recent call last):", "  File x ERROR", "ValueError: y", ""]))
        records.append((T0 + second + int(lines[0][20:23]) / 1000.0, lines))
    live = tmp_path / "app.log"
    live.write_text("".join("\n".join(lines) + "\n" for dummy, lines in records))
    os.utime(str(live), (T0 + 10**6, T0 + 10**6))
    first, last = T0, T0 + second + 1
    start = rng.uniform(first - 5, last)
    end = rng.uniform(start, last + 5)
    regexes = [("records", "ERROR"), ("lines", "ERROR"), ("records", "^Traceback"), ("lines", r"^\s*$|^  File")]
    params = {
        "since": max(end - start, 0.001),
        "until": _iso(end),
        "patterns": [
            {"name": "p%d" % index, "regex": regex, "mode": mode, "last": 3}
            for index, (mode, regex) in enumerate(regexes)
        ],
    }
    settings, dummy = _settings([str(live)], **params)
    window = choose_window(settings, None)
    observed = scan(settings, window)
    for index, (mode, regex) in enumerate(regexes):
        expected = _reference(records, window["start"], window["end"], regex, mode == "lines")
        assert observed["matchers"][index].count == expected, (mode, regex, window)


def _iso(epoch):
    from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import iso

    return iso(epoch)
