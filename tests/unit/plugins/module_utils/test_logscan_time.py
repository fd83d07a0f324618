# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamps of log records: the built-in formats, strptime formats, time zones, odd input."""

from __future__ import annotations

import calendar
from datetime import timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import (
    TimeFormat,
    TimeFormatError,
    detect,
    iso,
    parse_instant,
    strptime_regex,
    time_format,
    zone,
)

UTC = timezone.utc
BASE = calendar.timegm((2026, 12, 5, 9, 21, 10))


@pytest.mark.parametrize(
    "line, expected",
    [
        ("2026-12-05 09:21:10,177 INFO core [pid 1] x", BASE + 0.177),  # Django/Python logging default
        ("2026-12-05T09:21:10.177Z x", BASE + 0.177),
        ("2026-12-05T09:21:10+01:00 x", BASE - 3600),
        ("2026-12-05 09:21:10 -0230 x", BASE + 2.5 * 3600),
        ("2026-12-05T09:21:10.123456789Z", BASE + 0.123456789),
        ("2026-12-05 09:21:10 message", BASE),
    ],
)
def test_iso_and_python_lines(line, expected):
    assert TimeFormat("python", UTC).line_time(line) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "line",
    [
        '  File "/app/x.py", line 3, in f',  # a traceback line is a continuation
        "Traceback (most recent call last):",
        "2026-12-05 09:21 short",
        "2026-13-05 09:21:10,177 month 13",  # matches the shape, not a date: no record start
        "x2026-12-05 09:21:10 not at the start",
        "2026-12-05 09:21:10:99 odd",
    ],
)
def test_continuation_and_bad_lines_have_no_time(line):
    assert TimeFormat("iso8601", UTC).line_time(line) is None


def test_gunicorn_access_line():
    line = '127.0.0.1 - - [05/Dec/2026:09:21:10 +0100] "GET /api/v1/health/ HTTP/1.1" 200 15 "-" "curl/8" 1234'
    assert TimeFormat("gunicorn", UTC).line_time(line) == BASE - 3600
    assert TimeFormat("gunicorn", UTC).line_time("[05/Foo/2026:09:21:10 +0000] x") is None


def test_naive_times_follow_the_zone_across_dst():
    berlin = zone("Europe/Berlin")
    fmt = TimeFormat("python", berlin)
    summer = fmt.line_time("2026-07-01 12:00:00,000 x")
    winter = fmt.line_time("2026-12-01 12:00:00,000 x")
    assert summer == calendar.timegm((2026, 7, 1, 10, 0, 0))
    assert winter == calendar.timegm((2026, 12, 1, 11, 0, 0))
    # The repeated hour of the fall-back reads as its first occurrence (fold=0, CEST).
    assert fmt.line_time("2026-10-25 02:30:00 x") == calendar.timegm((2026, 10, 25, 0, 30, 0))


def test_strptime_format_without_year_takes_the_given_year():
    fmt = time_format("%b %d %H:%M:%S", UTC, 2026)
    assert fmt.line_time("Dec  5 09:21:10 host sshd[1]: x") == BASE
    assert fmt.line_time("  Dec 5 09:21:10") is None


def test_strptime_format_with_offset_and_fraction():
    fmt = time_format("%d.%m.%Y %H:%M:%S.%f %z", UTC, 2026)
    assert fmt.line_time("05.12.2026 09:21:10.5 +0100 x") == pytest.approx(BASE - 3600 + 0.5)


@pytest.mark.parametrize(
    "fmt, message",
    [
        ("", "cannot be empty"),
        ("%Y-%m-%d", "the hour"),
        ("%H:%M", "the day"),
        ("%Y-%m-%d %H:%M:%Q", "%Q is not supported"),
        ("%d %H %", "lone %"),
        (" %d %H", "no leading space"),
        ("x" * 201, "too long"),
    ],
)
def test_bad_strptime_formats_are_refused(fmt, message):
    with pytest.raises(TimeFormatError, match=message):
        time_format(fmt, UTC, 2026)


def test_strptime_regex_is_literal_outside_directives():
    assert strptime_regex("[%d/%b/%Y:%H:%M:%S]").startswith(r"\[")


def test_zone_names():
    assert zone("UTC") is UTC
    with pytest.raises(TimeFormatError, match="unknown time zone"):
        zone("Mars/Olympus")
    with pytest.raises(TimeFormatError, match="cannot be empty"):
        zone(" ")


def test_detect_prefers_the_first_timestamped_line():
    assert detect("Traceback\n2026-12-05 09:21:10,177 INFO x\n", UTC, 2026).name == "iso8601"
    access = '1.2.3.4 - - [05/Dec/2026:09:21:10 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 10\n'
    assert detect(access, UTC, 2026).name == "gunicorn"
    assert detect("no time here\n", UTC, 2026) is None


def test_parse_instant():
    assert parse_instant("2026-12-05T09:21:10Z", UTC) == BASE
    assert parse_instant("2026-12-05 10:21:10", zone("Europe/Berlin")) == BASE
    for bad in ("", "yesterday", "2026-12-05T25:00:00"):
        with pytest.raises(TimeFormatError, match="until"):
            parse_instant(bad, UTC)


def test_iso_output():
    assert iso(BASE + 0.5) == "2026-12-05T09:21:10.500000+00:00"
    assert iso(None) is None
