# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The decisions of http_check, as pure functions over plain data (unit tested without a server).

* ``check_options``: the module's parameters, validated, as the settings of one check;
* ``request_problem`` and ``judge``: the requests (as _http_probe.probe returns them) turned
  into one finding;
* ``build_result``: what the module returns.

Sending the requests is _http_probe.probe; the module only sends them.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    median,
    severity_for_value,
)
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import (
    status_accepted,
    url_problem,
    valid_status_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import read_seconds

Request = dict[str, Any]

# Seconds: a longer socket timeout is no health check (and a huge one overflows the socket call).
MAX_TIMEOUT = 3600
MAX_SAMPLES = 20
# What the module returns of each request (the body only as RV(json)).
REQUEST_KEYS = ("status", "elapsed_ms", "error", "error_kind")


def _check_url(url: str) -> None:
    problem = url_problem(url, "url")
    if problem:
        raise FindingError(problem)


def _check_thresholds(warning_ms: Optional[float], critical_ms: Optional[float]) -> None:
    # NaN or infinity would pass a plain comparison and fail every request as a false alarm.
    for name, value in (("warning_ms", warning_ms), ("critical_ms", critical_ms)):
        if value is not None:
            bounded_number(value, name, minimum=0, maximum=MAX_TIMEOUT * 1000)
    if critical_ms is not None and warning_ms is not None and warning_ms > critical_ms:
        raise FindingError("warning_ms (%s) must not exceed critical_ms (%s)" % (warning_ms, critical_ms))


def check_options(params: dict[str, Any]) -> dict[str, Any]:
    """The settings of one check from the module's parameters, or FindingError saying what is wrong.

    Returns ``url`` (stripped), ``timeout`` in seconds, ``pattern`` (compiled, or None) and the
    other parameters as they are. Nothing in ``params`` is changed.
    """
    settings = dict(params, url=params["url"].strip())
    _check_url(settings["url"])
    if not 1 <= params["samples"] <= MAX_SAMPLES:
        raise FindingError("samples must be between 1 and %d, got %d" % (MAX_SAMPLES, params["samples"]))
    settings["timeout"] = read_seconds(params["timeout"], "timeout", above=0, maximum=MAX_TIMEOUT)
    _check_thresholds(params["warning_ms"], params["critical_ms"])
    bad = [s for s in params["accepted_status"] if not valid_status_spec(s)]
    if bad or not params["accepted_status"]:
        raise FindingError(
            "accepted_status must list HTTP codes (100-599) or classes such as 2xx; bad: %s" % ", ".join(bad)
        )
    settings["pattern"] = None
    if params["body_pattern"] is not None:
        try:
            settings["pattern"] = re.compile(params["body_pattern"])
        except re.error as exc:
            raise FindingError("body_pattern is not a valid regular expression: %s" % exc) from exc
    if not params["check_name"].strip():
        raise FindingError("check_name must not be empty: it names the check in the finding")
    return settings


def request_problem(
    request: Request, accepted: list[str], pattern: Optional[re.Pattern[str]]
) -> Optional[tuple[str, str]]:
    """(error_kind, what went wrong) of one request, or None when it was answered as accepted."""
    if request["status"] is None:
        return request["error_kind"], "%s (%s)" % (request["error"], request["error_kind"])
    if not status_accepted(request["status"], accepted):
        return "status", "status %d not accepted" % request["status"]
    if pattern is not None and not pattern.search(request["body"]):
        return "body", "body does not match %r" % pattern.pattern
    return None


def judge(
    url: str,
    requests: list[Request],
    accepted: list[str],
    pattern: Optional[re.Pattern[str]],
    warning_ms: Optional[float],
    critical_ms: Optional[float],
    statistic: str,
    check_name: str,
) -> tuple[dict[str, Any], Optional[float]]:
    """(the finding, the response time compared with the thresholds) of the requests."""
    failures = []
    for index, request in enumerate(requests, 1):
        problem = request_problem(request, accepted, pattern)
        if problem:
            failures.append("request %d: %s" % (index, problem[1]))
    times = [r["elapsed_ms"] for r in requests if r["status"] is not None]
    elapsed = None
    if times:
        elapsed = max(times) if statistic == "max" else median(times)
    details: dict[str, Any] = {
        "samples": len(requests),
        "failed": len(failures),
        "elapsed_ms": elapsed,
        "statistic": statistic,
        "warning_ms": warning_ms,
        "critical_ms": critical_ms,
        "statuses": [r["status"] for r in requests],
    }
    if failures:
        details["failures"] = failures
        summary = "%d of %d requests failed: %s" % (len(failures), len(requests), failures[0])
        return make_finding(check_name, url, "critical", summary, details), elapsed
    # No request failed, so every one was answered and ``elapsed`` is a number.
    severity = severity_for_value(elapsed, warning=warning_ms, critical=critical_ms)
    summary = "answered %d in %.0f ms (%s of %d)" % (requests[-1]["status"], elapsed or 0.0, statistic, len(requests))
    if severity != "ok":
        limit = critical_ms if severity == "critical" else warning_ms
        summary += ", above the %.0f ms %s threshold" % (limit or 0.0, severity)
    return make_finding(check_name, url, severity, summary, details), elapsed


def _json_body(body: str) -> Optional[dict[str, Any]]:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def build_result(settings: dict[str, Any], requests: list[Request]) -> dict[str, Any]:
    """What http_check returns for ``requests``, sent with ``settings`` (of check_options)."""
    accepted, pattern = settings["accepted_status"], settings["pattern"]
    finding, elapsed = judge(
        settings["url"],
        requests,
        accepted,
        pattern,
        settings["warning_ms"],
        settings["critical_ms"],
        settings["statistic"],
        settings["check_name"],
    )
    rows = []
    for request in requests:
        row = dict((key, request[key]) for key in REQUEST_KEYS)
        problem = request_problem(request, accepted, pattern)
        if problem:
            row["error_kind"] = problem[0]
        rows.append(row)
    answered = [r for r in requests if r["status"] is not None]
    result = {
        "changed": False,
        "ok": not finding["details"].get("failures"),
        "status": answered[-1]["status"] if answered else None,
        "elapsed_ms": elapsed,
        "requests": rows,
        "findings": [finding],
        "worst_severity": finding["severity"],
    }
    document = _json_body(answered[-1]["body"]) if answered else None
    if document is not None:
        result["json"] = document
    return result
