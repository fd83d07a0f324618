# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""http_check's decisions (_http_judge) on plain data: options, each request's problem, the result."""

from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._http_judge import (
    build_result,
    check_options,
    request_problem,
)

URL = "http://127.0.0.1:18000/api/v1/health/"


def params(**own):
    base = {
        "url": URL,
        "samples": 3,
        "timeout": 10,
        "accepted_status": ["2xx"],
        "body_pattern": None,
        "warning_ms": 500.0,
        "critical_ms": None,
        "statistic": "median",
        "validate_certs": True,
        "ca_path": None,
        "headers": {},
        "check_name": "health.http",
    }
    base.update(own)
    return base


def request(status=200, ms=40.0, body='{"status": "ok"}', error=None, kind=None):
    return {"url": URL, "status": status, "elapsed_ms": ms, "body": body, "error": error, "error_kind": kind}


@pytest.mark.parametrize("value, seconds", [(10, 10.0), (2.5, 2.5), ("10s", 10.0), ("500ms", 0.5), (" 3 ", 3.0)])
def test_timeout_is_seconds_or_a_duration(value, seconds):
    assert check_options(params(timeout=value))["timeout"] == seconds


def test_options_are_read_not_changed():
    given = params(url="  %s " % URL, body_pattern='"status": "ok"')
    before = copy.deepcopy(given)
    settings = check_options(given)
    assert given == before
    assert settings["url"] == URL and settings["pattern"].pattern == '"status": "ok"'
    assert check_options(params())["pattern"] is None


@pytest.mark.parametrize(
    "own, message",
    [
        (
            {"url": "ftp://127.0.0.1/"},
            "url must be an http:// or https:// URL whose port, when given, is a number from 1 to 65535",
        ),
        (
            {"url": "http:///path"},
            "url must be an http:// or https:// URL whose port, when given, is a number from 1 to 65535",
        ),
        ({"url": "http://127.0.0.1:0/"}, "is not a valid URL"),
        ({"samples": 21}, "samples must be between 1 and 20, got 21"),
        ({"timeout": float("nan")}, "timeout must be a finite number"),
        ({"timeout": -3}, "timeout must be greater than 0, got -3"),
        ({"timeout": "abc"}, "timeout: cannot read 'abc' as a duration"),
        ({"accepted_status": []}, "accepted_status must list HTTP codes"),
        ({"accepted_status": ["2xx", "700"]}, "bad: 700"),
        ({"warning_ms": 900.0, "critical_ms": 100.0}, "warning_ms (900.0) must not exceed critical_ms (100.0)"),
        ({"body_pattern": "(("}, "body_pattern is not a valid regular expression"),
        ({"check_name": ""}, "check_name must not be empty"),
    ],
)
def test_bad_options_are_refused(own, message):
    with pytest.raises(FindingError) as caught:
        check_options(params(**own))
    assert message in str(caught.value)


def test_each_request_has_one_problem_or_none():
    pattern = re.compile('"status": "ok"')
    assert request_problem(request(), ["2xx"], pattern) is None
    assert request_problem(request(status=503), ["2xx"], pattern) == ("status", "status 503 not accepted")
    assert request_problem(request(body="{}"), ["2xx"], pattern) == ("body", 'body does not match \'"status": "ok"\'')
    refused = request(status=None, body="", error="Connection refused", kind="connect")
    assert request_problem(refused, ["2xx"], pattern) == ("connect", "Connection refused (connect)")


def test_the_result_names_each_request_and_keeps_the_json_of_the_last_answer():
    settings = check_options(params())
    refused = request(status=None, ms=0.4, body="", error="Connection refused", kind="connect")
    result = build_result(settings, [request(ms=10), request(status=503, ms=30, body='{"db": "down"}'), refused])
    assert result["requests"] == [
        {"status": 200, "elapsed_ms": 10, "error": None, "error_kind": None},
        {"status": 503, "elapsed_ms": 30, "error": None, "error_kind": "status"},
        {"status": None, "elapsed_ms": 0.4, "error": "Connection refused", "error_kind": "connect"},
    ]
    assert result["ok"] is False and result["status"] == 503 and result["json"] == {"db": "down"}
    assert result["elapsed_ms"] == 20.0 and result["changed"] is False
    assert result["worst_severity"] == "critical" == result["findings"][0]["severity"]
    assert result["findings"][0]["details"]["failures"] == [
        "request 2: status 503 not accepted",
        "request 3: Connection refused (connect)",
    ]


def test_a_healthy_result_and_bodies_that_are_no_json_object():
    settings = check_options(params(samples=1))
    result = build_result(settings, [request(body="[1, 2]")])
    assert result["ok"] is True and result["worst_severity"] == "ok" and "json" not in result
    assert "json" not in build_result(settings, [request(body="not json")])
    nothing = build_result(settings, [request(status=None, body="", error="timed out", kind="timeout")])
    assert nothing["status"] is None and nothing["elapsed_ms"] is None and "json" not in nothing
