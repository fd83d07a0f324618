# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Per-host timing, stragglers, the rerun hint and the fleet's failure threshold of a run report.

The collection's callback plugin (stronghold.ops.timing) publishes for each host the sum of its
OWN task durations (``wall_s``) and the same sum per check (the role of each task). With the
linear strategy every host waits for the slowest at each task, so the time at which a host
reaches its report is the same for all: only the sum of its own tasks tells hosts apart.

A host entry's ``timing`` is ``{"wall_s": float, "checks": {check: seconds}, "tasks": int}``;
an entry without it has no timing (the callback was not enabled, or the host was down before
its first task ended). Pure functions over plain data.
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, make_finding

STRAGGLER_CHECK = "report.stragglers"
FLEET_CHECK = "report.fleet"
# A straggler is slower than STRAGGLER_FACTOR times the median AND by more than STRAGGLER_MARGIN_S
# seconds, among at least STRAGGLER_MIN_HOSTS timed hosts: the factor ignores the noise of fast
# runs (0.4 s against 0.2 s is not news), the margin the noise of short ones, and with fewer than
# three hosts the median is one of the two and says nothing about "usual".
STRAGGLER_FACTOR = 2.0
STRAGGLER_MARGIN_S = 5.0
STRAGGLER_MIN_HOSTS = 3
# The most checks kept per host (the slowest): the summary that set_stats publishes stays small.
MAX_CHECKS = 50
TIMING_HINT = (
    "per-host timing not available: enable the stronghold.ops.timing callback (callbacks_enabled in ansible.cfg)"
)
# Host names that are safe as they are in a --limit pattern (no pattern syntax: , : ! & * ? [ ] ~ or spaces).
_PLAIN_HOST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FindingError("%s must be a number of seconds, got %r" % (what, value))
    number = float(value)
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise FindingError("%s must be a finite number of seconds >= 0, got %r" % (what, value))
    return round(number, 3)


def read_timing(host: str, timing: Any) -> Optional[dict[str, Any]]:
    """A host entry's ``timing`` validated (None when it has none); FindingError names the host."""
    if timing is None or timing == {}:
        return None
    if not isinstance(timing, dict):
        raise FindingError("the timing of host %r must be a mapping, got %s" % (host, type(timing).__name__))
    wall = _seconds(timing.get("wall_s"), "the timing of host %r: wall_s" % host)
    checks_in = timing.get("checks") or {}
    if not isinstance(checks_in, dict):
        raise FindingError("the timing of host %r: checks must be a mapping of check to seconds" % host)
    checks = {str(k): _seconds(v, "the timing of host %r: check %r" % (host, k)) for k, v in checks_in.items()}
    slowest = sorted(checks.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CHECKS]
    tasks = timing.get("tasks", 0)
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 0:
        raise FindingError("the timing of host %r: tasks must be a count >= 0, got %r" % (host, tasks))
    return {"wall_s": wall, "checks": dict(slowest), "tasks": tasks}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def is_straggler(wall: float, median_s: float) -> bool:
    """Slower than twice the median and by more than five seconds (see STRAGGLER_*)."""
    return wall > STRAGGLER_FACTOR * median_s and wall > median_s + STRAGGLER_MARGIN_S


def _slowest_check(checks: dict[str, float]) -> Optional[dict[str, Any]]:
    if not checks:
        return None
    name, seconds = sorted(checks.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return {"check": name, "seconds": seconds}


def timing_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's timing from host entries (each with an optional validated ``timing``).

    ``available`` is false when no host has timing (then ``note`` says how to get it); ``hosts``
    maps every timed host to its wall time; ``untimed`` lists the others (down before any task
    ended, or timing off). The slowest host is the one with the largest wall time (the first by
    name among equals), with its slowest check; ``stragglers`` are judged only among >= 3 timed hosts.
    """
    timed = {e["host"]: e["timing"] for e in entries if e.get("timing")}
    untimed = [e["host"] for e in entries if not e.get("timing")]
    if not timed:
        return {"available": False, "note": TIMING_HINT, "hosts": {}, "untimed": untimed, "stragglers": []}
    walls = {host: timing["wall_s"] for host, timing in timed.items()}
    median_s = round(median(list(walls.values())), 3)
    slowest = sorted(walls, key=lambda h: (-walls[h], h))[0]
    judged = len(walls) >= STRAGGLER_MIN_HOSTS
    stragglers = sorted((h for h in walls if judged and is_straggler(walls[h], median_s)), key=lambda h: (-walls[h], h))
    return {
        "available": True,
        "hosts": walls,
        "untimed": untimed,
        "median_s": median_s,
        "slowest": {"host": slowest, "wall_s": walls[slowest], "check": _slowest_check(timed[slowest]["checks"])},
        "stragglers": [
            {"host": h, "wall_s": walls[h], "ratio": round(walls[h] / median_s, 2) if median_s else None}
            for h in stragglers
        ],
        "judged": judged,
        "rule": "slower than %gx the median and by more than %g s, among at least %d timed hosts"
        % (STRAGGLER_FACTOR, STRAGGLER_MARGIN_S, STRAGGLER_MIN_HOSTS),
    }


def straggler_findings(summary: dict[str, Any], checks_of: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One V(info) C(report.stragglers) finding per straggler, naming its slowest check.

    Info, not warning: a slow host is worth a look in the report, but alerting on it every day
    (the default alert severity is warning) would page for what is often a busy neighbour."""
    findings = []
    for one in summary.get("stragglers", []):
        slowest = _slowest_check(checks_of.get(one["host"], {}))
        text = "took %.1f s, %sx the median of %.1f s over %d hosts" % (
            one["wall_s"],
            one["ratio"] if one["ratio"] is not None else "inf",
            summary["median_s"],
            len(summary["hosts"]),
        )
        if slowest:
            text += "; slowest check %s (%.1f s)" % (slowest["check"], slowest["seconds"])
        details = {"wall_s": one["wall_s"], "median_s": summary["median_s"], "rule": summary["rule"]}
        if slowest:
            details["slowest_check"] = slowest
        findings.append(make_finding(STRAGGLER_CHECK, one["host"], "info", text, details))
    return findings


def limit_pattern(host: str) -> str:
    """``host`` as one element of an Ansible host pattern that matches exactly that host.

    A plain name is itself; a name with pattern syntax (commas, colons, brackets, wildcards, ...)
    becomes an anchored regular expression (``~^...$``) whose every other character is a ``\\xHH``
    or ``\\uHHHH`` escape, so that nothing in it is read as pattern syntax."""
    if _PLAIN_HOST.match(host):
        return host
    escaped = []
    for char in host:
        if char.isascii() and (char.isalnum() or char in "_-"):
            escaped.append(char)
        elif ord(char) < 0x100:
            escaped.append("\\x%02x" % ord(char))
        elif ord(char) < 0x10000:
            escaped.append("\\u%04x" % ord(char))
        else:
            escaped.append("\\U%08x" % ord(char))
    return "~^%s$" % "".join(escaped)


def rerun_limit(hosts: list[str]) -> str:
    """The ``--limit`` argument that reruns exactly ``hosts``, quoted for a POSIX shell ("" when none)."""
    if not hosts:
        return ""
    return "--limit %s" % shlex.quote(",".join(limit_pattern(h) for h in hosts))


def check_max_fail_percentage(value: Any) -> int:
    """``value`` as an integer from 0 to 100; FindingError naming stronghold_max_fail_percentage otherwise."""
    number: Any = value
    if isinstance(value, str) and re.match(r"^\s*\d+\s*%?\s*$", value):
        number = int(value.strip().rstrip("%"))
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 100:
        raise FindingError(
            "stronghold_max_fail_percentage must be an integer from 0 to 100 (the percentage of hosts that may "
            "fail or be unreachable before the run is critical), got %r" % (value,)
        )
    return number


def fleet_threshold_finding(total: int, down: list[str], max_percent: int) -> Optional[dict[str, Any]]:
    """The critical C(report.fleet) finding when more than ``max_percent`` % of the ``total`` hosts are down.

    As Ansible's max_fail_percentage: crossed when down / total > max_percent / 100 (so 100 never is).
    """
    if total <= 0 or not down or len(down) * 100 <= max_percent * total:
        return None
    percent = round(100.0 * len(down) / total, 1)
    return make_finding(
        FLEET_CHECK,
        "fleet",
        "critical",
        "%d of %d hosts (%g%%) failed or were unreachable, more than stronghold_max_fail_percentage %d%%; rerun %s"
        % (len(down), total, percent, max_percent, rerun_limit(down)),
        {"down_hosts": list(down), "hosts": total, "percent": percent, "max_fail_percentage": max_percent},
    )
