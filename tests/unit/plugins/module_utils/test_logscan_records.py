# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records, not lines: a scanner fed plain text in blocks of every size counts the same."""

from __future__ import annotations

import calendar
import re
from datetime import timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _logscan_records as records
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_records import (
    GUNICORN_ACCESS,
    AccessScanner,
    Matcher,
    Scanner,
    search_regex,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import TimeFormat

UTC = timezone.utc
T0 = calendar.timegm((2026, 12, 5, 9, 0, 0))
TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/app/core/views.py", line 91, in account_transactions\n'
    "ValueError: ERROR in the message too\n"
)


def stamp(seconds):
    whole = int(seconds)
    return "2026-12-05 09:%02d:%02d,%03d" % (whole // 60, whole % 60, int(round((seconds - whole) * 1000)))


def log_text():
    """Ten minutes: INFO every 10 s, an ERROR with a traceback every minute, failed logins."""
    out = []
    for second in range(0, 600, 10):
        out.append("%s INFO core [pid 1] tick\n" % stamp(second))
        if second % 60 == 30:
            out.append("%s ERROR django.request [pid 18] Internal Server Error: /x/\n%s" % (stamp(second + 1), TRACE))
        if second % 120 == 0:
            user = "ops" if second < 300 else "admin"
            out.append(
                '%s WARNING security [pid 18] security_event=failed_login username="%s" client_ip=127.0.0.1\n'
                % (stamp(second + 2), user)
            )
    return "".join(out)


def matchers():
    return [
        Matcher("errors", r"ERROR", last=3),
        Matcher("error_lines", r"ERROR", mode="lines", last=0),
        Matcher("tracebacks", r"^Traceback", last=1),
        Matcher("logins", r'failed_login username="(?P<user>[^"]*)"', group_by="user", keep_times=True),
    ]


def run(text, start=T0 - 1, end=T0 + 3600, sizes=None):
    found = matchers()
    scanner = Scanner(TimeFormat("python", UTC), start, end, found, "/x.log")
    lines = text.splitlines(keepends=True)
    if sizes is None:
        scanner.feed(text, final=True)
    else:
        index = 0
        step = 0
        while index < len(lines):
            size = sizes[step % len(sizes)]
            step += 1
            scanner.feed("".join(lines[index : index + size]), final=False)
            index += size
        scanner.feed("", final=True)
    return scanner, {m.name: m for m in found}


def test_a_traceback_under_an_error_is_one_record():
    scanner, found = run(log_text())
    # 10 ERROR records; "ERROR" is on the first line and on the traceback's last line.
    assert found["errors"].count == 10
    assert found["error_lines"].count == 20
    assert found["tracebacks"].count == 10
    assert found["logins"].count == 5
    assert found["logins"].group_counts == {"ops": 3, "admin": 2}
    assert scanner.first_time == T0
    assert scanner.last_time == T0 + 590


@pytest.mark.parametrize("sizes", [[1], [2], [3], [7], [1, 5, 2], [13, 1]])
def test_counts_do_not_depend_on_block_boundaries(sizes):
    dummy, whole = run(log_text())
    dummy, cut = run(log_text(), sizes=sizes)
    for name in whole:
        assert cut[name].count == whole[name].count, name
    assert [item[2] for item in cut["errors"].last][-3:] == [item[2] for item in whole["errors"].last][-3:]


def test_tiny_pending_limit_carries_continuation_lines(monkeypatch):
    """A record larger than MAX_PENDING is split; its continuation still counts once."""
    monkeypatch.setattr(records, "MAX_PENDING", 10)
    dummy, whole = run(log_text())
    dummy, cut = run(log_text(), sizes=[2])
    assert cut["errors"].count == whole["errors"].count == 10
    assert cut["tracebacks"].count == 10
    assert cut["error_lines"].count == 20


def test_window_is_start_exclusive_end_inclusive():
    # ERROR records at 31, 91, ... 571 s.
    dummy, found = run(log_text(), start=T0 + 31, end=T0 + 151)
    assert found["errors"].count == 2  # 91 and 151
    dummy, found = run(log_text(), start=T0 + 30.999, end=T0 + 31)
    assert found["errors"].count == 1


def test_scanner_stops_at_the_first_block_past_the_end():
    scanner, found = run(log_text(), start=T0 - 10, end=T0 + 100, sizes=[4])
    assert found["errors"].count == 2
    assert scanner.done


def test_blocks_before_the_window_are_skipped_but_their_records_continue():
    # The window starts inside a block; the traceback lines of the record at 31 s are not counted.
    dummy, found = run(log_text(), start=T0 + 31.5, end=T0 + 600, sizes=[3])
    assert found["errors"].count == 9
    assert found["tracebacks"].count == 9


def test_last_records_hold_the_continuation_lines_and_are_cut():
    dummy, found = run(log_text())
    last = sorted(found["errors"].last)[-1]
    assert last[0] == T0 + 571
    assert last[2].startswith(stamp(571) + " ERROR")
    assert last[2].endswith("ValueError: ERROR in the message too")
    long = "%s ERROR x\n%s" % (stamp(1), "  continuation\n" * 2000)
    scanner = Scanner(TimeFormat("python", UTC), T0 - 1, T0 + 10, [Matcher("e", "ERROR", last=1)], "/x")
    scanner.feed(long, final=True)
    text = scanner.matchers[0].last[0][2]
    assert len(text) == records.MAX_RECORD_TEXT and text.endswith("[...]")


def test_leading_continuation_lines_of_a_file_are_not_a_record():
    text = "  orphan ERROR line\n" + log_text()
    dummy, found = run(text)
    assert found["errors"].count == 10


def test_group_times_are_kept_for_rates():
    dummy, found = run(log_text())
    assert sorted(found["logins"].times) == ["admin", "ops"]
    assert list(found["logins"].times["ops"]) == [T0 + 2, T0 + 122, T0 + 242]


@pytest.mark.parametrize(
    "regex, anchored",
    [
        (r"^Traceback", True),
        (r"^\S+ \S+ ERROR ", True),
        (r"^a|b", False),
        (r"^(a|b)", True),
        (r"^[|]x", True),
        (r"(?i)^traceback", False),
        (r"Traceback", False),
    ],
)
def test_search_regex_rewrites_only_safe_anchors(regex, anchored):
    assert search_regex(regex)[1] is anchored


@pytest.mark.parametrize("regex", [r"^Traceback", r"^\d{4}-\S+ \S+ ERROR", r"^  File", r"^(?P<w>\w+):"])
def test_anchored_rewrite_finds_the_same_lines(regex):
    text = log_text()
    expected = len([line for line in text.splitlines() if re.match(regex, line)])
    matcher = Matcher("m", regex, mode="lines", last=0)
    scanner = Scanner(TimeFormat("python", UTC), T0 - 1, T0 + 3600, [matcher])
    scanner.feed(text, final=True)
    assert matcher.count == expected > 0


def access_line(second, status, micros):
    return (
        '10.0.0.1 - - [05/Dec/2026:09:%02d:%02d +0000] "GET /api/v1/x/?a=%%22b HTTP/1.1" %d 12 "-" "Mozilla/5.0 (X11) \\"q\\"" %d\n'
        % (
            second // 60,
            second % 60,
            status,
            micros,
        )
    )


def test_access_scanner_counts_requests_errors_and_times():
    text = "".join(access_line(s, 503 if s % 50 == 0 else 200, 1000 * (s + 1)) for s in range(100))
    text += "garbage without a time\n"
    text += '10.0.0.1 - - [05/Dec/2026:09:01:00 +0000] "GET / HTTP/1.1" 200 - "-" "-" not-a-number\n'
    scanner = AccessScanner(TimeFormat("gunicorn", UTC), T0 - 1, T0 + 99, re.compile(GUNICORN_ACCESS), 0.001)
    scanner.feed(text, final=True)
    assert scanner.requests == 100
    assert scanner.errors == 2
    assert scanner.unparsed == 1  # the line with a time but no request time; the garbage is a continuation
    # Counted per 10 us: 1 ms is step 100, 100 ms step 10000, each once.
    assert min(scanner.times) == 100 and max(scanner.times) == 10000
    assert sum(scanner.times.values()) == 100


def test_time_going_back_is_noticed_between_blocks():
    """A DST fall-back read in local time repeats an hour: the scanner says where."""
    text = log_text()
    again = text.replace("2026-12-05 09:", "2026-12-05 08:")  # the same ten minutes an hour earlier
    scanner = Scanner(TimeFormat("python", UTC), T0 - 7200, T0 + 3600, matchers())
    scanner.feed(text, final=False)
    scanner.feed(again, final=True)
    assert scanner.backwards == 1
    # Found inside the block that holds the jump: its last record, an hour back.
    assert scanner.backwards_at == T0 - 3600 + 590
    scanner, dummy = run(log_text(), sizes=[5])
    assert scanner.backwards == 0
