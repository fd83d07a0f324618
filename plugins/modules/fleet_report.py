#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Write one run report for all hosts of a play (JSON, Markdown and an HTML page)
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Turns the findings of every host of a run into one report an on-call person can look at,
    as a JSON document for machines, a Markdown summary for a terminal or a mail, and a
    self-contained HTML page (inline CSS and SVG, no script, no external URL; it works offline
    and from a file).
  - The page shows the verdict (worst severity, counts, hosts down), a host-by-check matrix
    coloured by the worst severity of each cell with a link to its findings, the problems first,
    what became of the run's alert, small charts of the trends drawn from the per-host reports
    kept under O(report_dir) by P(stronghold.ops.run_report#module) (marked when getting worse),
    then every finding by host with its details one click away and links to the per-host reports.
  - Hosts that are down (failed or unreachable) become a critical C(run.host) finding and come
    first. Findings about the run itself (O(run_findings), such as an alert that could not be
    delivered) are the row C((run)).
  - Each run writes a time-stamped set under O(report_dir)/_fleet/<run>/ and replaces
    C(latest.json), C(latest.md) and C(latest.html) beside them atomically. Older runs beyond
    O(keep) are removed; files the module did not write are never touched.
  - RV(summary) is small and stable so that the calling role can publish it with
    C(ansible.builtin.set_stats) for AWX workflow conditions and notification templates.
  - The module does not fail because of the findings; it returns RV(threshold_reached).
options:
  hosts:
    description:
      - One entry per host of the play, each a mapping with C(host) (the name), C(status)
        (V(ok), or V(down) for a host that failed or was unreachable), C(reason) (why it is
        down), C(findings) (its findings), C(reports) (paths of its per-host reports by kind,
        C(markdown) and C(json)) and, optionally, C(timing) (what the P(stronghold.ops.timing#callback)
        callback measured, C(wall_s) the sum of the host's own task durations in seconds, C(checks)
        the same per check, and C(tasks) how many).
      - The report gives each timed host's wall time, the slowest host with its slowest check, and an
        V(info) C(report.stragglers) finding for each host much slower than the median (more than
        twice the median and more than 5 s over it, among at least 3 timed hosts). Without any
        C(timing) it says that per-host timing is not available.
      - A host may appear once. C(_fleet) and C((run)) cannot name a host.
    type: list
    elements: dict
    required: true
  run:
    description:
      - Name of the run, usually the playbook (V(daily), V(weekly), ...). Letters, digits,
        C(.), C(_) and C(-) only, since it names a directory.
    type: str
    default: adhoc
  report_dir:
    description:
      - Directory of the per-host reports. The fleet report goes to its C(_fleet/<run>/)
        directory, created (mode 0750) when missing.
    type: path
    required: true
  run_findings:
    description:
      - Findings about the run itself rather than a host (an alert that could not be delivered,
        C(alert.delivery)); shown as the row C((run)) and counted with the others.
    type: list
    elements: dict
    default: []
  alert:
    description:
      - What the alert step planned and delivered, shown as it is in the page and the Markdown
        summary (C(subject), C(recipients), C(counts) first, then every other key).
      - Whether the alert was delivered is read from the C(alert.delivery) findings of
        O(run_findings) (one per channel tried, V(ok) when delivered) when there are any;
        otherwise from the keys C(errors) or C(error) (what could not be delivered, and why),
        C(delivered) (the channels it reached) and C(notify) (V(false) when nothing was due).
    type: dict
  formats:
    description: Which documents to write.
    type: list
    elements: str
    choices: [json, markdown, html]
    default: [json, markdown, html]
  fail_on:
    description:
      - Severity from which RV(threshold_reached) is true. V(never) disables it.
      - This module never fails because of the findings; the calling role fails the play when
        RV(threshold_reached) is true, after it has published the report.
  keep:
    description:
      - Number of time-stamped fleet reports to keep for the run, the new one included.
        V(0) keeps all.
    type: int
    default: 30
  trend_days:
    description:
      - How many days of kept per-host reports feed the trend charts. V(0) draws no trends.
      - A kept report that cannot be read is left out of the charts with an V(info) finding
        (check C(report.trends)); it never fails the task.
    type: int
    default: 30
  max_fail_percentage:
    description:
      - The most hosts, in percent of the hosts of the run, that may fail (down, failed or unreachable,
        or with a C(run.task) finding, a task that failed and was rescued) before the run itself is
        critical. Beyond it the run's row has a critical C(report.fleet)
        finding naming them, with the C(--limit) that reruns them (as Ansible's C(max_fail_percentage),
        crossed when failed / hosts > O(max_fail_percentage) / 100; V(100) never is).
      - Each host down is a critical C(run.host) finding whatever this says; RV(summary.rerun) names
        all the failed hosts.
      - An integer from 0 to 100.
    type: int
    default: 100
  metadata:
    description:
      - Free-form facts about the run stored in the report as they are; C(playbook),
        C(awx_job_id) and C(check_mode) are shown in the page's header.
    type: dict
    default: {}
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.fail_on
  - stronghold.ops.findings
attributes:
  check_mode:
    details: In check mode nothing is written; RV(paths) says where the report would go.
notes:
  - A new report is written at every run, so the task reports C(changed) whenever it writes.
  - Run it once per play on the controller, after the per-host reports (C(run_once), C(delegate_to) V(localhost)).
seealso:
  - module: stronghold.ops.run_report
"""

EXAMPLES = r"""
- name: Write the fleet report of the daily run
  stronghold.ops.fleet_report:
    hosts:
      - host: web1
        status: ok
        findings: "{{ hostvars['web1'].stronghold_findings }}"
        reports:
          markdown: /var/log/stronghold/reports/web1/daily/latest.md
          json: /var/log/stronghold/reports/web1/daily/latest.json
      - host: db1
        status: down
        reason: unreachable (ssh timeout)
    run: daily
    report_dir: /var/log/stronghold/reports
    metadata:
      playbook: daily.yml
      awx_job_id: "{{ awx_job_id | default(omit) }}"
  run_once: true
  delegate_to: localhost
  register: fleet

- name: Publish the summary for AWX
  ansible.builtin.set_stats:
    data:
      stronghold_report: "{{ fleet.summary }}"
  run_once: true
"""

RETURN = r"""
paths:
  description: Files of this run (or that would be written in check mode), by format, and the C(latest) copies.
  returned: always
  type: dict
  sample:
    json: /var/log/stronghold/reports/_fleet/daily/20261127T101500Z.json
    markdown: /var/log/stronghold/reports/_fleet/daily/20261127T101500Z.md
    html: /var/log/stronghold/reports/_fleet/daily/20261127T101500Z.html
    latest_json: /var/log/stronghold/reports/_fleet/daily/latest.json
    latest_markdown: /var/log/stronghold/reports/_fleet/daily/latest.md
    latest_html: /var/log/stronghold/reports/_fleet/daily/latest.html
summary:
  description: The run in a few keys, for C(set_stats) (AWX artifacts, workflow conditions, notifications).
  returned: always
  type: dict
  contains:
    run:
      description: The run's name.
      type: str
      sample: daily
    generated_at:
      description: When the report was made (UTC, ISO 8601).
      type: str
      sample: "2026-11-27T10:15:00Z"
    worst_severity:
      description: The worst severity of all findings, hosts down and the run's own findings included.
      type: str
      sample: critical
    threshold_reached:
      description: True when RV(summary.worst_severity) reaches O(fail_on).
      type: bool
      sample: true
    total:
      description: Number of findings, the run's own included.
      type: int
      sample: 12
    counts:
      description: Findings by severity over all hosts and the run's own.
      type: dict
      sample: {ok: 8, info: 1, warning: 2, critical: 1}
    checks:
      description: Per check, the findings by severity over all hosts, and the worst of them.
      type: dict
      sample: {postgres.connections: {ok: 1, info: 0, warning: 1, critical: 0, worst: warning}}
    hosts:
      description: Per host, its status (V(ok) or V(down)), worst severity, counts and per-host report (Markdown, else JSON).
      type: dict
      sample:
        web1: {status: ok, worst_severity: warning, counts: {ok: 4, info: 0, warning: 1, critical: 0},
               report: /var/log/stronghold/reports/web1/daily/latest.md}
    down_hosts:
      description: Hosts that failed or were unreachable, sorted.
      type: list
      elements: str
      sample: [db2]
    rerun:
      description:
        - The failed hosts (C(hosts), in play order; down, or with a C(run.task) finding) and the
          C(--limit) argument that reruns exactly them (C(limit), quoted for a POSIX shell; a host
          name with pattern characters becomes an anchored C(~) regular expression).
        - Empty when no host failed.
      type: dict
      sample: {hosts: [db2, web7], limit: "--limit db2,web7"}
    max_fail_percentage:
      description: O(max_fail_percentage) as applied.
      type: int
      sample: 100
    timing:
      description:
        - Each timed host's wall time (C(hosts), seconds; the sum of its own task durations), C(median_s),
          the C(slowest) host with its wall time and slowest C(check) (C(check), C(seconds)), the
          C(stragglers) (C(host), C(wall_s), C(ratio) to the median), whether stragglers were judged
          (C(judged), at least 3 timed hosts) and the C(rule), the hosts without timing (C(untimed)).
        - C(available) is V(false), with a C(note) on how to enable the P(stronghold.ops.timing#callback)
          callback, when no host has timing.
      type: dict
      sample:
        available: true
        hosts: {web1: 12.4, web2: 11.9, web3: 31.0}
        median_s: 12.4
        slowest: {host: web3, wall_s: 31.0, check: {check: postgres_health, seconds: 22.1}}
        stragglers: [{host: web3, wall_s: 31.0, ratio: 2.5}]
        judged: true
        rule: slower than 2x the median and by more than 5 s, among at least 3 timed hosts
        untimed: []
    problems:
      description: The first 50 warning and critical findings, worst first, as C(severity host check target summary) lines (cut to 300 characters).
      type: list
      elements: str
      sample: ["critical db2 run.host db2: unreachable: none of its checks reported in this run (rerun with --limit db2)"]
    problems_total:
      description: How many warning and critical findings there are in all.
      type: int
      sample: 3
    paths:
      description: The run's Markdown, HTML and JSON files (those of O(formats)).
      type: dict
      sample: {markdown: /var/log/stronghold/reports/_fleet/daily/20261127T101500Z.md}
threshold_reached:
  description: True when the worst severity reaches O(fail_on).
  returned: always
  type: bool
  sample: true
worst_severity:
  description: The worst severity of the run (V(ok) when there are no findings).
  returned: always
  type: str
  sample: critical
trends:
  description: Names of the trend series drawn in the page.
  returned: always
  type: list
  elements: str
  sample: ["disk_used|web1|/", "p95_response|web1|/var/log/nginx/access.log"]
removed:
  description: Older fleet reports removed (or that would be removed) by O(keep).
  returned: always
  type: list
  elements: str
  sample: [/var/log/stronghold/reports/_fleet/daily/20261001T101500Z.html]
findings:
  description: The module's own findings, V(info) C(report.trends) findings about kept reports it could not read.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: Always C(report.trends).
      type: str
      sample: report.trends
    target:
      description: The kept report (or O(report_dir)).
      type: str
      sample: /var/log/stronghold/reports/web1/daily/20261120T101500Z.json
    severity:
      description: Always V(info).
      type: str
      sample: info
    summary:
      description: Why the report was not used.
      type: str
      sample: "kept report not used for trends: not JSON"
    details:
      description: Empty.
      type: dict
      sample: {}
  sample: []
"""


import os
from datetime import datetime, timedelta, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._files import write_documents
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_html import render_page
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import (
    FLEET_DIR,
    build_fleet_report,
    check_options,
    cut,
    module_result,
    plan_fleet_write,
    read_hosts,
    read_run_findings,
    trend_entry,
    trend_findings,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import FAIL_ON_SPEC, argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._trends import series_from_reports
from ansible_collections.stronghold.ops.plugins.module_utils._trends_read import read_kept_reports
from ansible_collections.stronghold.ops.plugins.module_utils._trends_svg import render_chart_svg

# At most this many kept reports of each host feed the trends (the newest; 30 days of a daily,
# a weekly and a few ad hoc runs are far fewer).
MAX_TREND_FILES_PER_HOST = 200

ARGUMENT_SPEC = argument_spec(
    FAIL_ON_SPEC,
    own={
        "hosts": {"type": "list", "elements": "dict", "required": True},
        "run": {"type": "str", "default": "adhoc"},
        "report_dir": {"type": "path", "required": True},
        "run_findings": {"type": "list", "elements": "dict", "default": []},
        "alert": {"type": "dict"},
        "formats": {
            "type": "list",
            "elements": "str",
            "choices": ["json", "markdown", "html"],
            "default": ["json", "markdown", "html"],
        },
        "keep": {"type": "int", "default": 30},
        "trend_days": {"type": "int", "default": 30},
        "max_fail_percentage": {"type": "int", "default": 100},
        "metadata": {"type": "dict", "default": {}},
    },
)


def observe_trends(report_dir, hosts, trend_days, now):
    """The charts of the kept per-host reports, as (series, svg) pairs, and the info findings of
    the reports that could not be used. A chart that cannot be drawn is a finding, not a failure:
    the run report matters more than its trends."""
    if trend_days == 0 or not os.path.isdir(report_dir):
        return [], []
    # Only names that can be report directories (run_report refuses the others).
    names = [h for h in hosts if "/" not in h and h not in (".", "..")]
    since = now - timedelta(days=trend_days)
    try:
        documents, problems = read_kept_reports(report_dir, names, since, MAX_TREND_FILES_PER_HOST)
        findings = trend_findings(problems, report_dir)
        series = series_from_reports(documents, now)
    except (ValueError, TypeError, KeyError) as exc:
        return [], trend_findings(["trends not drawn: %s" % exc], report_dir)
    charts = []
    for one in series:
        try:
            charts.append((one, render_chart_svg(one)))
        except (ValueError, TypeError, KeyError) as exc:
            findings += trend_findings(["chart %s not drawn: %s" % (trend_entry(one)["key"], exc)], report_dir)
    return charts, findings


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    now = datetime.now(timezone.utc)
    directory = os.path.join(p["report_dir"], FLEET_DIR, p["run"])
    result = {}
    try:
        check_options(p)
        entries = read_hosts(p["hosts"])
        run_findings = read_run_findings(p["run_findings"])
        if os.path.exists(p["report_dir"]) and not os.path.isdir(p["report_dir"]):
            raise FindingError("report_dir %s is not a directory" % cut(p["report_dir"], 200))
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise FindingError("%s is not a directory" % cut(directory, 200))
        charts, own = observe_trends(p["report_dir"], [e["host"] for e in entries], p["trend_days"], now)
        report = build_fleet_report(
            entries,
            run_findings + own,
            p["run"],
            p["fail_on"],
            p["metadata"],
            p["alert"],
            now,
            trends=[trend_entry(series) for series, _svg in charts],
            max_fail_percentage=p["max_fail_percentage"],
        )
        existing = os.listdir(directory) if os.path.isdir(directory) else []
        plan = plan_fleet_write(
            report, directory, existing, p["formats"], p["keep"], now, lambda r: render_page(r, charts, directory)
        )
        result = module_result(report, plan, own)
        if not module.check_mode:
            write_documents(directory, plan)
    except FindingError as exc:
        result = {"msg": str(exc)}
    except OSError as exc:
        result["msg"] = "cannot write the fleet report under %s: %s" % (directory, exc)
    if "msg" in result:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
