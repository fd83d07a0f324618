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

Issue 14 groundwork: nothing calls this yet (docs/issue-14-plan.md, section 3, item 2).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    SEVERITIES,
    FindingError,
    severity_at_least,
    severity_rank,
    worst_severity,
)

# As fleet_report's summary: the problems it lists stay few, their total is kept.
MAX_PROBLEMS = 50


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
