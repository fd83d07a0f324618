# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judgement of http_check is pure; the requests themselves are tested against a real
HTTP server in tests/integration/targets/http_check."""

from __future__ import annotations

import re

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import median
from ansible_collections.stronghold.ops.plugins.module_utils._http_judge import judge
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import (
    status_accepted,
    valid_status_spec,
)
from ansible_collections.stronghold.ops.plugins.modules import http_check

URL = "http://127.0.0.1:18000/api/v1/health/"


def answered(status=200, ms=40.0, body='{"status": "ok"}'):
    return {"status": status, "elapsed_ms": ms, "body": body, "error": None, "error_kind": None}


def refused():
    return {
        "status": None,
        "elapsed_ms": 0.4,
        "body": "",
        "error": "[Errno 111] Connection refused",
        "error_kind": "connect",
    }


def test_fast_answers_are_ok_and_use_the_median():
    finding, elapsed = judge(
        URL, [answered(ms=10), answered(ms=900), answered(ms=30)], ["2xx"], None, 500, None, "median", "health.http"
    )
    assert finding["severity"] == "ok"
    assert elapsed == 30


def test_slow_median_warns_and_max_statistic_sees_the_outlier():
    finding, dummy = judge(
        URL, [answered(ms=600), answered(ms=700), answered(ms=650)], ["2xx"], None, 500, None, "median", "health.http"
    )
    assert finding["severity"] == "warning"
    assert "above the 500 ms warning threshold" in finding["summary"]
    finding, elapsed = judge(
        URL, [answered(ms=10), answered(ms=2500), answered(ms=30)], ["2xx"], None, 500, 2000, "max", "health.http"
    )
    assert finding["severity"] == "critical" and elapsed == 2500


def test_any_failed_request_is_critical():
    finding, dummy = judge(URL, [answered(), refused(), answered()], ["2xx"], None, 500, None, "median", "health.http")
    assert finding["severity"] == "critical"
    assert finding["summary"].startswith("1 of 3 requests failed: request 2: [Errno 111] Connection refused (connect)")
    finding, dummy = judge(URL, [answered(status=503)], ["2xx"], None, 500, None, "median", "health.http")
    assert finding["severity"] == "critical" and "status 503 not accepted" in finding["summary"]
    finding, dummy = judge(
        URL,
        [answered(body='{"status": "degraded"}')],
        ["2xx"],
        re.compile('"status": "ok"'),
        500,
        None,
        "median",
        "health.http",
    )
    assert finding["severity"] == "critical" and "body does not match" in finding["summary"]


@pytest.mark.parametrize(
    "status, accepted, expected",
    [
        (200, ["2xx"], True),
        (204, ["200"], False),
        (301, ["2xx", "301"], True),
        (None, ["2xx"], False),
        (503, ["5xx"], True),
    ],
)
def test_status_accepted(status, accepted, expected):
    assert status_accepted(status, accepted) is expected


def test_status_spec_and_median():
    assert (
        valid_status_spec("2xx")
        and valid_status_spec("404")
        and not valid_status_spec("6xx")
        and not valid_status_spec("ok")
    )
    assert median([3, 1, 2]) == 2 and median([4, 1, 2, 3]) == 2.5 and median([]) is None


@pytest.mark.parametrize(
    "args, message",
    [
        ({"url": "ftp://127.0.0.1/"}, "must be an http:// or https:// URL"),
        ({"url": "http://127.0.0.1:abc/"}, "is not a valid URL"),
        ({"url": "http://127.0.0.1:70000/"}, "not a valid URL"),
        ({"url": URL, "samples": 0}, "samples must be between 1 and 20"),
        ({"url": URL, "accepted_status": ["fine"]}, "accepted_status must list HTTP codes"),
        ({"url": URL, "body_pattern": "(("}, "body_pattern is not a valid regular expression"),
        ({"url": URL, "warning_ms": 900, "critical_ms": 100}, "warning_ms (900.0) must not exceed critical_ms (100.0)"),
        ({"url": URL, "timeout": 0}, "timeout must be greater than 0"),
        ({"url": URL, "timeout": -1}, "timeout must be greater than 0"),
        ({"url": URL, "timeout": "nan"}, "timeout must be a finite number"),
        ({"url": URL, "timeout": "inf"}, "timeout must be a finite number"),
        ({"url": URL, "timeout": "1e999"}, "timeout must be a finite number"),
        ({"url": URL, "timeout": 1e300}, "timeout must be at most 3600"),
        ({"url": URL, "warning_ms": "nan"}, "warning_ms must be a finite number"),
        ({"url": URL, "warning_ms": -5}, "warning_ms must be at least 0"),
        ({"url": URL, "critical_ms": "-inf"}, "critical_ms must be a finite number"),
        ({"url": URL, "critical_ms": 1e12}, "critical_ms must be at most 3600000"),
        ({"url": URL, "timeout": "abc"}, "timeout: cannot read 'abc' as a duration"),
        ({"url": URL, "timeout": "-2s"}, "timeout: cannot read '-2s' as a duration"),
        ({"url": URL, "timeout": "2h"}, "timeout must be at most 3600"),
        ({"url": URL, "check_name": " "}, "check_name must not be empty"),
    ],
)
def test_bad_input_fails_with_a_clear_message(run_module, args, message):
    out = run_module(http_check.main, args)
    assert out.failed
    assert message in out.result["msg"]
    assert "findings" not in out.result


@pytest.mark.parametrize("value", [1, 0.5, "1", "1s", "500ms"])
def test_timeout_takes_seconds_or_a_duration(run_module, value):
    # Port 9 (discard) on loopback: nothing listens, so the request fails at once as connect.
    out = run_module(http_check.main, {"url": "http://127.0.0.1:9/", "samples": 1, "timeout": value})
    assert not out.failed
    assert out.result["requests"][0]["error_kind"] == "connect"
    assert out.result["worst_severity"] == "critical"
