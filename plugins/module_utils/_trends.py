# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Trends over the kept run reports, as pure functions over plain data (unit tested without disk).

``series_from_reports`` turns the per-host run reports (``_trends_read.read_kept_reports``) into
one series per metric, host and target, each a list of ``[time, value]`` points taken from the
details of the findings the check modules made:

========================  ==============================  ================================================
metric                    finding (check)                 details key
========================  ==============================  ================================================
backup_size               backup.verify                   newest_size (bytes)
backup_age                backup.verify                   newest_age_seconds (shown in hours)
cert_days_left            certificates.endpoint / .file   days_remaining (warning_days, critical_days)
dead_tuples_before        postgres.vacuum                 n_dead_tup_before
dead_tuples_after         postgres.vacuum                 n_dead_tup_after
disk_used                 resources.disk                  used_percent, warning, critical, forecast
log_rate                  logs.pattern with a rate        worst_window.count against rate.count per rate.per_seconds
p95_response              logs.access.latency             p95_ms, p95_warning_ms, p95_critical_ms
========================  ==============================  ================================================

A series is ``worsening`` when, over at least three points, the least-squares slope moves the
value the worse way by a meaningful amount across the span it covers (at least ``min_change`` in
its unit and ``share`` of its mean magnitude), or when the last point is past a threshold (a
certificate's expiry counts as one), or at a severity of warning or worse, that no earlier point
reached. Days left of a certificate fall a day a day by nature: for them only thresholds count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import linear_fit, severity_rank

Row = dict[str, Any]
# (target, value, thresholds, extra) of one finding for one metric.
Sample = tuple[str, float, dict[str, float], Optional[Row]]

MAX_SERIES = 60
MAX_POINTS = 200
# A report stamped a little ahead of this host's clock is another host's skew; beyond, a wrong clock.
FUTURE_ALLOWANCE = timedelta(minutes=5)
# How far ahead the disk forecast line is drawn at most.
FORECAST_HORIZON_DAYS = 14.0
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_RANKED = ("ok", "info", "warning", "critical")


def number(value: Any) -> Optional[float]:
    """A finite number from a number or a numeric string; None for anything else (bool, NaN, inf, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def parse_time(value: Any) -> Optional[datetime]:
    """An aware UTC datetime from ``2026-11-27T10:15:00Z`` (or an ISO 8601 time with an offset); None otherwise."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(_ISO)


def _thresholds(warning: Any, critical: Any) -> dict[str, float]:
    found = {}
    for name, value in (("warning", warning), ("critical", critical)):
        parsed = number(value)
        if parsed is not None:
            found[name] = parsed
    return found


# --- what each check's details hold ------------------------------------------------------------


def _backup_size(finding: Row, details: Row) -> list[Sample]:
    value = number(details.get("newest_size"))
    return [] if value is None else [(finding["target"], value, {}, None)]


def _backup_age(finding: Row, details: Row) -> list[Sample]:
    value = number(details.get("newest_age_seconds"))
    return [] if value is None else [(finding["target"], value / 3600.0, {}, None)]


def _cert_days(finding: Row, details: Row) -> list[Sample]:
    value = number(details.get("days_remaining"))
    thresholds = _thresholds(details.get("warning_days"), details.get("critical_days"))
    return [] if value is None else [(finding["target"], value, thresholds, None)]


def _dead(key: str) -> Callable[[Row, Row], list[Sample]]:
    def extract(finding: Row, details: Row) -> list[Sample]:
        value = number(details.get(key))
        return [] if value is None else [(finding["target"], value, {}, None)]

    return extract


def _disk(finding: Row, details: Row) -> list[Sample]:
    value = number(details.get("used_percent"))
    if value is None:
        return []
    trend = details.get("forecast")
    return [
        (
            finding["target"],
            value,
            _thresholds(details.get("warning"), details.get("critical")),
            trend if isinstance(trend, dict) else None,
        )
    ]


def _log_rate(finding: Row, details: Row) -> list[Sample]:
    rate = details.get("rate")
    if not isinstance(rate, dict) or number(rate.get("per_seconds")) is None:
        return []
    worst = details.get("worst_window")
    # No match in the window is a rate of zero, which is a point worth drawing.
    value = 0.0 if worst is None else number(worst.get("count") if isinstance(worst, dict) else None)
    if value is None:
        return []
    limit = number(rate.get("count"))
    thresholds = {}
    if limit is not None:
        thresholds["critical" if rate.get("severity") == "critical" else "warning"] = limit
    return [(finding["target"], value, thresholds, {"per_seconds": number(rate.get("per_seconds"))})]


def _p95(finding: Row, details: Row) -> list[Sample]:
    value = number(details.get("p95_ms"))
    thresholds = _thresholds(details.get("p95_warning_ms"), details.get("p95_critical_ms"))
    return [] if value is None else [(finding["target"], value, thresholds, None)]


# metric: checks it is read from, its extraction, unit, the worse direction, whether a slope
# means anything (days left always fall by a day a day), and the least change over the span that
# counts: an absolute amount in the unit, and a share of the series' mean magnitude.
METRICS: dict[str, Row] = {
    "backup_size": {
        "checks": ("backup.verify",),
        "extract": _backup_size,
        "title": "Backup size",
        "unit": "bytes",
        "worse": "down",
        "slope": True,
        "min_change": 1024.0,
        "share": 0.1,
    },
    "backup_age": {
        "checks": ("backup.verify",),
        "extract": _backup_age,
        "title": "Age of the newest backup",
        "unit": "hours",
        "worse": "up",
        "slope": True,
        "min_change": 1.0,
        "share": 0.25,
    },
    "cert_days_left": {
        "checks": ("certificates.endpoint", "certificates.file"),
        "extract": _cert_days,
        "title": "Certificate days left",
        "unit": "days",
        "worse": "down",
        "slope": False,
        "min_change": 1.0,
        "share": 0.0,
        # Expired is past every threshold, whatever the run's were.
        "limits": (0.0,),
    },
    "dead_tuples_before": {
        "checks": ("postgres.vacuum",),
        "extract": _dead("n_dead_tup_before"),
        "title": "Dead tuples before maintenance",
        "unit": "tuples",
        "worse": "up",
        "slope": True,
        "min_change": 1000.0,
        "share": 0.2,
    },
    "dead_tuples_after": {
        "checks": ("postgres.vacuum",),
        "extract": _dead("n_dead_tup_after"),
        "title": "Dead tuples after maintenance",
        "unit": "tuples",
        "worse": "up",
        "slope": True,
        "min_change": 1000.0,
        "share": 0.2,
    },
    "disk_used": {
        "checks": ("resources.disk",),
        "extract": _disk,
        "title": "Disk use",
        "unit": "%",
        "worse": "up",
        "slope": True,
        "min_change": 2.0,
        "share": 0.0,
    },
    "log_rate": {
        "checks": ("logs.pattern",),
        "extract": _log_rate,
        "title": "Matches",
        "unit": "per hour",
        "worse": "up",
        "slope": True,
        "min_change": 3.0,
        "share": 0.2,
    },
    "p95_response": {
        "checks": ("logs.access.latency",),
        "extract": _p95,
        "title": "p95 response time",
        "unit": "ms",
        "worse": "up",
        "slope": True,
        "min_change": 20.0,
        "share": 0.2,
    },
}
_ORDER = {name: index for index, name in enumerate(METRICS)}
_BY_CHECK: dict[str, list[str]] = {}
for _name, _spec in METRICS.items():
    for _check in _spec["checks"]:
        _BY_CHECK.setdefault(_check, []).append(_name)


def _per_text(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds == size:
            return "per " + unit
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "per %d%s" % (seconds // size, unit)
    return "per %gs" % seconds


def _title(metric: str, host: str, target: str) -> str:
    if metric == "log_rate":
        head = "Failed logins" if target == "failed_logins" else "%s matches" % target
        return "%s on %s" % (head, host)
    return "%s of %s on %s" % (METRICS[metric]["title"], target, host)


# --- the series -----------------------------------------------------------------------------------


def samples_of_report(report: Any, now: datetime) -> tuple[Optional[datetime], list[tuple[str, Sample, str]]]:
    """(time, [(metric, sample, severity)]) of one report; no time when it has none usable or lies
    ahead of ``now`` by more than FUTURE_ALLOWANCE."""
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        return None, []
    when = parse_time(report.get("generated_at"))
    if when is None or when > now + FUTURE_ALLOWANCE:
        return None, []
    found = []
    for finding in report["findings"]:
        if not isinstance(finding, dict) or not isinstance(finding.get("details"), dict):
            continue
        if not isinstance(finding.get("target"), str):
            continue
        for metric in _BY_CHECK.get(str(finding.get("check")), ()):
            for sample in METRICS[metric]["extract"](finding, finding["details"]):
                found.append((metric, sample, str(finding.get("severity"))))
    return when, found


def _past(value: float, threshold: float, worse: str) -> bool:
    # As _findings.severity_for_value: strictly above (or below) a threshold reaches it.
    return value > threshold if worse == "up" else value < threshold


def is_worsening(
    points: list[tuple[float, float]], severities: list[str], thresholds: dict[str, float], metric: str
) -> bool:
    """Whether a series of ``(seconds, value)`` points (oldest first) is getting worse; never with
    fewer than 3 points."""
    if len(points) < 3:
        return False
    spec = METRICS[metric]
    worse = spec["worse"]
    earlier = points[:-1]
    last = points[-1][1]
    for threshold in list(thresholds.values()) + list(spec.get("limits", ())):
        if _past(last, threshold, worse) and not any(_past(v, threshold, worse) for _t, v in earlier):
            return True
    last_rank = severity_rank(severities[-1]) if severities[-1] in ("warning", "critical") else -1
    if last_rank >= 0 and all(severity_rank(s) < last_rank for s in severities[:-1] if s in _RANKED):
        return True
    if not spec["slope"]:
        return False
    fitted = linear_fit(points)
    span = points[-1][0] - points[0][0]
    if fitted is None or span <= 0:
        return False
    change = fitted * span
    if (change > 0) != (worse == "up") or change == 0:
        return False
    scale = sum(abs(v) for _t, v in points) / len(points)
    return abs(change) >= max(spec["min_change"], spec["share"] * scale)


def downsample(items: list[Any], limit: int = MAX_POINTS) -> list[Any]:
    """At most ``limit`` items chosen evenly, the first and the last always kept."""
    if len(items) <= limit:
        return list(items)
    if limit < 2:
        return items[-limit:] if limit > 0 else []
    step = (len(items) - 1) / float(limit - 1)
    return [items[int(round(i * step))] for i in range(limit)]


def _plain(value: float) -> Any:
    """An int when the value is whole (JSON and the page show 12, not 12.0), else 4 significant decimals."""
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return round(value, 4) if abs(value) < 1e15 else value


def disk_forecast(when: datetime, value: float, trend: Optional[Row], shown_days: float) -> list[list[Any]]:
    """The dashed line of a disk's forecast: from the last point at the fitted rate of resource_check,
    to full, or as far ahead as the history drawn (``shown_days``, at least a day, at most
    FORECAST_HORIZON_DAYS), whichever comes first: the line never dwarfs what was measured."""
    if not trend:
        return []
    per_day = number(trend.get("percent_per_day"))
    if per_day is None:
        return []
    days = min(FORECAST_HORIZON_DAYS, max(1.0, shown_days))
    to_full = number(trend.get("days_to_full"))
    if per_day > 0 and to_full is not None:
        days = min(days, to_full)
    if days <= 0:
        return []
    end = min(100.0, max(0.0, value + per_day * days))
    return [[iso(when), _plain(value)], [iso(when + timedelta(days=days)), _plain(round(end, 3))]]


def _build(metric: str, host: str, target: str, entries: list[tuple[datetime, float, str, Row, Optional[Row]]]) -> Row:
    entries.sort(key=lambda e: (e[0], severity_rank(e[2]) if e[2] in _RANKED else -1, e[1]))
    by_time: dict[datetime, tuple[datetime, float, str, Row, Optional[Row]]] = {}
    for entry in entries:
        by_time[entry[0]] = entry  # the same second twice: the worse of the two stays
    kept = list(by_time.values())
    seconds = [(e[0].timestamp(), e[1]) for e in kept]
    last_when, last_value, last_severity, thresholds, extra = kept[-1]
    unit = METRICS[metric]["unit"]
    if metric == "log_rate" and extra and extra.get("per_seconds"):
        unit = _per_text(extra["per_seconds"])
    return {
        "key": "%s|%s|%s" % (metric, host, target),
        "title": _title(metric, host, target),
        "unit": unit,
        "host": host,
        "target": target,
        "metric": metric,
        "points": [[iso(e[0]), _plain(e[1])] for e in downsample(kept)],
        "forecast": disk_forecast(last_when, last_value, extra, (last_when - kept[0][0]).total_seconds() / 86400.0)
        if metric == "disk_used"
        else [],
        "thresholds": dict((k, _plain(v)) for k, v in thresholds.items()),
        "worse": METRICS[metric]["worse"],
        "worsening": is_worsening(seconds, [e[2] for e in kept], thresholds, metric),
        "last": _plain(last_value),
        "severity": last_severity if last_severity in _RANKED else "ok",
    }


def series_from_reports(reports: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One series per metric, host and target from the kept run reports (any order), worst first:
    worsening, then by the latest point's severity, then metric, host and target; at most MAX_SERIES
    series of at most MAX_POINTS points (downsampled evenly, oldest first).

    Each series: key, title, unit, host, target, metric, points ``[[iso8601, value], ...]``,
    forecast (the disk's dashed line, else []), thresholds (warning and/or critical when the
    finding carries them), worse (``up`` or ``down``), worsening, last (the newest value) and
    severity (the newest finding's). Reports without a usable time, dated more than
    FUTURE_ALLOWANCE after ``now``, or values that are not finite numbers are left out.
    """
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    grouped: dict[tuple[str, str, str], list[tuple[datetime, float, str, Row, Optional[Row]]]] = {}
    for report in reports:
        when, samples = samples_of_report(report, now)
        host = report.get("host") if isinstance(report, dict) else None
        if when is None or not isinstance(host, str):
            continue
        seen = set()
        for metric, (target, value, thresholds, extra), severity in samples:
            # One value per metric and target per report: findings come worst first.
            if (metric, target) in seen:
                continue
            seen.add((metric, target))
            grouped.setdefault((metric, host, target), []).append((when, value, severity, thresholds, extra))
    series = [_build(metric, host, target, entries) for (metric, host, target), entries in grouped.items()]
    series.sort(
        key=lambda s: (
            not s["worsening"],
            -severity_rank(s["severity"]),
            _ORDER[s["metric"]],
            s["host"],
            s["target"],
        )
    )
    return series[:MAX_SERIES]
