# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The findings model shared by every check of the collection.

A finding is a plain dict ``{check, target, severity, summary, details}``. Severities are
ordered ``ok < info < warning < critical``. Thresholds are user options, so this file also
parses the human forms they come in: durations (``26h``), sizes (``10G``) and percentages
(``85%``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Optional, Union

SEVERITIES = ("ok", "info", "warning", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# "never" is accepted wherever a severity threshold decides whether something fails or alerts.
FAIL_ON_CHOICES = ("critical", "warning", "info", "never")

FINDING_KEYS = ("check", "target", "severity", "summary", "details")

# A finding: {check, target, severity, summary, details} (validate_finding says what each holds).
Finding = dict[str, Any]
Number = Union[int, float]


class FindingError(ValueError):
    """A finding, severity or threshold value is malformed."""


def severity_rank(severity: Any) -> int:
    """Return the rank of a severity name (ok=0 .. critical=3)."""
    try:
        return _RANK[severity]
    except (KeyError, TypeError) as exc:
        raise FindingError("unknown severity %r: expected one of %s" % (severity, ", ".join(SEVERITIES))) from exc


def _severity_of(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("severity")
    return item


def worst_severity(items: Optional[Iterable[Any]]) -> str:
    """Return the worst severity among findings (dicts) or severity names; ``ok`` when empty."""
    worst = "ok"
    for item in items or ():
        severity = _severity_of(item)
        if severity_rank(severity) > _RANK[worst]:
            worst = severity
    return worst


def severity_at_least(severity: Any, threshold: Any) -> bool:
    """True when ``severity`` reaches ``threshold``; a threshold of ``never`` is never reached."""
    if threshold == "never":
        return False
    return severity_rank(severity) >= severity_rank(threshold)


def make_finding(
    check: str, target: str, severity: str, summary: str, details: Optional[dict[str, Any]] = None
) -> Finding:
    """Build a validated finding."""
    return validate_finding(
        {"check": check, "target": target, "severity": severity, "summary": summary, "details": details}
    )


def validate_finding(finding: Any) -> Finding:
    """Return a normalised copy of ``finding`` or raise FindingError saying what is wrong."""
    if not isinstance(finding, dict):
        raise FindingError("a finding must be a mapping, got %s" % type(finding).__name__)
    unknown = sorted(set(finding) - set(FINDING_KEYS))
    if unknown:
        raise FindingError("a finding has unknown keys: %s" % ", ".join(unknown))
    for key in ("check", "target", "summary"):
        value = finding.get(key)
        if not isinstance(value, str) or not value.strip():
            raise FindingError("a finding needs a non-empty string %r (got %r)" % (key, value))
    severity_rank(finding.get("severity"))
    details = finding.get("details")
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise FindingError("the details of finding %r must be a mapping" % finding["check"])
    return {
        "check": finding["check"],
        "target": finding["target"],
        "severity": finding["severity"],
        "summary": finding["summary"],
        "details": details,
    }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first; stable within a severity so the order of the checks is kept."""
    return sorted(findings, key=lambda f: -severity_rank(f["severity"]))


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings there are of each severity, every severity present."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding["severity"]] += 1
    return counts


# --- thresholds -----------------------------------------------------------------------------


def severity_for_value(value: Any, warning: Any = None, critical: Any = None, direction: str = "above") -> str:
    """Classify a measurement against optional warning/critical thresholds.

    ``direction=above``: worse when larger (disk usage, response time); a value strictly above
    a threshold reaches it, as the runbook says "> 85 %". ``direction=below``: worse when
    smaller (days left on a certificate); strictly below reaches it.
    """
    if direction not in ("above", "below"):
        raise FindingError("direction must be 'above' or 'below', got %r" % (direction,))
    measured = _number(value, "value")
    warning = None if warning is None else _number(warning, "warning")
    critical = None if critical is None else _number(critical, "critical")
    if warning is not None and critical is not None:
        if direction == "above" and warning > critical:
            raise FindingError("warning threshold %s is above the critical threshold %s" % (warning, critical))
        if direction == "below" and warning < critical:
            raise FindingError("warning threshold %s is below the critical threshold %s" % (warning, critical))

    def reached(threshold: Optional[float]) -> bool:
        if threshold is None:
            return False
        return measured > threshold if direction == "above" else measured < threshold

    if reached(critical):
        return "critical"
    if reached(warning):
        return "warning"
    return "ok"


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise FindingError("%s must be a number, got a boolean" % name)
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            number = float(str(value).strip())
    except ValueError as exc:
        raise FindingError("%s must be a number, got %r" % (name, value)) from exc
    except OverflowError as exc:
        raise FindingError("%s is too large: %s" % (name, _shown(value))) from exc
    if math.isnan(number) or math.isinf(number):
        raise FindingError("%s must be a finite number, got %s" % (name, _shown(value)))
    return number


def bounded_number(
    value: Any,
    name: str,
    minimum: Optional[Number] = None,
    maximum: Optional[Number] = None,
    above: Optional[Number] = None,
) -> float:
    """``value`` as a finite float within the bounds, or FindingError naming the option.

    Options declared ``type: float`` accept ``nan`` and ``inf`` from YAML and the command
    line; compared with ``<`` or ``>``, NaN passes every check, and an infinite or huge timeout
    overflows the socket or clock call it reaches. Every float option is checked here.
    ``above`` is an exclusive lower bound, ``minimum`` and ``maximum`` inclusive ones.
    """
    number = _number(value, name)
    if above is not None and not number > above:
        raise FindingError("%s must be greater than %s, got %s" % (name, _plain(above), _shown(value)))
    if minimum is not None and number < minimum:
        raise FindingError("%s must be at least %s, got %s" % (name, _plain(minimum), _shown(value)))
    if maximum is not None and number > maximum:
        raise FindingError("%s must be at most %s, got %s" % (name, _plain(maximum), _shown(value)))
    return number


def _plain(number: Number) -> str:
    return ("%d" % number) if float(number).is_integer() else ("%s" % number)


_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")

# No threshold, timeout or budget of an operations job is meaningfully longer than a century;
# a larger value is a typo (or "inf", "1e999") that would overflow datetime and timedelta
# arithmetic, or integer conversions, deep inside a module instead of failing at input.
MAX_DURATION = 100 * 365.25 * 86400
# The largest size a signed 64-bit byte count (off_t, PostgreSQL's int8 sizes) can hold.
MAX_SIZE = 2**63 - 1


def _shown(value: Any) -> str:
    """repr() of a user's value, shortened: a 400-digit typo need not be echoed in full."""
    text = repr(value)
    return text if len(text) <= 40 else text[:30] + "..." + text[-6:]


def _finite(number: Any, value: Any, what: str) -> float:
    """``number`` as a float, refused when it is NaN or infinite (``value`` is what the user wrote)."""
    try:
        result = float(number)
    except OverflowError as exc:
        # int(10 ** 400) and the like: beyond every float, so beyond every limit.
        raise FindingError("%s %s is too large" % (what, _shown(value))) from exc
    if math.isnan(result):
        raise FindingError("%s cannot be NaN: %s" % (what, _shown(value)))
    if math.isinf(result):
        raise FindingError("%s must be finite, got %s" % (what, _shown(value)))
    return result


def _limit(maximum: Optional[Number], default: float, what: str) -> float:
    if maximum is None:
        return default
    return min(_finite(maximum, maximum, "the maximum of a " + what), default)


def parse_duration(value: Any, maximum: Optional[Number] = None) -> float:
    """Seconds (float) from ``90``, ``"90s"``, ``"26h"``, ``"1d12h"``, ``"1h 30m"``, ``"500ms"``.

    A bare number is seconds. Negative, NaN, infinite and absurd durations (beyond
    ``maximum`` seconds, at most a hundred years) are refused with a FindingError naming the
    value.
    """
    limit = _limit(maximum, MAX_DURATION, "duration")
    if isinstance(value, bool):
        raise FindingError("a duration must be a number of seconds or a string such as '26h', got a boolean")
    if isinstance(value, (int, float)):
        seconds = _finite(value, value, "a duration")
    else:
        seconds = _duration_text(value)
    if seconds < 0:
        raise FindingError("a duration cannot be negative: %r" % (value,))
    if seconds > limit:
        raise FindingError("the duration %s is too long: at most %s" % (_shown(value), _say_seconds(limit)))
    return seconds + 0.0  # -0.0 ("-0") reads as 0


def _duration_text(value: Any) -> float:
    text = str(value).strip().lower()
    if not text:
        raise FindingError("a duration cannot be empty")
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        # "inf", "nan", "1e999" and "-0" all parse as floats.
        return _finite(number, value, "a duration")
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(text):
        if text[position : match.start()].strip():
            break
        unit = match.group(2)
        if unit not in _DURATION_UNITS:
            raise FindingError("unknown duration unit %r in %r (use ms, s, m, h, d or w)" % (unit, value))
        total += _finite(match.group(1), value, "a duration") * _DURATION_UNITS[unit]
        position = match.end()
    if position == 0 or text[position:].strip():
        raise FindingError("cannot read %s as a duration (examples: 90s, 15m, 26h, 1d12h)" % _shown(value))
    return _finite(total, value, "a duration")


def _say_seconds(seconds: float) -> str:
    if seconds >= 365.25 * 86400:
        return "%g years" % round(seconds / (365.25 * 86400), 2)
    if seconds >= 86400:
        return "%g days" % round(seconds / 86400, 2)
    return "%g seconds" % round(seconds, 3)


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)$")
_SIZE_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_size(value: Any, maximum: Optional[Number] = None) -> int:
    """Bytes (int) from ``1024``, ``"512K"``, ``"10G"``, ``"10GiB"``, ``"1.5T"``, ``"10GB"``.

    A bare unit letter and the ``iB`` forms are binary (1024), as ``df -h`` and ``du -h``
    print them; the SI forms with a ``B`` (``kB``, ``MB``, ``GB``) are decimal (1000).
    Negative, NaN, infinite sizes and sizes above ``maximum`` bytes (at most 2**63-1) are
    refused with a FindingError naming the value.
    """
    limit = MAX_SIZE if maximum is None else min(int(_finite(maximum, maximum, "the maximum of a size")), MAX_SIZE)
    if isinstance(value, bool):
        raise FindingError("a size must be a number of bytes or a string such as '10G', got a boolean")
    size: Number
    if isinstance(value, int):
        size = value
    elif isinstance(value, float):
        size = _finite(value, value, "a size")
    else:
        text = str(value).strip().lower()
        match = _SIZE.match(text)
        if not match:
            raise FindingError("cannot read %s as a size (examples: 512M, 10G, 10GiB, 1.5T)" % _shown(value))
        number, prefix, binary, byte = match.groups()
        base = 1000 if (byte and not binary and prefix) else 1024
        if binary and not prefix:
            raise FindingError("cannot read %s as a size (examples: 512M, 10G, 10GiB, 1.5T)" % _shown(value))
        if "." in number:
            size = _finite(_finite(number, value, "a size") * base ** _SIZE_POWER[prefix], value, "a size")
        else:
            # Exact integer arithmetic: as a float, 2**63-1 would round up past the limit.
            size = int(number) * base ** _SIZE_POWER[prefix]
    if size < 0:
        raise FindingError("a size cannot be negative: %r" % (value,))
    if size > limit:
        raise FindingError("the size %s is too large: at most %d bytes" % (_shown(value), limit))
    return int(size)


def parse_percent(value: Any) -> float:
    """A percentage in [0, 100] from ``85``, ``85.5`` or ``"85%"``."""
    if isinstance(value, bool):
        raise FindingError("a percentage must be a number, got a boolean")
    text = value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            text = text[:-1].strip()
    number = _number(text, "percentage")
    if not 0 <= number <= 100:
        raise FindingError("a percentage must lie between 0 and 100, got %r" % (value,))
    return number


def findings_of_result(result: Any, check: str, target: str, what: str, skipped: Optional[str] = None) -> list[Finding]:
    """The findings a role publishes for one module task, whatever became of the task.

    ``result`` is the registered result, or ``ansible_failed_result`` kept by a rescue:
    * none, empty or skipped: the task did not run because nothing was configured; no finding,
      or one V(info) finding saying ``skipped`` when it is given;
    * with ``findings``: those findings; when the task failed and none of them is critical, a
      critical finding with the failure is added, so a failed task never reads as healthy;
    * without ``findings``: one critical finding, ``"<what> did not run: <msg>"``.
    """
    if not result or (isinstance(result, dict) and result.get("skipped")):
        return [make_finding(check, target, "info", skipped)] if skipped else []
    if not isinstance(result, dict):
        raise FindingError("the result of %s must be a mapping, got %s" % (what, type(result).__name__))
    msg = str(result.get("msg") or "no result")
    failed = bool(result.get("failed"))
    found = result.get("findings")
    if not isinstance(found, list):
        return [make_finding(check, target, "critical", "%s did not run: %s" % (what, msg))]
    findings = [validate_finding(item) for item in found]
    if failed and not any(item["severity"] == "critical" for item in findings):
        findings.append(make_finding(check, target, "critical", "%s failed: %s" % (what, msg)))
    return findings


def median(values: Iterable[Number]) -> Optional[float]:
    """The median of ``values`` as a float, or None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def linear_fit(points: Iterable[tuple[float, float]]) -> Optional[float]:
    """Least-squares slope (value per time unit) of ``(time, value)`` points; None when undefined
    (fewer than two points, all at one time, or a slope too large to be finite)."""
    points = list(points)
    if len(points) < 2:
        return None
    n = float(len(points))
    mean_t = sum(p[0] for p in points) / n
    mean_v = sum(p[1] for p in points) / n
    spread = sum((p[0] - mean_t) ** 2 for p in points)
    if spread <= 0:
        return None
    fitted = sum((p[0] - mean_t) * (p[1] - mean_v) for p in points) / spread
    return fitted if math.isfinite(fitted) else None
