# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of log_scan with plain data: options, window, sliding windows, percentiles, findings."""

from __future__ import annotations

import calendar
import math

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._logscan import (
    LogScanError,
    access_result,
    build_result,
    check_options,
    choose_window,
    counted_percentile,
    judge_access,
    judge_pattern,
    pattern_result,
    percentile,
    state_data,
    worst_window,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_records import Matcher

NOW = calendar.timegm((2026, 12, 5, 12, 0, 0))


def params(**extra):
    base = {
        "paths": ["/var/log/app/django.log"],
        "rotated": True,
        "since": "24h",
        "until": None,
        "state_path": None,
        "timestamp_format": "auto",
        "timezone": "UTC",
        "patterns": [{"name": "errors", "regex": "ERROR", "mode": "records", "last": 10}],
        "access_log": None,
        "missing_severity": "warning",
        "fail_on": "never",
    }
    base.update(extra)
    return base


def pattern(**extra):
    base = {"name": "p", "regex": "x", "mode": "records", "last": 10}
    base.update(extra)
    return base


# --- options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"paths": [], "access_log": None}, "nothing to scan"),
        ({"paths": [""]}, "empty path"),
        ({"paths": ["/x"] * 101}, "at most 100 paths"),
        ({"since": "0"}, "since must be a duration greater than 0"),
        ({"since": "-1h"}, "since"),
        ({"since": "nan"}, "since"),
        ({"since": "400d"}, "since"),
        ({"since": "soon"}, "since"),
        ({"timezone": "Nowhere/City"}, "unknown time zone"),
        ({"until": "tomorrow"}, "until"),
        ({"timestamp_format": "%Y"}, "timestamp_format"),
        ({"timestamp_format": ""}, "timestamp_format"),
        ({"patterns": []}, "patterns is empty"),
        ({"patterns": [pattern(name="bad name")]}, r"patterns\[0\].name"),
        ({"patterns": [pattern(name="")]}, r"patterns\[0\].name"),
        ({"patterns": [pattern(), pattern()]}, "used twice"),
        ({"patterns": [pattern(regex="(unclosed")]}, r"patterns\[p\].regex: cannot compile"),
        ({"patterns": [pattern(regex="")]}, r"patterns\[p\].regex cannot be empty"),
        ({"patterns": [pattern(last=-1)]}, r"patterns\[p\].last must be at least 0"),
        ({"patterns": [pattern(last=1001)]}, "at most 1000"),
        ({"patterns": [pattern(warning_count=-1)]}, "warning_count must be at least 0"),
        ({"patterns": [pattern(warning_count=10**10)]}, "warning_count must be at most"),
        ({"patterns": [pattern(warning_count=5, critical_count=1)]}, "above critical_count"),
        ({"patterns": [pattern(group_by="user")]}, "not a named group"),
        ({"patterns": [pattern(rate={"count": 10, "per": "0"})]}, "rate.per must be a duration greater than 0"),
        ({"patterns": [pattern(rate={"count": 10, "per": "2d"})]}, "longer than the window"),
        ({"patterns": [pattern(rate={"count": -3, "per": "1h"})]}, "rate.count must be at least 0"),
        ({"patterns": [pattern(rate={"count": None, "per": "1h"})]}, "rate.count is required"),
        ({"patterns": [pattern(rate={"count": 1, "per": "inf"})]}, "per"),
        ({"access_log": {"path": "/a", "format": "regex"}}, "access_log.regex is required"),
        ({"access_log": {"path": "/a", "format": "regex", "regex": "(?P<code>\\d+)"}}, "named group 'status'"),
        ({"access_log": {"path": "/a", "format": "gunicorn", "regex": "x"}}, "only used with"),
        ({"access_log": {"path": "/a", "error_rate_warning": 101}}, "error_rate_warning must be at most 100"),
        ({"access_log": {"path": "/a", "error_rate_warning": float("nan")}}, "finite"),
        (
            {"access_log": {"path": "/a", "error_rate_warning": 5, "error_rate_critical": 2}},
            "above error_rate_critical",
        ),
        ({"access_log": {"path": "/a", "p95_warning_ms": -1}}, "p95_warning_ms must be at least 0"),
        ({"access_log": {"path": "/a", "p95_warning_ms": 300, "p95_critical_ms": 200}}, "above p95_critical_ms"),
        ({"access_log": {"path": "/a", "min_requests": -1}}, "min_requests"),
        ({"access_log": {"path": "/a", "timestamp_format": "%H"}}, "access_log.timestamp_format"),
    ],
)
def test_bad_options_name_the_option(extra, message):
    with pytest.raises(LogScanError, match=message):
        check_options(params(**extra), now=NOW)


def test_good_options():
    settings = check_options(
        params(
            patterns=[
                pattern(
                    name="failed_logins",
                    regex=r"failed_login username=\"(?P<user>[^\"]*)\"",
                    group_by="user",
                    rate={"count": 10, "per": "1h", "severity": "warning"},
                )
            ],
            access_log={"path": "/a", "error_rate_warning": "5", "p95_warning_ms": 200},
            timestamp_format="%b %d %H:%M:%S",
            until="2026-12-05T00:00:00Z",
        ),
        now=NOW,
    )
    assert settings["since"] == 86400
    assert settings["patterns"][0]["rate"] == {"count": 10, "per": 3600, "severity": "warning"}
    assert settings["access"]["error_rate_warning"] == 5.0
    assert settings["access"]["unit_ms"] == 0.001
    assert settings["until"] == calendar.timegm((2026, 12, 5, 0, 0, 0))
    # Only an access log: no pattern needed.
    assert check_options(params(paths=[], patterns=[], access_log={"path": "/a"}), now=NOW)["paths"] == []


# --- window --------------------------------------------------------------------------------


def test_window_from_since_and_from_state():
    settings = check_options(params(since="24h"), now=NOW)
    assert choose_window(settings, None, now=NOW) == {
        "start": NOW - 86400,
        "end": NOW,
        "from_state": False,
        "state_note": None,
    }
    state = state_data({"end": NOW - 3600}, settings)
    window = choose_window(settings, state, now=NOW)
    assert (window["start"], window["from_state"]) == (NOW - 3600, True)


@pytest.mark.parametrize(
    "state, note",
    [
        ({"window_end": NOW - 3 * 86400}, "more than since"),
        ({"window_end": NOW + 60}, "not before this one's end"),
        ({"window_end": "yesterday"}, "no usable window end"),
        ({"window_end": float("nan")}, "no usable window end"),
        ({"window_end": True}, "no usable window end"),
    ],
)
def test_unusable_state_falls_back_to_since(state, note):
    settings = check_options(params(), now=NOW)
    state = dict(state, paths=["/var/log/app/django.log"])
    window = choose_window(settings, state, now=NOW)
    assert window["start"] == NOW - 86400 and not window["from_state"]
    assert note in window["state_note"]


def test_state_of_other_paths_is_not_used():
    settings = check_options(params(), now=NOW)
    window = choose_window(settings, {"window_end": NOW - 60, "paths": ["/other.log"]}, now=NOW)
    assert not window["from_state"] and "other paths" in window["state_note"]


# --- arithmetic ----------------------------------------------------------------------------


def test_worst_window_slides_over_any_start():
    # 10 in the first hour's last minutes and 5 in the next hour's first: 15 within one hour
    # that no clock hour contains.
    times = [3000 + i for i in range(10)] + [3700 + i for i in range(5)] + [9000]
    assert worst_window(times, 3600) == (15, 3000, 3704)
    assert worst_window(list(reversed(times)), 3600) == (15, 3000, 3704)
    assert worst_window([], 3600) is None
    # Width is exclusive: two records exactly `per` apart are not in one window.
    assert worst_window([0, 3600], 3600)[0] == 1
    assert worst_window([0, 3599.999], 3600)[0] == 2


def test_counted_percentiles_match_the_sorted_ones():
    values = [0.37 * (i % 97) + (i % 7) for i in range(1000)]
    counted = {}
    for value in values:
        step = int(round(value / 0.01))
        counted[step] = counted.get(step, 0) + 1
    ordered = sorted(round(v, 2) for v in values)
    for share in (1, 50, 95, 99, 100):
        assert counted_percentile(counted, share) == pytest.approx(percentile(ordered, share))
    assert counted_percentile({}, 50) is None


def test_percentiles_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0], 0) == 1.0


# --- findings ------------------------------------------------------------------------------


def _matcher(count, times=None, groups=None):
    m = Matcher("p", "x", last=2, group_by="user" if groups else None, keep_times=True)
    m.count = count
    from array import array

    m.times = {g: array("d", t) for g, t in (times or {}).items()}
    m.group_counts = groups or {}
    return m


WINDOW = {"start": NOW - 86400, "end": NOW, "from_state": False}


@pytest.mark.parametrize(
    "count, warning, critical, severity",
    [(0, 0, None, "ok"), (1, 0, None, "warning"), (5, 1, 5, "warning"), (6, 1, 5, "critical"), (100, None, None, "ok")],
)
def test_count_thresholds_are_strictly_above(count, warning, critical, severity):
    p = check_options(params(patterns=[pattern(warning_count=warning, critical_count=critical)]), now=NOW)["patterns"][
        0
    ]
    finding = judge_pattern(p, pattern_result(p, _matcher(count)), WINDOW)
    assert finding["severity"] == severity
    assert finding["check"] == "logs.pattern" and finding["target"] == "p"


def test_rate_per_group_names_the_worst_window():
    p = check_options(
        params(
            patterns=[
                pattern(
                    regex="(?P<user>\\w+)", group_by="user", rate={"count": 10, "per": "1h", "severity": "critical"}
                )
            ]
        ),
        now=NOW,
    )["patterns"][0]
    base = NOW - 7200
    matcher = _matcher(
        16,
        times={"ops": [base + i * 60 for i in range(11)], "admin": [base + i for i in range(5)]},
        groups={"ops": 11, "admin": 5},
    )
    entry = pattern_result(p, matcher)
    assert entry["worst_window"]["count"] == 11 and entry["worst_window"]["group"] == "ops"
    assert entry["groups"] == {"ops": 11, "admin": 5}
    finding = judge_pattern(p, entry, WINDOW)
    assert finding["severity"] == "critical"
    assert "11 within 1h for ops" in finding["summary"] and "above 10 per 1h" in finding["summary"]
    # Exactly the threshold is not above it (runbook: "> 10/hour").
    matcher = _matcher(10, times={"ops": [base + i for i in range(10)]}, groups={"ops": 10})
    assert judge_pattern(p, pattern_result(p, matcher), WINDOW)["severity"] == "ok"


def _access(**extra):
    settings = check_options(params(paths=[], patterns=[], access_log=dict({"path": "/a"}, **extra)), now=NOW)
    return settings["access"]


class _Fake:
    def __init__(self, requests, errors, times):
        self.requests, self.errors, self.unparsed, self.path = requests, errors, 0, "/a"
        self.times = {}
        for value in times:
            step = int(round(value / 0.01))
            self.times[step] = self.times.get(step, 0) + 1


@pytest.mark.parametrize(
    "requests, errors, errors_severity",
    [(100, 0, "ok"), (100, 1, "ok"), (100, 2, "info"), (100, 5, "info"), (100, 6, "warning")],
)
def test_access_error_rate_against_the_runbook(requests, errors, errors_severity):
    metrics = access_result([_Fake(requests, errors, [10.0] * requests)])
    findings = judge_access(_access(), metrics, WINDOW)
    assert findings[0]["check"] == "logs.access.errors"
    assert findings[0]["severity"] == errors_severity
    assert findings[1]["severity"] == "ok"


def test_access_latency_and_few_requests():
    times = [float(v) for v in range(1, 101)]
    times[-6:] = [250.0] * 6  # p95 above 200 ms
    metrics = access_result([_Fake(50, 0, times[:50]), _Fake(50, 0, times[50:])])
    assert (metrics["p50_ms"], metrics["p95_ms"], metrics["p99_ms"]) == (50.0, 250.0, 250.0)
    findings = judge_access(_access(error_rate_critical=10, p95_critical_ms=1000), metrics, WINDOW)
    assert findings[1]["severity"] == "warning" and "p95 response time 250.0 ms" in findings[1]["summary"]
    few = access_result([_Fake(3, 3, [1.0, 2.0, 3.0])])
    findings = judge_access(_access(), few, WINDOW)
    assert [f["severity"] for f in findings] == ["info"] and "fewer than 20" in findings[0]["summary"]
    assert math.isclose(few["error_rate"], 100.0)


class _File:
    def __init__(self, report, seen=True):
        self._report, self.timestamp_seen = report, seen

    def report(self):
        return self._report


def _file(path, reason=None, bytes_read=0):
    return {
        "path": path,
        "role": "live",
        "compressed": False,
        "size": 10,
        "bytes_read": bytes_read,
        "first_timestamp": None,
        "last_timestamp": None,
        "skipped_reason": reason,
    }


def test_result_findings_and_fail_on():
    settings = check_options(params(fail_on="warning", missing_severity="critical"), now=NOW)
    observed = {
        "files": [_File(_file("/gone.log", "missing")), _File(_file("/odd.log", None, 9000), seen=False)],
        "matchers": [_matcher(3)],
        "access": [],
    }
    observed["matchers"][0].name = "errors"
    result = build_result(settings, WINDOW, observed, state_problem="cannot read the state file")
    checks = [(f["check"], f["severity"]) for f in result["findings"]]
    assert checks[0] == ("logs.file", "critical")
    assert ("logs.file", "warning") in checks  # read bytes but no timestamp: nothing counted, said so
    assert ("logs.state", "info") in checks
    assert result["worst_severity"] == "critical"
    assert "fail_on=warning" in result["msg"]
    assert result["changed"] is False
    assert result["patterns"]["errors"]["count"] == 3


def test_built_in_patterns_by_name():
    settings = check_options(
        params(patterns=[{"name": "failed_logins"}, {"name": "errors", "warning_count": 0}]), now=NOW
    )
    logins, errors = settings["patterns"]
    assert logins["group_by"] == "client_ip"
    assert logins["rate"] == {"count": 10, "per": 3600, "severity": "warning"}
    assert errors["compiled"].search("2026-12-05 09:21:30,589 ERROR django.request [pid 18] x")
    assert errors["compiled"].search("2026-12-05T09:21:30Z CRITICAL x")
    assert not errors["compiled"].search("2026-12-05 09:21:30,589 INFO ERROR in text")
    assert errors["warning_count"] == 0
    # Given options win over the built-in's.
    own = check_options(params(patterns=[{"name": "failed_logins", "rate": {"count": 3, "per": "10m"}}]), now=NOW)
    assert own["patterns"][0]["rate"]["count"] == 3
    with pytest.raises(LogScanError, match="unknown pattern name 'failed_login' without a regex"):
        check_options(params(patterns=[{"name": "failed_login"}]), now=NOW)
