#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_report
short_description: Write the run report of one host from its findings (JSON and Markdown)
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Turns the findings that the roles of a run collected for one host into a run report
    an on-call person can read, as a JSON document for machines and a Markdown summary for people,
    worst findings first.
  - Each run writes a time-stamped pair under O(report_dir)/<host>/<run>/ and replaces
    C(latest.json) and C(latest.md) beside them atomically, so readers never see a half-written
    report. Older reports beyond O(keep) are removed; files the module did not write are never
    touched.
  - Every finding is validated against the collection's findings model (check, target,
    severity, summary, details); a malformed finding fails the task and writes nothing.
  - The module does not fail because of the findings; it returns RV(threshold_reached) so the
    calling role can publish statistics and alerts before it fails the play.
options:
  findings:
    description:
      - The findings of the run, each a mapping with C(check), C(target), C(severity) (V(ok),
        V(info), V(warning) or V(critical)), C(summary) and optional C(details).
      - An empty list is a valid run (nothing was checked); its report says so.
    type: list
    elements: dict
    required: true
  host:
    description: Name of the host the report is about (usually C(inventory_hostname)).
    type: str
    required: true
  run:
    description:
      - Name of the run, usually the playbook (V(daily), V(weekly), ...). Letters, digits,
        C(.), C(_) and C(-) only, since it names a directory.
    type: str
    default: adhoc
  report_dir:
    description: Directory under which reports are written; created (mode 0750) when missing.
    type: path
    required: true
  formats:
    description: Which documents to write.
    type: list
    elements: str
    choices: [json, markdown]
    default: [json, markdown]
  fail_on:
    description:
      - Severity from which RV(threshold_reached) is true. V(never) disables it.
    type: str
    choices: [critical, warning, info, never]
    default: critical
  keep:
    description:
      - Number of time-stamped reports to keep per host and run, the new one included.
        V(0) keeps all.
    type: int
    default: 30
  metadata:
    description:
      - Free-form facts about the run stored in the report as they are (playbook path,
        inventory, AWX job id, check mode).
    type: dict
    default: {}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; RV(paths) says where the report would go.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - A new report is written at every run, so the task reports C(changed) whenever it writes.
"""

EXAMPLES = r"""
- name: Write the daily report of this host on the controller
  stronghold.ops.run_report:
    findings: "{{ stronghold_findings | default([]) }}"
    host: "{{ inventory_hostname }}"
    run: daily
    report_dir: /var/log/stronghold/reports
    fail_on: critical
  delegate_to: localhost
  register: report

- name: Show where the report is
  ansible.builtin.debug:
    msg: "{{ report.summary.worst_severity }}: {{ report.paths.markdown }}"
"""

RETURN = r"""
paths:
  description: Files of this run (or that would be written in check mode), by format, and the C(latest) copies.
  returned: always
  type: dict
  sample:
    json: /var/log/stronghold/reports/web1/daily/20261127T101500Z.json
    markdown: /var/log/stronghold/reports/web1/daily/20261127T101500Z.md
    latest_json: /var/log/stronghold/reports/web1/daily/latest.json
    latest_markdown: /var/log/stronghold/reports/web1/daily/latest.md
summary:
  description: Counts by severity, the worst severity and the failing checks.
  returned: always
  type: dict
  sample:
    host: web1
    run: daily
    total: 4
    worst_severity: critical
    counts: {ok: 2, info: 0, warning: 1, critical: 1}
    problems: ["critical health.http http://127.0.0.1:8000/api/v1/health/: connection refused"]
threshold_reached:
  description: True when the worst severity reaches O(fail_on).
  returned: always
  type: bool
  sample: true
removed:
  description: Older reports removed (or that would be removed) by O(keep).
  returned: always
  type: list
  elements: str
  sample: [/var/log/stronghold/reports/web1/daily/20261001T101500Z.json]
findings:
  description: The validated findings, worst first.
  returned: always
  type: list
  elements: dict
  sample:
    - check: health.http
      target: http://127.0.0.1:8000/api/v1/health/
      severity: critical
      summary: connection refused
      details: {}
worst_severity:
  description: The worst severity of the run (V(ok) when there are no findings).
  returned: always
  type: str
  sample: warning
"""

import json
import os
import re
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._files import atomic_write
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    SEVERITIES,
    FindingError,
    count_by_severity,
    severity_at_least,
    sort_findings,
    validate_finding,
    worst_severity,
)

_RUN_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
# A run is named by its UTC time stamp, with a counter when two runs share a second.
_STAMPED = re.compile(r"^((\d{8}T\d{6}Z)(?:-(\d+))?)\.(json|md)$")
# Underscores stay: CommonMark does not emphasise inside words (health_check).
_MARKDOWN_ESCAPE = re.compile(r"([\\`*|<>\[\]])")


def build_report(findings, host, run, fail_on, metadata, now):
    """The report document as plain data (pure: unit-tested without touching disk)."""
    ordered = sort_findings([validate_finding(f) for f in findings])
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
        "schema": "stronghold.ops/run-report/v1",
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": host,
        "run": run,
        "fail_on": fail_on,
        "threshold_reached": severity_at_least(worst, fail_on),
        "summary": summary,
        "metadata": metadata,
        "findings": ordered,
    }


def _md(text):
    return _MARKDOWN_ESCAPE.sub(r"\\\1", str(text)).replace("\n", " ")


def _code(text):
    fence = "``" if "`" in text else "`"
    return "%s %s %s" % (fence, text, fence) if fence == "``" else "`%s`" % text


def _render_details(details):
    """Scalars inline, lists of text lines (command output) as a code block, the rest as JSON."""
    lines = []
    blocks = []
    for key in sorted(details):
        value = details[key]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            blocks.append((key, value))
        elif isinstance(value, str):
            lines.append("- %s: %s" % (_md(key), _md(value)))
        else:
            lines.append("- %s: %s" % (_md(key), _code(json.dumps(value, sort_keys=True, default=str))))
    for key, value in blocks:
        lines.extend(["", "%s:" % _md(key), "", "~~~"])
        lines.extend(line.replace("~~~", "~ ~ ~") for line in value)
        lines.append("~~~")
    return lines


def render_markdown(report):
    """A summary a person reads first: verdict, counts, then every finding worst first."""
    summary = report["summary"]
    worst = summary["worst_severity"]
    lines = [
        "# %s run on %s: %s" % (_md(report["run"]), _md(report["host"]), worst.upper()),
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
                            _md(finding["check"]),
                            _md(finding["target"]),
                            _md(finding["summary"]),
                        )
                    )
            lines.append("")
        lines.append("## All findings")
        lines.append("")
        for finding in report["findings"]:
            lines.append(
                "### %s: %s (%s)" % (finding["severity"].upper(), _md(finding["check"]), _md(finding["target"]))
            )
            lines.append("")
            lines.append(_md(finding["summary"]))
            lines.extend(_render_details(finding["details"]))
            lines.append("")
    if report["metadata"]:
        lines.append("## Run")
        lines.append("")
        for key in sorted(report["metadata"]):
            lines.append("- %s: %s" % (_md(key), _md(report["metadata"][key])))
        lines.append("")
    return "\n".join(lines)


def plan_retention(existing_names, keep):
    """Names of stamped report files to delete so that ``keep`` runs remain (the newest)."""
    if keep <= 0:
        return []
    runs = set()
    for match in (_STAMPED.match(n) for n in existing_names):
        if match:
            runs.add((match.group(2), int(match.group(3) or 0), match.group(1)))
    newest_first = [run[2] for run in sorted(runs, reverse=True)]
    doomed = set(newest_first[keep:])
    return sorted(n for n in existing_names if _STAMPED.match(n) and _STAMPED.match(n).group(1) in doomed)


def main():
    module = AnsibleModule(
        argument_spec={
            "findings": {"type": "list", "elements": "dict", "required": True},
            "host": {"type": "str", "required": True},
            "run": {"type": "str", "default": "adhoc"},
            "report_dir": {"type": "path", "required": True},
            "formats": {
                "type": "list",
                "elements": "str",
                "choices": ["json", "markdown"],
                "default": ["json", "markdown"],
            },
            "fail_on": {"type": "str", "choices": ["critical", "warning", "info", "never"], "default": "critical"},
            "keep": {"type": "int", "default": 30},
            "metadata": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not _RUN_NAME.match(params["run"]):
        module.fail_json(msg="run %r may only contain letters, digits, '.', '_' and '-'" % params["run"])
    if not params["host"].strip() or "/" in params["host"] or params["host"] in (".", ".."):
        module.fail_json(msg="host %r cannot name a report directory" % params["host"])
    if params["keep"] < 0:
        module.fail_json(msg="keep must be 0 (keep all) or a positive number, got %d" % params["keep"])
    if not params["formats"]:
        module.fail_json(msg="formats must name at least one of json, markdown")

    now = datetime.now(timezone.utc)
    try:
        report = build_report(
            params["findings"], params["host"], params["run"], params["fail_on"], params["metadata"], now
        )
    except FindingError as exc:
        module.fail_json(msg="invalid finding: %s" % exc)

    directory = os.path.join(params["report_dir"], params["host"], params["run"])
    stamp = now.strftime(_STAMP_FORMAT)
    existing = os.listdir(directory) if os.path.isdir(directory) else []
    base = stamp
    counter = 1
    while any(name.startswith(base + ".") for name in existing):
        base = "%s-%d" % (stamp, counter)
        counter += 1

    documents = {}
    paths = {}
    if "json" in params["formats"]:
        documents["json"] = json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
        paths["json"] = os.path.join(directory, base + ".json")
        paths["latest_json"] = os.path.join(directory, "latest.json")
    if "markdown" in params["formats"]:
        documents["markdown"] = render_markdown(report) + "\n"
        paths["markdown"] = os.path.join(directory, base + ".md")
        paths["latest_markdown"] = os.path.join(directory, "latest.md")

    new_names = [os.path.basename(paths[k]) for k in ("json", "markdown") if k in paths]
    removed = [os.path.join(directory, n) for n in plan_retention(existing + new_names, params["keep"])]

    result = {
        "changed": True,
        "paths": paths,
        "summary": report["summary"],
        "worst_severity": report["summary"]["worst_severity"],
        "threshold_reached": report["threshold_reached"],
        "removed": removed,
        "findings": report["findings"],
    }
    if module.check_mode:
        module.exit_json(**result)

    try:
        os.makedirs(directory, mode=0o750, exist_ok=True)
        for kind, text in documents.items():
            atomic_write(paths[kind], text)
            atomic_write(paths["latest_" + kind], text)
        for path in removed:
            os.unlink(path)
    except OSError as exc:
        module.fail_json(msg="cannot write the report under %s: %s" % (directory, exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
