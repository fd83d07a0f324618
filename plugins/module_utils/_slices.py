# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""One run summary from the summaries of the slices of a sliced AWX job, as a pure function.

AWX runs a job template with ``job_slice_count`` > 1 as one job per slice, each on its share
of the hosts, possibly on different execution nodes: the slices share no file system, and each
publishes its own run summary (``set_stats`` ``stronghold_report``, the summary of
fleet_report). The step after the slices combines those summaries into the run's one summary.
It refuses summaries that do not fit together: a host in two slices (the slices overlap), or
summaries of different runs.

The alert of the combined run needs the findings, not only their counts. A slice run with the
report role's ``report_slice: true`` sends no alert of its own and publishes, in its summary's
``slice`` key, its host entries with their findings compacted (``publish_slice_entries``: the
details left out, each summary cut, at most ``max_findings`` findings, the least severe cut
first and counted). The combining step (playbooks/combine.yml, the filters of
plugins/filter/slices.py) turns the slices' summaries back into the host entries of the whole
run (``slice_host_entries``), which alert_state and fleet_report take as they are, and into
findings about the combination itself (``slice_run_findings``: a slice that published nothing,
findings cut). ``combine_slice_summaries`` combines the counts only; it stays the reference
that the unit tests hold the combined run report to.
"""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    SEVERITIES,
    FindingError,
    make_finding,
    severity_at_least,
    severity_rank,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import (
    HOST_DOWN_CHECK,
    normalise_hosts,
)

# As fleet_report's summary: the problems it lists stay few, their total is kept.
MAX_PROBLEMS = 50
# What a slice publishes of each finding: AWX keeps every job's artifacts in its database.
SUMMARY_LIMIT = 200
DEFAULT_MAX_FINDINGS = 2000
# Beyond this a slice's summary is no longer a summary (about 100 MB of artifacts).
MAX_FINDINGS_LIMIT = 500000
SLICE_VERSION = 1
SLICE_CHECK = "report.slices"


def _problem_severity(line: str) -> int:
    # A problem line starts with its severity (fleet_report's problem_line).
    word = line.split(" ", 1)[0]
    return severity_rank(word) if word in SEVERITIES else 0


def combine_slice_summaries(summaries: list[dict[str, Any]], fail_on: str) -> dict[str, Any]:
    """The run summary of all slices: every host once, counts summed, the worst severity,
    the threshold judged again with ``fail_on``, the worst problems first.

    Raises FindingError when there is no summary, when the summaries name different runs, or
    when a host appears in more than one slice.
    """
    if not summaries:
        raise FindingError("no slice summary to combine")
    runs = sorted({str(summary.get("run", "")) for summary in summaries})
    if len(runs) != 1:
        raise FindingError("the slice summaries are of different runs: %s" % ", ".join(runs))
    hosts: dict[str, Any] = {}
    where: dict[str, int] = {}
    counts = dict.fromkeys(SEVERITIES, 0)
    checks: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    problems_total = 0
    total = 0
    for number, summary in enumerate(summaries, start=1):
        for host, entry in (summary.get("hosts") or {}).items():
            if host in hosts:
                raise FindingError(
                    "host %s is in slice %d and slice %d: the slices overlap" % (host, where[host], number)
                )
            hosts[host] = entry
            where[host] = number
        for severity in SEVERITIES:
            counts[severity] += int((summary.get("counts") or {}).get(severity, 0))
        for check, check_counts in (summary.get("checks") or {}).items():
            merged = checks.setdefault(check, dict.fromkeys(SEVERITIES, 0))
            for severity in SEVERITIES:
                merged[severity] += int(check_counts.get(severity, 0))
        total += int(summary.get("total", 0))
        problems += list(summary.get("problems") or [])
        problems_total += int(summary.get("problems_total", len(summary.get("problems") or [])))
    for merged in checks.values():
        merged["worst"] = worst_severity(s for s in SEVERITIES if merged[s])
    worst = worst_severity(s for s in SEVERITIES if counts[s])
    # sorted() is stable: within a severity, the slices' own order is kept.
    problems.sort(key=lambda line: -_problem_severity(line))
    return {
        "run": runs[0],
        "generated_at": max(str(summary.get("generated_at", "")) for summary in summaries),
        "worst_severity": worst,
        "threshold_reached": severity_at_least(worst, fail_on),
        "total": total,
        "counts": counts,
        "checks": checks,
        "hosts": hosts,
        "down_hosts": sorted(host for host, entry in hosts.items() if entry.get("status") == "down"),
        "problems": problems[:MAX_PROBLEMS],
        "problems_total": problems_total,
        "slices": [
            {
                "hosts": sorted((summary.get("hosts") or {})),
                "paths": summary.get("paths") or {},
                "alert": summary.get("alert") or {},
            }
            for summary in summaries
        ],
    }


# --- the slice's side: what it publishes -------------------------------------------------------


def _short(text: Any, limit: int = SUMMARY_LIMIT) -> str:
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    return "%s... (%d more characters)" % (line[:limit], len(line) - limit)


def _compact(finding: dict[str, Any]) -> dict[str, Any]:
    # A finding already validated (normalise_hosts), without its details, its summary cut.
    return {
        "check": finding["check"],
        "target": finding["target"],
        "severity": finding["severity"],
        "summary": _short(finding["summary"]),
    }


def read_max_findings(value: Any) -> int:
    """``max_findings`` as an int: 0 (nothing published but the hosts) up to MAX_FINDINGS_LIMIT."""
    if isinstance(value, bool):
        raise FindingError("max_findings must be a whole number, got %r" % value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise FindingError("max_findings must be a whole number, got %r" % value) from None
    if number < 0 or number > MAX_FINDINGS_LIMIT:
        raise FindingError("max_findings must be from 0 to %d, got %d" % (MAX_FINDINGS_LIMIT, number))
    return number


def publish_slice_entries(entries: Any, max_findings: Any = DEFAULT_MAX_FINDINGS) -> dict[str, Any]:
    """The ``slice`` key of a deferred slice's summary, from its host entries (fleet_hosts).

    Every host is kept, with its status and reports; its findings lose their details and have
    their summary cut. When there are more than ``max_findings`` findings, the least severe are
    cut first (ok, then info, ...; within a severity the last hosts' first) and counted per
    severity in ``findings_cut``. A down host's ``run.host`` finding is not published: the
    combining step makes it again from the status.
    """
    limit = read_max_findings(max_findings)
    published: list[dict[str, Any]] = []
    ranked: list[tuple[int, int, int]] = []
    # The same validation as the run report's and the alert's (the same host entries).
    for index, entry in enumerate(normalise_hosts(entries)):
        host, status = entry["host"], entry["status"]
        compact = [_compact(f) for f in entry["findings"] if not (status == "down" and f["check"] == HOST_DOWN_CHECK)]
        out: dict[str, Any] = {"host": host, "status": status, "findings": compact, "reports": entry["reports"]}
        if status == "down":
            out["reason"] = entry["reason"]
        if "timing" in entry:
            # The host's own time per check (stronghold.ops.timing), for the combined run report.
            out["timing"] = entry["timing"]
        published.append(out)
        ranked += [(severity_rank(f["severity"]), -index, position) for position, f in enumerate(compact)]
    cut = dict.fromkeys(SEVERITIES, 0)
    if len(ranked) > limit:
        ranked.sort()
        for _rank, negative_index, position in ranked[: len(ranked) - limit]:
            finding = published[-negative_index]["findings"][position]
            cut[finding["severity"]] += 1
            finding["cut"] = True
        for out in published:
            out["findings"] = [f for f in out["findings"] if not f.pop("cut", False)]
    return {
        "version": SLICE_VERSION,
        "hosts": [out["host"] for out in published],
        "entries": published,
        "findings_cut": cut,
        "max_findings": limit,
    }


# --- the combining step's side --------------------------------------------------------------


def _published(summary: Any) -> bool:
    """False for a slice that published nothing (its job failed before set_stats, or AWX has no
    artifacts for it): None or {}."""
    return isinstance(summary, dict) and bool(summary)


def _slice_part(number: int, summary: dict[str, Any]) -> dict[str, Any]:
    part = summary.get("slice")
    if not isinstance(part, dict) or not isinstance(part.get("entries"), list):
        raise FindingError(
            "the summary of slice %d has no host entries (slice.entries): its run alerted by itself; "
            "run every slice with report_slice: true so that the combining step sends the one alert" % number
        )
    if part.get("version") != SLICE_VERSION:
        raise FindingError(
            "the summary of slice %d is of version %r, this collection reads version %d"
            % (number, part.get("version"), SLICE_VERSION)
        )
    cut = part.get("findings_cut") or {}
    if not isinstance(cut, dict) or any(
        key not in SEVERITIES or isinstance(value, bool) or not isinstance(value, int) or value < 0
        for key, value in cut.items()
    ):
        raise FindingError("slice %d: findings_cut must map severities to counts, got %r" % (number, cut))
    return part


def _check_summaries(summaries: Any) -> list[tuple[int, dict[str, Any]]]:
    """The published summaries with their slice number (from 1), checked to be of one run."""
    if not isinstance(summaries, list):
        raise FindingError("the slice summaries must be a list, got %s" % type(summaries).__name__)
    if not summaries:
        raise FindingError("no slice summary to combine")
    for number, summary in enumerate(summaries, start=1):
        if summary is not None and not isinstance(summary, dict):
            raise FindingError("slice summary %d must be a mapping, got %s" % (number, type(summary).__name__))
    published = [(number, s) for number, s in enumerate(summaries, start=1) if _published(s)]
    if not published:
        raise FindingError("none of the %d slices published a summary: there is nothing to combine" % len(summaries))
    runs = sorted({str(summary.get("run", "")) for dummy, summary in published})
    if len(runs) != 1:
        raise FindingError("the slice summaries are of different runs: %s" % ", ".join(runs))
    return published


def slice_run(summaries: Any) -> str:
    """The run name the slices share."""
    return str(_check_summaries(summaries)[0][1].get("run", ""))


def slice_host_entries(summaries: Any) -> list[dict[str, Any]]:
    """The host entries of the whole run, from the slices' summaries, slice by slice.

    A slice that published nothing (None or {}) is skipped (slice_run_findings says so). Raises
    FindingError for summaries of different runs, a summary that is not a deferred slice's,
    and a host in two slices.
    """
    where: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    for number, summary in _check_summaries(summaries):
        try:
            # The same validation as the run report's and the alert's, slice by slice.
            checked = normalise_hosts(_slice_part(number, summary)["entries"])
        except FindingError as exc:
            raise FindingError("slice %d: %s" % (number, exc)) from exc
        for entry in checked:
            host = entry["host"]
            if host in where:
                raise FindingError(
                    "host %s is in slice %d and slice %d: the slices overlap" % (host, where[host], number)
                )
            where[host] = number
            down = entry["status"] == "down"
            combined = {
                "host": host,
                "status": entry["status"],
                # normalise_hosts put a down host's run.host first; the report makes it again.
                "findings": [
                    dict(f, details={}) for f in entry["findings"] if not (down and f["check"] == HOST_DOWN_CHECK)
                ],
                "reports": entry["reports"],
            }
            if entry["reason"]:
                combined["reason"] = entry["reason"]
            if "timing" in entry:
                combined["timing"] = entry["timing"]
            entries.append(combined)
    return entries


def _cut_text(cut: dict[str, Any]) -> str:
    return ", ".join("%d %s" % (int(cut[s]), s) for s in reversed(SEVERITIES) if int(cut.get(s) or 0))


def slice_run_findings(summaries: Any, names: Optional[list[Any]] = None) -> list[dict[str, Any]]:
    """Findings about the combination itself, for the run report's run row (none when all is well):

    * critical, per slice that published nothing: its hosts are in neither the report nor the alert;
    * per slice whose findings were cut to fit its summary: warning when warnings or criticals
      were cut (the alert did not see them), info when only ok and info findings were.

    ``names`` names the slices (AWX job ids, say) in the order of ``summaries``.
    """
    published = dict(_check_summaries(summaries))
    findings = []
    for number in range(1, len(summaries) + 1):
        name = str(names[number - 1]) if names and len(names) >= number else str(number)
        target = "slice %s" % name
        if number not in published:
            findings.append(
                make_finding(
                    SLICE_CHECK,
                    target,
                    "critical",
                    "slice %s published no run summary (did its job fail before its report?): "
                    "its hosts are in neither this run report nor its alert" % name,
                    {"slice": number},
                )
            )
            continue
        part = _slice_part(number, published[number])
        cut = part.get("findings_cut") or {}
        total = sum(int(cut.get(s) or 0) for s in SEVERITIES)
        if not total:
            continue
        severe = any(int(cut.get(s) or 0) for s in ("warning", "critical"))
        findings.append(
            make_finding(
                SLICE_CHECK,
                target,
                "warning" if severe else "info",
                "%d findings of slice %s (%s) were cut from its summary (report_slice_max_findings %s)%s; "
                "its per-host reports have them all"
                % (
                    total,
                    name,
                    _cut_text(cut),
                    part.get("max_findings", "?"),
                    ": the alert did not see them" if severe else "",
                ),
                {"slice": number, "cut": {s: int(cut.get(s) or 0) for s in SEVERITIES}},
            )
        )
    return findings
