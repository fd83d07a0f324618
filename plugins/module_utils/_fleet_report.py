# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The run report of fleet_report (all hosts of one run), as pure functions over plain data.

* ``check_options``: the module's parameters, validated;
* ``build_fleet_report``: the document (summary, host-by-check matrix, every finding by host);
* ``render_markdown``: the summary a person reads in a terminal or a mail;
* ``plan_fleet_write``: which files a run writes under ``<report_dir>/_fleet/<run>/`` and which
  older ones it removes; ``module_result``: what the module returns.

The HTML page is _fleet_html's; reading kept reports and drawing the trends are _trends_read's
and _trends'. Writing the files is the module's (atomically, through _files.atomic_write).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any, Callable, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    SEVERITIES,
    FindingError,
    count_by_severity,
    make_finding,
    severity_at_least,
    severity_rank,
    sort_findings,
    validate_finding,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import normalise_hosts
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_timing import (
    fleet_threshold_finding,
    rerun_limit,
    straggler_findings,
    timing_summary,
)
from ansible_collections.stronghold.ops.plugins.module_utils._report import (
    RUN_NAME,
    markdown_text,
    plan_files,
)

SCHEMA = "stronghold.ops/fleet-report/v1"
# The directory of the run report beside the per-host ones (<report_dir>/<host>/<run>/).
FLEET_DIR = "_fleet"
# The matrix row of the findings about the run itself (alert delivery, unreadable kept reports).
RUN_ROW = "(run)"
FORMATS = ("json", "markdown", "html")
# The summary that set_stats publishes stays small: AWX keeps it with every job.
MAX_PROBLEMS = 50
# A problem line longer than this is cut (the per-host report and the page keep the full text).
MAX_LINE = 300
# Beyond this many checks the Markdown matrix is cut (the HTML page has them all).
MARKDOWN_MAX_CHECKS = 30
# The critical finding of a task that failed and was rescued (roles/report/tasks/failure.yml).
FAILED_TASK_CHECK = "run.task"


def check_options(params: dict[str, Any]) -> None:
    """FindingError when the run, keep, trend_days or formats cannot make a report."""
    if not RUN_NAME.match(params["run"]):
        raise FindingError("run %r may only contain letters, digits, '.', '_' and '-'" % params["run"])
    if params["keep"] < 0:
        raise FindingError("keep must be 0 (keep all) or a positive number, got %d" % params["keep"])
    if params["trend_days"] < 0:
        raise FindingError(
            "trend_days must be 0 (no trends) or a positive number of days, got %d" % params["trend_days"]
        )
    if params["trend_days"] > 3660:
        raise FindingError("trend_days must be at most 3660 (ten years), got %d" % params["trend_days"])
    if not 0 <= params.get("max_fail_percentage", 100) <= 100:
        raise FindingError(
            "max_fail_percentage must be an integer from 0 to 100, got %d" % params["max_fail_percentage"]
        )
    if not params["formats"]:
        raise FindingError("formats must name at least one of %s" % ", ".join(FORMATS))


def read_hosts(hosts: Any) -> list[dict[str, Any]]:
    """The host entries (_fleet.normalise_hosts), refusing a host whose name is the fleet report's directory."""
    entries = normalise_hosts(hosts)
    for entry in entries:
        if entry["host"] in (FLEET_DIR, RUN_ROW):
            raise FindingError(
                "host %r is reserved: the fleet report is kept under <report_dir>/%s and its run row is named %s"
                % (entry["host"], FLEET_DIR, RUN_ROW)
            )
    return entries


def read_run_findings(findings: Any) -> list[dict[str, Any]]:
    """The findings about the run itself, validated and worst first."""
    if not isinstance(findings, list):
        raise FindingError("run_findings must be a list of findings, got %s" % type(findings).__name__)
    try:
        return sort_findings([validate_finding(f) for f in findings])
    except FindingError as exc:
        raise FindingError("run_findings: invalid finding: %s" % exc) from exc


def cut(text: Any, limit: int = MAX_LINE) -> str:
    """``text`` on one line, cut to ``limit`` characters with a note of how much was left out."""
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    return "%s... (%d more characters)" % (line[:limit], len(line) - limit)


def problem_line(host: str, finding: dict[str, Any]) -> str:
    """One problem as the summary lists it: ``severity host check target: summary`` (cut)."""
    return cut("%s %s %s %s: %s" % (finding["severity"], host, finding["check"], finding["target"], finding["summary"]))


def _rows(entries: list[dict[str, Any]], run_findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Matrix rows: down hosts first, then worst first, the run row first among equals, then by name."""
    rows = [
        {
            "host": entry["host"],
            "status": entry["status"],
            "reason": entry["reason"],
            "reports": entry["reports"],
            "findings": entry["findings"],
            "run_row": False,
        }
        for entry in entries
    ]
    if run_findings:
        rows.append(
            {"host": RUN_ROW, "status": "ok", "reason": "", "reports": {}, "findings": run_findings, "run_row": True}
        )
    for row in rows:
        row["worst_severity"] = worst_severity(row["findings"])
        row["counts"] = count_by_severity(row["findings"])
    rows.sort(key=lambda r: (r["status"] != "down", -severity_rank(r["worst_severity"]), not r["run_row"], r["host"]))
    return rows


def build_matrix(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The host-by-check matrix: ``checks`` worst first (then by how many hosts have a problem
    there, then by name) and, per row, ``cells`` {check: {worst, count, counts}} for the checks
    the host reported."""
    checks: dict[str, dict[str, Any]] = {}
    cells_of_rows = []
    for row in rows:
        cells: dict[str, dict[str, Any]] = {}
        for finding in row["findings"]:
            cell = cells.setdefault(finding["check"], {"counts": dict.fromkeys(SEVERITIES, 0), "count": 0})
            cell["counts"][finding["severity"]] += 1
            cell["count"] += 1
        for check, cell in cells.items():
            cell["worst"] = worst_severity(s for s in SEVERITIES if cell["counts"][s])
            column = checks.setdefault(check, {"worst": "ok", "problem_hosts": 0})
            column["worst"] = worst_severity([column["worst"], cell["worst"]])
            if severity_at_least(cell["worst"], "warning"):
                column["problem_hosts"] += 1
        cells_of_rows.append(cells)
    order = sorted(checks, key=lambda c: (-severity_rank(checks[c]["worst"]), -checks[c]["problem_hosts"], c))
    return {
        "checks": order,
        "rows": [
            {
                "host": row["host"],
                "status": row["status"],
                "run_row": row["run_row"],
                "worst_severity": row["worst_severity"],
                "cells": cells,
            }
            for row, cells in zip(rows, cells_of_rows)
        ],
    }


def _check_counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    for row in rows:
        for finding in row["findings"]:
            counts = checks.setdefault(finding["check"], dict.fromkeys(SEVERITIES, 0))
            counts[finding["severity"]] += 1
    for counts in checks.values():
        counts["worst"] = worst_severity(s for s in SEVERITIES if counts[s])
    return checks


def _host_report(reports: dict[str, str]) -> str:
    return reports.get("markdown") or reports.get("json") or next(iter(reports.values()), "")


def build_fleet_report(
    entries: list[dict[str, Any]],
    run_findings: list[dict[str, Any]],
    run: str,
    fail_on: str,
    metadata: dict[str, Any],
    alert: Optional[dict[str, Any]],
    now: datetime,
    trends: Optional[list[dict[str, Any]]] = None,
    max_fail_percentage: int = 100,
) -> dict[str, Any]:
    """The fleet report document as plain data, from normalised host entries (read_hosts) and
    validated run findings (read_run_findings). ``trends`` names the series drawn (key, title,
    host, worsening). The summary's ``paths`` are filled in by module_result.

    Hosts much slower than the median get an info C(report.stragglers) finding of their own
    (_fleet_timing); more than ``max_fail_percentage`` % of the hosts down adds a critical
    C(report.fleet) finding to the run's findings. A host is failed when it is down or has a
    C(run.task) finding (a task failed and was rescued); ``summary.rerun`` names the failed hosts
    with the C(--limit) that reruns them all."""
    timing = timing_summary(entries)
    stragglers = straggler_findings(timing, {e["host"]: e["timing"]["checks"] for e in entries if e.get("timing")})
    if stragglers:
        extra = {f["target"]: f for f in stragglers}
        entries = [
            dict(e, findings=sort_findings(e["findings"] + [extra[e["host"]]])) if e["host"] in extra else e
            for e in entries
        ]
    down_hosts = [entry["host"] for entry in entries if entry["status"] == "down"]
    # Failed: down (unreachable, or failed before its report), or a task of it failed and was
    # rescued (a run.task finding: a task timeout is one); what a rerun should cover.
    failed_hosts = [
        entry["host"]
        for entry in entries
        if entry["status"] == "down" or any(f["check"] == FAILED_TASK_CHECK for f in entry["findings"])
    ]
    threshold = fleet_threshold_finding(len(entries), failed_hosts, max_fail_percentage)
    if threshold is not None:
        run_findings = sort_findings(run_findings + [threshold])
    rows = _rows(entries, run_findings)
    everything = [f for row in rows for f in row["findings"]]
    worst = worst_severity(everything)
    # Worst first; within a severity, in matrix order (down hosts first) and each host's order.
    problem_pairs = [
        (row["host"], f) for row in rows for f in row["findings"] if severity_at_least(f["severity"], "warning")
    ]
    problem_pairs.sort(key=lambda pair: -severity_rank(pair[1]["severity"]))
    generated_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    timing_of = {e["host"]: e["timing"] for e in entries if e.get("timing")}
    summary = {
        "run": run,
        "generated_at": generated_at,
        "worst_severity": worst,
        "threshold_reached": severity_at_least(worst, fail_on),
        "total": len(everything),
        "counts": count_by_severity(everything),
        "checks": _check_counts(rows),
        "hosts": {
            entry["host"]: {
                "status": entry["status"],
                "worst_severity": worst_severity(entry["findings"]),
                "counts": count_by_severity(entry["findings"]),
                "report": _host_report(entry["reports"]),
            }
            for entry in entries
        },
        "down_hosts": sorted(down_hosts),
        "rerun": {"hosts": failed_hosts, "limit": rerun_limit(failed_hosts)} if failed_hosts else {},
        "max_fail_percentage": max_fail_percentage,
        "timing": timing,
        "problems": [problem_line(host, f) for host, f in problem_pairs[:MAX_PROBLEMS]],
        "problems_total": len(problem_pairs),
        "paths": {},
    }
    return {
        "schema": SCHEMA,
        "generated_at": generated_at,
        "run": run,
        "fail_on": fail_on,
        "threshold_reached": summary["threshold_reached"],
        "summary": summary,
        "metadata": metadata,
        "alert": alert or {},
        "trends": trends or [],
        "matrix": build_matrix(rows),
        "hosts": [
            {
                "host": row["host"],
                "status": row["status"],
                "reason": row["reason"],
                "reports": row["reports"],
                "worst_severity": row["worst_severity"],
                "counts": row["counts"],
                "findings": row["findings"],
                "timing": timing_of.get(row["host"]),
            }
            for row in rows
            if not row["run_row"]
        ],
        "run_findings": run_findings,
    }


TREND_CHECK = "report.trends"


def trend_entry(series: dict[str, Any]) -> dict[str, Any]:
    """What the report keeps of a series drawn (_trends.series_from_reports): its name and whether it worsens."""
    key = str(series.get("key") or series.get("name") or series.get("title") or "series")
    entry = {"key": key, "title": str(series.get("title") or key), "worsening": bool(series.get("worsening"))}
    for name in ("host", "unit"):
        if series.get(name):
            entry[name] = str(series[name])
    return entry


def _problem_path(problem: str, report_dir: str) -> tuple[str, str]:
    """(path, message) of a problem ``"<path under report_dir>: <message>"``; (report_dir, problem) otherwise."""
    if report_dir and problem.startswith(report_dir.rstrip("/") + "/"):
        path, sep, message = problem.partition(": ")
        if sep and message:
            return path, message
    return report_dir, problem


def trend_findings(problems: list[Any], report_dir: str) -> list[dict[str, Any]]:
    """One V(info) finding per kept report that could not be read (_trends_read's problems):
    a trend that cannot be drawn never fails the run report."""
    findings = []
    for problem in problems:
        if isinstance(problem, dict):
            target = str(problem.get("path") or report_dir)
            message = str(problem.get("message") or problem.get("summary") or problem.get("error") or problem)
        else:
            target, message = _problem_path(str(problem), report_dir)
        findings.append(make_finding(TREND_CHECK, target, "info", cut("kept report not used for trends: %s" % message)))
    return findings


# --- Markdown ---------------------------------------------------------------------------------

_SHORT = {"ok": "ok", "info": "info", "warning": "WARN", "critical": "CRIT"}


def _link(text: str, path: str, start: str) -> str:
    """A Markdown link to ``path``, relative to the directory ``start`` when both are absolute."""
    target = os.path.relpath(path, start) if os.path.isabs(path) and os.path.isabs(start) else path
    destination = target.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>").replace("\n", " ")
    return "[%s](<%s>)" % (markdown_text(text), destination)


def _md_cut(text: Any, limit: int = MAX_LINE) -> str:
    return markdown_text(cut(text, limit))


ALERT_CHECK = "alert.delivery"


def describe_alert(alert: dict[str, Any], run_findings: Optional[list[dict[str, Any]]] = None) -> tuple[str, str]:
    """What became of the run's alert, as (severity, one line).

    The run's C(alert.delivery) findings decide when there are any (one per channel tried: ok when
    delivered); otherwise the ``alert`` mapping does (``errors``/``error``, ``delivered``, ``notify``)."""
    deliveries = [f for f in run_findings or [] if f["check"] == ALERT_CHECK]
    failed = [f for f in deliveries if severity_at_least(f["severity"], "warning")]
    through = [f["target"] for f in deliveries if f["severity"] == "ok"]
    if failed:
        text = "NOT delivered: %s" % "; ".join(cut(f["summary"], 200) for f in failed)
        return ("warning" if through else "critical"), text
    if through:
        return "ok", "delivered by %s" % ", ".join(through)
    if deliveries:
        return "info", "; ".join(cut(f["summary"], 200) for f in deliveries)
    if not alert:
        return "info", "no alert step ran"
    errors = alert.get("errors") or alert.get("error") or alert.get("undelivered")
    delivered = alert.get("delivered")
    if isinstance(delivered, (list, tuple)):
        delivered_text = ", ".join(str(d) for d in delivered)
    else:
        delivered_text = "" if delivered in (None, False, "") else str(delivered)
    if errors:
        text = "NOT delivered (%s)" % cut(json.dumps(errors, default=str) if not isinstance(errors, str) else errors)
        if delivered_text:
            text += "; delivered: %s" % delivered_text
        return "critical", text
    if delivered_text:
        return "ok", "delivered: %s" % delivered_text
    if alert.get("notify") is False:
        return "info", "nothing new: no alert was due"
    if alert.get("sent") is False or delivered is not None:
        return "info", "nothing sent"
    return "info", "planned, delivery not reported"


def _scalar(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _markdown_matrix(matrix: dict[str, Any]) -> list[str]:
    checks = matrix["checks"][:MARKDOWN_MAX_CHECKS]
    if not checks:
        return ["No checks reported."]
    lines = [
        "| host | %s |" % " | ".join(markdown_text(c) for c in checks),
        "| --- |%s" % (" --- |" * len(checks)),
    ]
    for row in matrix["rows"]:
        name = markdown_text(row["host"]) + (" (down)" if row["status"] == "down" else "")
        cells = []
        for check in checks:
            cell = row["cells"].get(check)
            cells.append("%s %d" % (_SHORT[cell["worst"]], cell["count"]) if cell else "")
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    hidden = len(matrix["checks"]) - len(checks)
    if hidden:
        lines.extend(
            ["", "%d more checks are in the HTML page (the matrix shows the %d worst)." % (hidden, len(checks))]
        )
    return lines


# The Markdown timing table lists this many hosts, slowest first (the JSON and the page have all).
MARKDOWN_MAX_TIMED = 20


def timing_line(timing: dict[str, Any]) -> str:
    """One line on the run's timing: the slowest host and check, the median, the stragglers."""
    if not timing["available"]:
        return str(timing["note"])
    slowest = timing["slowest"]
    line = "Slowest host %s: %.1f s" % (slowest["host"], slowest["wall_s"])
    if slowest["check"]:
        line += ", slowest check %s (%.1f s)" % (slowest["check"]["check"], slowest["check"]["seconds"])
    timed = len(timing["hosts"])
    line += "; median %.1f s over %d timed host%s" % (timing["median_s"], timed, "" if timed == 1 else "s")
    if timing["stragglers"]:
        line += "; much slower than the median: %s" % ", ".join(
            "%s (%.1f s)" % (s["host"], s["wall_s"]) for s in timing["stragglers"]
        )
    elif timing["judged"]:
        line += "; no host much slower than the median"
    if timing["untimed"]:
        line += "; no timing for %s" % ", ".join(timing["untimed"])
    return line + "."


def _markdown_timing(timing: dict[str, Any]) -> list[str]:
    lines = ["## Time per host", "", markdown_text(cut(timing_line(timing), 2000)), ""]
    if not timing["available"]:
        return lines
    flagged = {s["host"] for s in timing["stragglers"]}
    order = sorted(timing["hosts"], key=lambda h: (-timing["hosts"][h], h))
    lines.extend(["| host | wall time (s) | |", "| --- | --- | --- |"])
    for host in order[:MARKDOWN_MAX_TIMED]:
        lines.append(
            "| %s | %.1f | %s |"
            % (markdown_text(host), timing["hosts"][host], "much slower than the median" if host in flagged else "")
        )
    if len(order) > MARKDOWN_MAX_TIMED:
        lines.append("")
        lines.append("%d more hosts in the JSON and the HTML page." % (len(order) - MARKDOWN_MAX_TIMED))
    lines.append("")
    return lines


def render_markdown(report: dict[str, Any], directory: str = "") -> str:
    """The fleet summary: verdict, counts, the matrix, problems, hosts down, per-host reports, the alert.

    ``directory`` is where the file goes; links to the per-host reports are relative to it."""
    summary = report["summary"]
    worst = summary["worst_severity"]
    metadata = report["metadata"]
    lines = [
        "# %s run on %d host%s: %s"
        % (
            markdown_text(report["run"]),
            len(summary["hosts"]),
            "" if len(summary["hosts"]) == 1 else "s",
            worst.upper(),
        ),
        "",
        "Generated %s. Fails the run from: %s. Threshold reached: %s."
        % (report["generated_at"], report["fail_on"], "yes" if report["threshold_reached"] else "no"),
    ]
    facts = [
        "%s: %s" % (markdown_text(k), _md_cut(_scalar(metadata[k])))
        for k in ("playbook", "awx_job_id", "check_mode")
        if k in metadata
    ]
    if facts:
        lines.extend(["", "; ".join(facts) + "."])
    lines.extend(["", "| severity | count |", "| --- | --- |"])
    for name in reversed(SEVERITIES):
        lines.append("| %s | %d |" % (name, summary["counts"][name]))
    lines.extend(["", "## Hosts by check", ""])
    lines.extend(_markdown_matrix(report["matrix"]))
    lines.append("")
    if summary["down_hosts"]:
        lines.extend(["## Hosts down", ""])
        for host in report["hosts"]:
            if host["status"] == "down":
                lines.append(
                    "- **%s**: %s" % (markdown_text(host["host"]), _md_cut(host["reason"] or "failed or unreachable"))
                )
        lines.append("")
    if summary["rerun"]:
        lines.extend(
            [
                "Rerun the failed hosts (%s): `ansible-playbook <playbook> %s`"
                % (markdown_text(", ".join(summary["rerun"]["hosts"])), summary["rerun"]["limit"]),
                "",
            ]
        )
    if summary["problems"]:
        lines.extend(["## Act on these first", ""])
        lines.extend("- %s" % markdown_text(p) for p in summary["problems"])
        if summary["problems_total"] > len(summary["problems"]):
            lines.append(
                "- ... and %d more (see the HTML page)" % (summary["problems_total"] - len(summary["problems"]))
            )
        lines.append("")
    elif summary["total"]:
        lines.extend(["No warning or critical finding.", ""])
    else:
        lines.extend(["No findings: nothing was checked in this run.", ""])
    alert = report["alert"]
    if alert or any(f["check"] == ALERT_CHECK for f in report["run_findings"]):
        severity, verdict = describe_alert(alert, report["run_findings"])
        lines.extend(
            [
                "## Alert",
                "",
                "- delivery: %s%s"
                % ("**%s** " % severity.upper() if severity in ("warning", "critical") else "", markdown_text(verdict)),
            ]
        )
        for key in ("subject", "recipients", "counts"):
            if key in alert:
                lines.append("- %s: %s" % (key, _md_cut(_scalar(alert[key]))))
        lines.append("")
    lines.extend(_markdown_timing(summary["timing"]))
    with_reports = [h for h in report["hosts"] if h["reports"]]
    if with_reports:
        lines.extend(["## Per-host reports", ""])
        for host in with_reports:
            links = [_link(kind, host["reports"][kind], directory) for kind in sorted(host["reports"])]
            lines.append("- %s (%s): %s" % (markdown_text(host["host"]), host["worst_severity"], ", ".join(links)))
        lines.append("")
    if report["trends"]:
        worse = [t for t in report["trends"] if t.get("worsening")]
        lines.extend(["## Trends", ""])
        lines.append(
            "%d series drawn in the HTML page%s"
            % (len(report["trends"]), "; getting worse:" if worse else ", none getting worse.")
        )
        lines.extend("- %s" % _md_cut(t.get("title") or t.get("key")) for t in worse)
        lines.append("")
    if metadata:
        lines.extend(["## Run", ""])
        lines.extend("- %s: %s" % (markdown_text(k), _md_cut(_scalar(metadata[k]))) for k in sorted(metadata))
        lines.append("")
    return "\n".join(lines)


# --- files ------------------------------------------------------------------------------------


def plan_fleet_write(
    report: dict[str, Any],
    directory: str,
    existing: list[str],
    formats: list[str],
    keep: int,
    now: datetime,
    render_html: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """What one run writes: ``documents`` (text by format), ``paths`` (the run's files and the
    C(latest) copies) and ``removed`` (older runs beyond ``keep``), from the names ``existing``
    in ``directory``. The summary's ``paths`` are set before any document is rendered."""
    paths, removed = plan_files(directory, existing, [k for k in FORMATS if k in formats], keep, now)
    report["summary"]["paths"] = {kind: paths[kind] for kind in ("markdown", "html", "json") if kind in paths}
    documents: dict[str, str] = {}
    if "json" in formats:
        # Compact: the document holds every finding of every host (megabytes for a large fleet), and
        # json's C encoder, several times faster than the indenting one, only writes it compact.
        documents["json"] = json.dumps(report, sort_keys=True, default=str, separators=(",", ":")) + "\n"
    if "markdown" in formats:
        documents["markdown"] = render_markdown(report, directory) + "\n"
    if "html" in formats:
        documents["html"] = render_html(report)
    return {"documents": documents, "paths": paths, "removed": removed}


def module_result(report: dict[str, Any], plan: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """What fleet_report returns for ``report`` written as ``plan`` says; ``findings`` are the
    module's own (kept reports it could not read)."""
    return {
        "changed": True,
        "paths": plan["paths"],
        "summary": report["summary"],
        "worst_severity": report["summary"]["worst_severity"],
        "threshold_reached": report["threshold_reached"],
        "trends": [t["key"] for t in report["trends"]],
        "removed": plan["removed"],
        "findings": findings,
    }
