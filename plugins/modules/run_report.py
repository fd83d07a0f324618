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
      - This module never fails because of the findings; the calling role fails the play when
        RV(threshold_reached) is true, after it has published the report.
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
  - stronghold.ops.attributes
  - stronghold.ops.fail_on
attributes:
  check_mode:
    details: In check mode nothing is written; RV(paths) says where the report would go.
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
  contains:
    check:
      description: What was checked, dotted by area.
      type: str
      sample: health.http
    target:
      description: The URL, service or path checked.
      type: str
      sample: http://127.0.0.1:8000/api/v1/health/
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
      sample: critical
    summary:
      description: One line for the on-call person.
      type: str
      sample: connection refused
    details:
      description: Measurements and evidence; an empty mapping when the finding had none.
      type: dict
      sample: {}
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


import os
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._files import write_documents
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._options import FAIL_ON_SPEC, argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._report import (
    build_report,
    check_options,
    module_result,
    plan_write,
)

ARGUMENT_SPEC = argument_spec(
    FAIL_ON_SPEC,
    own={
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
        "keep": {"type": "int", "default": 30},
        "metadata": {"type": "dict", "default": {}},
    },
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    now = datetime.now(timezone.utc)
    directory = os.path.join(p["report_dir"], p["host"], p["run"])
    result = {}
    try:
        check_options(p)
        report = build_report(p["findings"], p["host"], p["run"], p["fail_on"], p["metadata"], now)
        existing = os.listdir(directory) if os.path.isdir(directory) else []
        plan = plan_write(report, directory, existing, p["formats"], p["keep"], now)
        result = module_result(report, plan)
        if not module.check_mode:
            write_documents(directory, plan)
    except FindingError as exc:
        result = {"msg": str(exc)}
    except OSError as exc:
        result["msg"] = "cannot write the report under %s: %s" % (directory, exc)
    if "msg" in result:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
