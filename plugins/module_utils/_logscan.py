# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The decisions of log_scan, as pure functions over plain data.

* ``check_options``: every option checked once, with a message naming it (LogScanError).
* ``choose_window``: ``since`` back from ``until`` (now), or from the previous run's end.
* ``worst_window``: the most records within any sliding window of a given width.
* ``percentile``: nearest-rank percentiles of response times.
* ``judge_pattern`` / ``judge_access``: findings against the runbook's thresholds.
* ``build_result``: the module's result from what ``_logscan_read.scan`` observed.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    severity_at_least,
    severity_for_value,
    sort_findings,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_records import (
    GUNICORN_ACCESS,
    NO_GROUP,
    TIME_STEP_MS,
    TIME_UNIT_MS,
    compile_pattern,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import (
    iso,
    parse_instant,
    time_format,
    zone,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    FAIL_ON_SPEC,
    argument_spec,
    duration_spec,
    read_duration,
)

MAX_PATHS = 100
MAX_PATTERNS = 100
MAX_LAST = 1000
MAX_COUNT = 10**9
MAX_SINCE = 366 * 86400.0
MAX_MS = 3600 * 1000.0
MAX_GROUPS_SHOWN = 100
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


STATE_KIND = "log_scan"
STATE_VERSION = 1

PATTERN_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "regex": {"type": "str"},
    "mode": {"type": "str", "choices": ["records", "lines"], "default": "records"},
    "last": {"type": "int", "default": 10},
    "warning_count": {"type": "int"},
    "critical_count": {"type": "int"},
    "rate": {
        "type": "dict",
        "options": {
            "count": {"type": "int", "required": True},
            "per": duration_spec("1h"),
            "severity": {"type": "str", "choices": ["info", "warning", "critical"], "default": "warning"},
        },
    },
    "group_by": {"type": "str"},
}

ACCESS_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "rotated": {"type": "bool", "default": True},
    "format": {"type": "str", "choices": ["gunicorn", "regex"], "default": "gunicorn"},
    "regex": {"type": "str"},
    "time_unit": {"type": "str", "choices": ["us", "ms", "s"], "default": "us"},
    "timestamp_format": {"type": "str", "default": "gunicorn"},
    "error_rate_target": {"type": "float", "default": 1},
    "error_rate_warning": {"type": "float", "default": 5},
    "error_rate_critical": {"type": "float"},
    "p95_warning_ms": {"type": "float", "default": 200},
    "p95_critical_ms": {"type": "float"},
    "min_requests": {"type": "int", "default": 20},
}

ARGUMENT_SPEC = argument_spec(
    FAIL_ON_SPEC,
    own={
        "paths": {"type": "list", "elements": "path", "default": []},
        "rotated": {"type": "bool", "default": True},
        "since": duration_spec("24h"),
        "until": {"type": "str"},
        "state_path": {"type": "path"},
        "timestamp_format": {"type": "str", "default": "auto"},
        "timezone": {"type": "str", "default": "UTC"},
        "patterns": {"type": "list", "elements": "dict", "default": [], "options": PATTERN_SPEC},
        "access_log": {"type": "dict", "options": ACCESS_SPEC},
        "missing_severity": {"type": "str", "choices": ["info", "warning", "critical"], "default": "warning"},
    },
)
# A report-only module: the logs role and the report weigh the findings (as pg_vacuum).
ARGUMENT_SPEC["fail_on"]["default"] = "never"


# Patterns a play may name without a regex (the lab's Django formats; runbook thresholds).
BUILT_IN_PATTERNS: dict[str, dict[str, Any]] = {
    "errors": {"regex": r"^\S+(?: \S+)? (?:ERROR|CRITICAL) "},
    "warnings": {"regex": r"^\S+(?: \S+)? WARNING "},
    "tracebacks": {"regex": r"^Traceback \(most recent call last\):"},
    "failed_logins": {
        "regex": r'security_event=failed_login username="(?P<user>[^"]*)" client_ip=(?P<client_ip>\S+)',
        "group_by": "client_ip",
        # Runbook, warning alerts: "Failed login attempts > 10/hour".
        "rate": {"count": 10, "per": "1h", "severity": "warning"},
    },
    "security_events": {"regex": r"security_event=(?P<event>\w+)", "group_by": "event"},
}


class LogScanError(FindingError):
    """Bad input to log_scan; the message names the option."""


# --- options -------------------------------------------------------------------------------


def _count(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    number = bounded_number(value, name, minimum=0, maximum=MAX_COUNT)
    return int(number)


def _regex(text: Any, name: str) -> Any:
    if not isinstance(text, str) or not text:
        raise LogScanError("%s cannot be empty (use '.' to match every line)" % name)
    try:
        return compile_pattern(text)
    except (re.error, OverflowError, RecursionError) as exc:
        raise LogScanError("%s: cannot compile %r: %s" % (name, text, exc)) from exc


def _timestamp_format(value: Any, name: str, tz: Any, year: int) -> Any:
    text = value if isinstance(value, str) else ""
    if text == "auto":
        return "auto"
    try:
        return time_format(text, tz, year)
    except FindingError as exc:
        message = str(exc)
        raise LogScanError(message if message.startswith(name) else "%s: %s" % (name, message)) from exc


def check_pattern(raw: dict[str, Any], index: int, since: float) -> dict[str, Any]:
    """One entry of ``patterns`` checked, with its compiled regex."""
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise LogScanError("patterns[%d].name must be 1 to 64 letters, digits, '_', '-' or '.', got %r" % (index, name))
    where = "patterns[%s]" % name
    if raw.get("regex") is None:
        built_in = BUILT_IN_PATTERNS.get(name)
        if built_in is None:
            raise LogScanError(
                "%s: unknown pattern name %r without a regex (built-in names: %s)"
                % (where, name, ", ".join(sorted(BUILT_IN_PATTERNS)))
            )
        raw = dict(raw)
        for key, value in built_in.items():
            if raw.get(key) is None:
                raw[key] = value
    compiled = _regex(raw.get("regex"), where + ".regex")
    last = int(bounded_number(raw.get("last", 10), where + ".last", minimum=0, maximum=MAX_LAST))
    warning = _count(raw.get("warning_count"), where + ".warning_count")
    critical = _count(raw.get("critical_count"), where + ".critical_count")
    if warning is not None and critical is not None and warning > critical:
        raise LogScanError("%s.warning_count (%d) is above critical_count (%d)" % (where, warning, critical))
    group_by = raw.get("group_by")
    if group_by is not None:
        if group_by not in compiled.groupindex:
            names = ", ".join(sorted(compiled.groupindex)) or "none"
            raise LogScanError(
                "%s.group_by: %r is not a named group of the regex (named groups: %s; write (?P<%s>...))"
                % (where, group_by, names, group_by)
            )
    rate = raw.get("rate")
    checked_rate = None
    if rate:
        count = _count(rate.get("count"), where + ".rate.count")
        if count is None:
            raise LogScanError("%s.rate.count is required" % where)
        per = read_duration({"per": rate.get("per", "1h")}, "per", maximum=MAX_SINCE)
        if per is None or per <= 0:
            raise LogScanError("%s.rate.per must be a duration greater than 0" % where)
        if per > since:
            raise LogScanError("%s.rate.per (%gs) is longer than the window, since (%gs)" % (where, per, since))
        severity = rate.get("severity") or "warning"
        if severity not in ("info", "warning", "critical"):
            raise LogScanError("%s.rate.severity must be info, warning or critical, got %r" % (where, severity))
        checked_rate = {"count": count, "per": per, "severity": severity}
    mode = raw.get("mode") or "records"
    if mode not in ("records", "lines"):
        raise LogScanError("%s.mode must be records or lines, got %r" % (where, mode))
    return {
        "name": name,
        "regex": raw.get("regex"),
        "compiled": compiled,
        "mode": mode,
        "last": last,
        "warning_count": warning,
        "critical_count": critical,
        "rate": checked_rate,
        "group_by": group_by,
    }


def check_access(raw: dict[str, Any], tz: Any, year: int) -> dict[str, Any]:
    """The ``access_log`` option checked, with its compiled line regex and time unit."""
    path = raw.get("path")
    if not path:
        raise LogScanError("access_log.path cannot be empty")
    fmt = raw.get("format") or "gunicorn"
    if fmt == "regex":
        if not raw.get("regex"):
            raise LogScanError("access_log.regex is required with access_log.format=regex")
        compiled = _regex(raw["regex"], "access_log.regex")
        if "status" not in compiled.groupindex:
            raise LogScanError("access_log.regex needs a named group 'status' ((?P<status>\\d{3}))")
    elif fmt == "gunicorn":
        if raw.get("regex"):
            raise LogScanError("access_log.regex is only used with access_log.format=regex")
        compiled = re.compile(GUNICORN_ACCESS)
    else:
        raise LogScanError("access_log.format must be gunicorn or regex, got %r" % (fmt,))
    unit = raw.get("time_unit") or "us"
    if unit not in TIME_UNIT_MS:
        raise LogScanError("access_log.time_unit must be us, ms or s, got %r" % (unit,))

    def value_of(name: str) -> Any:
        # The module's spec fills the defaults; plain data (tests, other callers) gets the same ones.
        return raw.get(name, ACCESS_SPEC[name].get("default"))

    def percent(name: str) -> Optional[float]:
        value = value_of(name)
        return None if value is None else bounded_number(value, "access_log." + name, minimum=0, maximum=100)

    def millis(name: str) -> Optional[float]:
        value = value_of(name)
        return None if value is None else bounded_number(value, "access_log." + name, minimum=0, maximum=MAX_MS)

    target, warning, critical = (
        percent("error_rate_target"),
        percent("error_rate_warning"),
        percent("error_rate_critical"),
    )
    if warning is not None and critical is not None and warning > critical:
        raise LogScanError("access_log.error_rate_warning (%g) is above error_rate_critical (%g)" % (warning, critical))
    p95_warning, p95_critical = millis("p95_warning_ms"), millis("p95_critical_ms")
    if p95_warning is not None and p95_critical is not None and p95_warning > p95_critical:
        raise LogScanError("access_log.p95_warning_ms (%g) is above p95_critical_ms (%g)" % (p95_warning, p95_critical))
    min_requests = int(
        bounded_number(value_of("min_requests"), "access_log.min_requests", minimum=0, maximum=MAX_COUNT)
    )
    return {
        "path": path,
        "rotated": raw.get("rotated", True) is not False,
        "format": fmt,
        "compiled": compiled,
        "unit_ms": TIME_UNIT_MS[unit],
        "fmt": _timestamp_format(raw.get("timestamp_format") or "gunicorn", "access_log.timestamp_format", tz, year),
        "error_rate_target": target,
        "error_rate_warning": warning,
        "error_rate_critical": critical,
        "p95_warning_ms": p95_warning,
        "p95_critical_ms": p95_critical,
        "min_requests": min_requests,
    }


def check_options(params: dict[str, Any], now: Optional[float] = None) -> dict[str, Any]:
    """Every option checked (LogScanError naming the option), as plain settings for scan and judge."""
    now = time.time() if now is None else now
    try:
        return _check_options(params, now)
    except LogScanError:
        raise
    except FindingError as exc:
        raise LogScanError(str(exc)) from exc


def _check_options(params: dict[str, Any], now: float) -> dict[str, Any]:
    paths = list(params.get("paths") or [])
    if len(paths) > MAX_PATHS:
        raise LogScanError("paths: at most %d paths, got %d" % (MAX_PATHS, len(paths)))
    for path in paths:
        if not path or not str(path).strip():
            raise LogScanError("paths cannot hold an empty path")
    if not paths and not params.get("access_log"):
        raise LogScanError("paths is empty and access_log is not set: nothing to scan")
    since = read_duration(params, "since", maximum=MAX_SINCE)
    if since is None or since <= 0:
        raise LogScanError("since must be a duration greater than 0 (such as 24h)")
    tz = zone(params.get("timezone") or "")
    until = None
    if params.get("until") is not None:
        until = parse_instant(str(params["until"]), tz)
    year = time.gmtime(until if until is not None else now).tm_year
    raw_patterns = params.get("patterns") or []
    if len(raw_patterns) > MAX_PATTERNS:
        raise LogScanError("patterns: at most %d patterns, got %d" % (MAX_PATTERNS, len(raw_patterns)))
    patterns = []
    seen = set()
    for index, raw in enumerate(raw_patterns):
        pattern = check_pattern(raw or {}, index, since)
        if pattern["name"] in seen:
            raise LogScanError("patterns: the name %r is used twice" % pattern["name"])
        seen.add(pattern["name"])
        patterns.append(pattern)
    if paths and not patterns:
        raise LogScanError("paths are given but patterns is empty: name at least one pattern to count")
    access = check_access(params["access_log"], tz, year) if params.get("access_log") else None
    fmt = params.get("timestamp_format") or ""
    return {
        "paths": paths,
        "rotated": params.get("rotated", True) is not False,
        "since": since,
        "until": until,
        "state_path": params.get("state_path") or None,
        "tz": tz,
        "year": year,
        "fmt": _timestamp_format(fmt, "timestamp_format", tz, year),
        "patterns": patterns,
        "access": access,
        "missing_severity": params.get("missing_severity") or "warning",
        "fail_on": params.get("fail_on") or "never",
    }


# --- window --------------------------------------------------------------------------------


def state_signature(settings: dict[str, Any]) -> list[str]:
    """What a state file belongs to: the scanned paths (a state for other logs is not ours)."""
    names = list(settings["paths"])
    if settings["access"]:
        names.append("access:" + settings["access"]["path"])
    return sorted(names)


def choose_window(
    settings: dict[str, Any], state: Optional[dict[str, Any]], now: Optional[float] = None
) -> dict[str, Any]:
    """``(start, end]``: ``since`` back from ``until`` (now), or from the previous run's end when newer."""
    end = settings["until"] if settings["until"] is not None else (time.time() if now is None else now)
    start = end - settings["since"]
    window: dict[str, Any] = {"start": start, "end": end, "from_state": False, "state_note": None}
    if state is None:
        return window
    previous = state.get("window_end")
    if state.get("paths") != state_signature(settings):
        window["state_note"] = "the state file was written for other paths; counting the last %gs" % settings["since"]
    elif not isinstance(previous, (int, float)) or isinstance(previous, bool) or not math.isfinite(previous):
        window["state_note"] = "the state file holds no usable window end; counting the last %gs" % settings["since"]
    elif previous >= end:
        window["state_note"] = (
            "the previous run's window ended at %s, not before this one's end; counting the last %gs"
            % (
                iso(previous),
                settings["since"],
            )
        )
    elif previous < start:
        window["state_note"] = "the previous run ended at %s, more than since (%gs) ago; counting the last %gs" % (
            iso(previous),
            settings["since"],
            settings["since"],
        )
    else:
        window["start"] = float(previous)
        window["from_state"] = True
    return window


def state_data(window: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """What the next run needs: where this window ended, and for which paths."""
    return {"window_end": window["end"], "paths": state_signature(settings)}


# --- arithmetic ----------------------------------------------------------------------------


def worst_window(times: Any, per: float) -> Optional[tuple[int, float, float]]:
    """``(count, first, last)`` of the most times within any window of width ``per`` (``last - first < per``).

    ``times`` need not be sorted. None without times.
    """
    ordered = sorted(times)
    if not ordered:
        return None
    best = (0, ordered[0], ordered[0])
    low = 0
    for high, value in enumerate(ordered):
        while value - ordered[low] >= per:
            low += 1
        count = high - low + 1
        if count > best[0]:
            best = (count, ordered[low], value)
    return best


def percentile(ordered: Any, share: float) -> Optional[float]:
    """Nearest-rank percentile of an ascending sequence (``share`` in 0..100); None when empty."""
    if not ordered:
        return None
    rank = max(1, int(math.ceil(share / 100.0 * len(ordered))))
    return float(ordered[min(rank, len(ordered)) - 1])


def counted_percentile(counted: dict[int, int], share: float) -> Optional[float]:
    """Nearest-rank percentile, in ms, of request times counted per TIME_STEP_MS step."""
    total = sum(counted.values())
    if not total:
        return None
    rank = max(1, int(math.ceil(share / 100.0 * total)))
    seen = 0
    for step in sorted(counted):
        seen += counted[step]
        if seen >= rank:
            return step * TIME_STEP_MS
    return None  # pragma: no cover - rank <= total


def _window_text(window: dict[str, Any]) -> str:
    return "%s to %s" % (_short(window["start"]), _short(window["end"]))


def _short(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _per_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%gs" % seconds


# --- judging -------------------------------------------------------------------------------


def pattern_result(pattern: dict[str, Any], matcher: Any) -> dict[str, Any]:
    """RV(patterns) entry of one pattern from its matcher (count, last records, groups, worst window)."""
    last = sorted(matcher.last, key=lambda item: item[0])[-pattern["last"] :] if pattern["last"] else []
    entry: dict[str, Any] = {
        "count": matcher.count,
        "mode": pattern["mode"],
        "last": [{"timestamp": iso(t), "path": path, "text": text, "group": group} for t, path, text, group in last],
        "groups": None,
        "worst_window": None,
    }
    if pattern["group_by"]:
        ranked = sorted(matcher.group_counts.items(), key=lambda item: (-item[1], item[0]))
        entry["groups"] = dict(ranked[:MAX_GROUPS_SHOWN])
    rate = pattern["rate"]
    if rate is not None:
        worst = None
        for group, times in matcher.times.items():
            found = worst_window(times, rate["per"])
            if found is not None and (worst is None or found[0] > worst[0]):
                worst = (found[0], found[1], found[2], group)
        if worst is not None:
            entry["worst_window"] = {
                "start": iso(worst[1]),
                "end": iso(worst[2]),
                "count": worst[0],
                "group": worst[3] if pattern["group_by"] and worst[3] != NO_GROUP else None,
            }
    return entry


def judge_pattern(pattern: dict[str, Any], entry: dict[str, Any], window: dict[str, Any]) -> dict[str, Any]:
    """The logs.pattern finding of one pattern: counts and the sliding-window rate against their thresholds."""
    count = entry["count"]
    unit = "line(s)" if pattern["mode"] == "lines" else "record(s)"
    severity = severity_for_value(count, pattern["warning_count"], pattern["critical_count"])
    parts = ["%s: %d matching %s from %s" % (pattern["name"], count, unit, _window_text(window))]
    if severity != "ok":
        limit = pattern["critical_count"] if severity == "critical" else pattern["warning_count"]
        parts.append("above the %s count of %d" % (severity, limit))
    rate = pattern["rate"]
    worst = entry["worst_window"]
    if rate is not None and worst is not None:
        group = " for %s" % worst["group"] if worst["group"] is not None else ""
        text = "at most %d within %s%s (%s to %s)" % (
            worst["count"],
            _per_text(rate["per"]),
            group,
            worst["start"],
            worst["end"],
        )
        if worst["count"] > rate["count"]:
            text = "%d within %s%s (%s to %s), above %d per %s" % (
                worst["count"],
                _per_text(rate["per"]),
                group,
                worst["start"],
                worst["end"],
                rate["count"],
                _per_text(rate["per"]),
            )
            severity = worst_severity([severity, rate["severity"]])
        parts.append(text)
    details = {
        "count": count,
        "mode": pattern["mode"],
        "regex": pattern["regex"],
        "warning_count": pattern["warning_count"],
        "critical_count": pattern["critical_count"],
        "rate": None
        if rate is None
        else {"count": rate["count"], "per_seconds": rate["per"], "severity": rate["severity"]},
        "worst_window": worst,
        "groups": entry["groups"],
    }
    return make_finding("logs.pattern", pattern["name"], severity, "; ".join(parts), details)


def access_result(scanners: list[Any]) -> dict[str, Any]:
    """RV(access): counts and nearest-rank percentiles over every access file read."""
    requests = sum(s.requests for s in scanners)
    errors = sum(s.errors for s in scanners)
    counted: dict[int, int] = {}
    for scanner in scanners:
        for step, count in scanner.times.items():
            counted[step] = counted.get(step, 0) + count
    return {
        "requests": requests,
        "errors_5xx": errors,
        "error_rate": round(100.0 * errors / requests, 3) if requests else None,
        "p50_ms": _round(counted_percentile(counted, 50)),
        "p95_ms": _round(counted_percentile(counted, 95)),
        "p99_ms": _round(counted_percentile(counted, 99)),
        "unparsed": sum(s.unparsed for s in scanners),
    }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 3)


def judge_access(access: dict[str, Any], metrics: dict[str, Any], window: dict[str, Any]) -> list[dict[str, Any]]:
    """logs.access.errors and logs.access.latency findings (runbook: 5xx > 5 % warning, < 1 % target, p95 200 ms)."""
    target = access["path"]
    requests = metrics["requests"]
    span = _window_text(window)
    if requests < max(access["min_requests"], 1):
        summary = "%d request(s) from %s, fewer than %d: error rate and response times not judged" % (
            requests,
            span,
            max(access["min_requests"], 1),
        )
        return [make_finding("logs.access", target, "info", summary, dict(metrics))]
    rate = metrics["error_rate"]
    severity = severity_for_value(rate, access["error_rate_warning"], access["error_rate_critical"])
    summary = "%d of %d requests answered 5xx (%.2f %%) from %s" % (metrics["errors_5xx"], requests, rate, span)
    if severity != "ok":
        limit = access["error_rate_critical"] if severity == "critical" else access["error_rate_warning"]
        summary += ", above the %s threshold of %g %%" % (severity, limit)
    elif access["error_rate_target"] is not None and rate > access["error_rate_target"]:
        severity = "info"
        summary += ", above the runbook's target of %g %%" % access["error_rate_target"]
    details = dict(metrics)
    details.update(
        {
            "error_rate_target": access["error_rate_target"],
            "error_rate_warning": access["error_rate_warning"],
            "error_rate_critical": access["error_rate_critical"],
        }
    )
    findings = [make_finding("logs.access.errors", target, severity, summary, details)]
    p95 = metrics["p95_ms"]
    if p95 is None:
        findings.append(
            make_finding(
                "logs.access.latency", target, "info", "no request time in the access log lines", dict(metrics)
            )
        )
        return findings
    severity = severity_for_value(p95, access["p95_warning_ms"], access["p95_critical_ms"])
    summary = "p95 response time %.1f ms (p50 %.1f, p99 %.1f) over %d requests from %s" % (
        p95,
        metrics["p50_ms"],
        metrics["p99_ms"],
        requests,
        span,
    )
    if severity != "ok":
        limit = access["p95_critical_ms"] if severity == "critical" else access["p95_warning_ms"]
        summary += ", above the %s threshold of %g ms" % (severity, limit)
    details = dict(metrics)
    details.update({"p95_warning_ms": access["p95_warning_ms"], "p95_critical_ms": access["p95_critical_ms"]})
    findings.append(make_finding("logs.access.latency", target, severity, summary, details))
    return findings


def judge_file(report: dict[str, Any], missing_severity: str, timestamp_seen: bool) -> Optional[dict[str, Any]]:
    """logs.file finding for a file that could not be read as it should, None when all is well."""
    reason = report["skipped_reason"]
    path = report["path"]
    if reason == "missing":
        return make_finding("logs.file", path, missing_severity, "%s does not exist" % path, report)
    if reason and (
        reason.startswith("unreadable") or reason.startswith("damaged") or reason.startswith("no timestamp")
    ):
        return make_finding("logs.file", path, "warning", "%s: %s" % (path, reason), report)
    if reason and (reason.startswith("truncated") or reason.startswith("rotated during")):
        return make_finding("logs.file", path, "info", "%s: %s" % (path, reason), report)
    if report.get("time_went_back"):
        summary = (
            "%s: the time goes back more than a minute at %s (a DST fall-back read in local time, or"
            " interleaved sources); records around it may be missed or misplaced" % (path, report["time_went_back"])
        )
        return make_finding("logs.file", path, "info", summary, report)
    if reason is None and report["bytes_read"] > 4096 and not timestamp_seen:
        summary = "%s: no line matched the timestamp format in the %d bytes read; nothing in it was counted" % (
            path,
            report["bytes_read"],
        )
        return make_finding("logs.file", path, "warning", summary, report)
    return None


def build_result(
    settings: dict[str, Any],
    window: dict[str, Any],
    observed: dict[str, Any],
    state_problem: Optional[str] = None,
    save_problem: Optional[str] = None,
) -> dict[str, Any]:
    """The module's result (and ``msg`` when a finding reaches fail_on)."""
    findings = []
    for note in (state_problem, window.get("state_note")):
        if note:
            findings.append(make_finding("logs.state", settings["state_path"] or "state", "info", note))
    if save_problem:
        findings.append(
            make_finding(
                "logs.state",
                settings["state_path"] or "state",
                "warning",
                "%s; the next run counts the last %gs again" % (save_problem, settings["since"]),
            )
        )
    files = []
    for item in observed["files"]:
        report = item.report()
        files.append(report)
        finding = judge_file(report, settings["missing_severity"], item.timestamp_seen)
        if finding is not None:
            findings.append(finding)
    patterns = {}
    matchers = {m.name: m for m in observed["matchers"]}
    for pattern in settings["patterns"]:
        entry = pattern_result(pattern, matchers[pattern["name"]])
        patterns[pattern["name"]] = entry
        findings.append(judge_pattern(pattern, entry, window))
    access = None
    if settings["access"] is not None:
        access = access_result(observed["access"])
        access_present = any(s.path == settings["access"]["path"] for s in observed["access"])
        if access_present or access["requests"]:
            findings.extend(judge_access(settings["access"], access, window))
    findings = sort_findings(findings)
    worst = worst_severity(findings)
    result: dict[str, Any] = {
        "changed": False,
        "window": {"start": iso(window["start"]), "end": iso(window["end"]), "from_state": window["from_state"]},
        "patterns": patterns,
        "files": files,
        "access": access,
        "findings": findings,
        "worst_severity": worst,
    }
    if severity_at_least(worst, settings["fail_on"]):
        result["msg"] = "log_scan: %d finding(s) reach fail_on=%s, the worst: %s" % (
            sum(1 for f in findings if severity_at_least(f["severity"], settings["fail_on"])),
            settings["fail_on"],
            findings[0]["summary"],
        )
    return result
