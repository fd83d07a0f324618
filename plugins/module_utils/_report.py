# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The run report of run_report, as pure functions over plain data (unit tested without touching disk).

* ``check_options``: the module's parameters, validated;
* ``build_report`` and ``render_markdown``: the documents;
* ``plan_write``: which files a run writes and which older ones it removes (``plan_retention``).

Writing the files is the module's (atomically, through _files.atomic_write).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    SEVERITIES,
    FindingError,
    count_by_severity,
    severity_at_least,
    sort_findings,
    validate_finding,
    worst_severity,
)

SCHEMA = "stronghold.ops/run-report/v1"
# Shared with fleet_report (the run report) and _trends_read (the kept reports).
RUN_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# A run is named by its UTC time stamp, with a counter when two runs share a second; groups:
# the run's base name, its stamp, its counter, the file's kind.
STAMPED = re.compile(r"^((\d{8}T\d{6}Z)(?:-(\d+))?)\.(json|md|html)$")
# Underscores stay: CommonMark does not emphasise inside words (health_check).
_MARKDOWN_ESCAPE = re.compile(r"([\\`*|<>\[\]])")


def build_report(
    findings: list[Any], host: str, run: str, fail_on: str, metadata: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The report document as plain data (pure: unit-tested without touching disk)."""
    try:
        ordered = sort_findings([validate_finding(f) for f in findings])
    except FindingError as exc:
        raise FindingError("invalid finding: %s" % exc) from exc
    worst = worst_severity(ordered)
    problems = [
        "%s %s %s: %s" % (f["severity"], f["check"], f["target"], f["summary"])
        for f in ordered
        if f["severity"] in ("warning", "critical")
    ]
    summary = {
        "host": host,
        "run": run,
        "total": len(ordered),
        "worst_severity": worst,
        "counts": count_by_severity(ordered),
        "problems": problems,
    }
    return {
        "schema": SCHEMA,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": host,
        "run": run,
        "fail_on": fail_on,
        "threshold_reached": severity_at_least(worst, fail_on),
        "summary": summary,
        "metadata": metadata,
        "findings": ordered,
    }


def markdown_text(text: Any) -> str:
    """Text as one Markdown line, its markup characters escaped."""
    return _MARKDOWN_ESCAPE.sub(r"\\\1", str(text)).replace("\n", " ")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return "%s %s %s" % (fence, text, fence) if fence == "``" else "`%s`" % text


def _render_details(details: dict[str, Any]) -> list[str]:
    """Scalars inline, lists of text lines (command output) as a code block, the rest as JSON."""
    lines: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    for key in sorted(details):
        value = details[key]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            blocks.append((key, value))
        elif isinstance(value, str):
            lines.append("- %s: %s" % (markdown_text(key), markdown_text(value)))
        else:
            lines.append("- %s: %s" % (markdown_text(key), _code(json.dumps(value, sort_keys=True, default=str))))
    for key, value in blocks:
        lines.extend(["", "%s:" % markdown_text(key), "", "~~~"])
        lines.extend(line.replace("~~~", "~ ~ ~") for line in value)
        lines.append("~~~")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    """A summary a person reads first: verdict, counts, then every finding worst first."""
    summary = report["summary"]
    worst = summary["worst_severity"]
    lines = [
        "# %s run on %s: %s" % (markdown_text(report["run"]), markdown_text(report["host"]), worst.upper()),
        "",
        "Generated %s. Fails the run from: %s. Threshold reached: %s."
        % (report["generated_at"], report["fail_on"], "yes" if report["threshold_reached"] else "no"),
        "",
        "| severity | count |",
        "| --- | --- |",
    ]
    for name in reversed(SEVERITIES):
        lines.append("| %s | %d |" % (name, summary["counts"][name]))
    lines.append("")
    if not report["findings"]:
        lines.append("No findings: nothing was checked in this run.")
    else:
        if summary["problems"]:
            lines.append("## Act on these first")
            lines.append("")
            for finding in report["findings"]:
                if finding["severity"] in ("warning", "critical"):
                    lines.append(
                        "- **%s** `%s` %s: %s"
                        % (
                            finding["severity"].upper(),
                            markdown_text(finding["check"]),
                            markdown_text(finding["target"]),
                            markdown_text(finding["summary"]),
                        )
                    )
            lines.append("")
        lines.append("## All findings")
        lines.append("")
        for finding in report["findings"]:
            lines.append(
                "### %s: %s (%s)"
                % (finding["severity"].upper(), markdown_text(finding["check"]), markdown_text(finding["target"]))
            )
            lines.append("")
            lines.append(markdown_text(finding["summary"]))
            lines.extend(_render_details(finding["details"]))
            lines.append("")
    if report["metadata"]:
        lines.append("## Run")
        lines.append("")
        for key in sorted(report["metadata"]):
            lines.append("- %s: %s" % (markdown_text(key), markdown_text(report["metadata"][key])))
        lines.append("")
    return "\n".join(lines)


def plan_retention(existing_names: list[str], keep: int) -> list[str]:
    """Names of stamped report files to delete so that ``keep`` runs remain (the newest)."""
    if keep <= 0:
        return []
    runs = set()
    for match in (STAMPED.match(n) for n in existing_names):
        if match:
            runs.add((match.group(2), int(match.group(3) or 0), match.group(1)))
    newest_first = [run[2] for run in sorted(runs, reverse=True)]
    doomed = set(newest_first[keep:])
    return sorted(n for n in existing_names if _run_of(n) in doomed)


def _run_of(name: str) -> Optional[str]:
    match = STAMPED.match(name)
    return match.group(1) if match else None


def check_options(params: dict[str, Any]) -> None:
    """FindingError when the run, host, keep or formats cannot name or make a report."""
    if not RUN_NAME.match(params["run"]):
        raise FindingError("run %r may only contain letters, digits, '.', '_' and '-'" % params["run"])
    if not params["host"].strip() or "/" in params["host"] or params["host"] in (".", ".."):
        raise FindingError("host %r cannot name a report directory" % params["host"])
    if params["keep"] < 0:
        raise FindingError("keep must be 0 (keep all) or a positive number, got %d" % params["keep"])
    if not params["formats"]:
        raise FindingError("formats must name at least one of json, markdown")


def free_base(stamp: str, existing: list[str]) -> str:
    """The base name of a new run: its time stamp, with a counter when a run of that second exists."""
    base = stamp
    counter = 1
    while any(name.startswith(base + ".") for name in existing):
        base = "%s-%d" % (stamp, counter)
        counter += 1
    return base


# The files of a run by kind: suffix of the stamped file, name of the latest copy.
REPORT_FILES = (("json", ".json", "latest.json"), ("markdown", ".md", "latest.md"), ("html", ".html", "latest.html"))


def plan_files(
    directory: str, existing: list[str], kinds: list[str], keep: int, now: datetime
) -> tuple[dict[str, str], list[str]]:
    """``(paths, removed)`` of one run in ``directory``: the run's stamped file and its C(latest)
    copy for each of ``kinds`` (``paths[kind]``, ``paths["latest_" + kind]``), and the older runs'
    files beyond ``keep``, from the names ``existing`` there. Shared by run_report and fleet_report."""
    base = free_base(now.strftime(STAMP_FORMAT), existing)
    paths: dict[str, str] = {}
    for kind, suffix, latest in REPORT_FILES:
        if kind in kinds:
            paths[kind] = os.path.join(directory, base + suffix)
            paths["latest_" + kind] = os.path.join(directory, latest)
    new_names = [os.path.basename(paths[kind]) for kind, _suffix, _latest in REPORT_FILES if kind in paths]
    removed = [os.path.join(directory, n) for n in plan_retention(existing + new_names, keep)]
    return paths, removed


def plan_write(
    report: dict[str, Any], directory: str, existing: list[str], formats: list[str], keep: int, now: datetime
) -> dict[str, Any]:
    """What one run writes: ``documents`` (text by format), ``paths`` (the run's files and the
    C(latest) copies, by format) and ``removed`` (older reports beyond ``keep``), from the names
    ``existing`` in ``directory``."""
    paths, removed = plan_files(directory, existing, [k for k in ("json", "markdown") if k in formats], keep, now)
    documents: dict[str, str] = {}
    if "json" in paths:
        documents["json"] = json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
    if "markdown" in paths:
        documents["markdown"] = render_markdown(report) + "\n"
    return {"documents": documents, "paths": paths, "removed": removed}


def module_result(report: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """What run_report returns for ``report`` written as ``plan`` says."""
    return {
        "changed": True,
        "paths": plan["paths"],
        "summary": report["summary"],
        "worst_severity": report["summary"]["worst_severity"],
        "threshold_reached": report["threshold_reached"],
        "removed": plan["removed"],
        "findings": report["findings"],
    }
