# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report role's run-level filters; documented in fleet_hosts.yml, alert_delivered.yml,
max_fail_percentage.yml and timing_line.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils._alerts import delivered_from_results
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import host_entries
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import timing_line as _timing_line
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_timing import check_max_fail_percentage


def fleet_hosts(hostvars, all_hosts, active_hosts, findings_var="report_all_findings", result_var="report_result"):
    try:
        return host_entries(hostvars, list(all_hosts), list(active_hosts), findings_var, result_var)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("fleet_hosts: cannot read the hosts of the play: %s" % exc) from exc


def alert_delivered(mail, webhook, smtp_server="", webhook_host=""):
    return delivered_from_results(mail, webhook, str(smtp_server), str(webhook_host))


def max_fail_percentage(value):
    try:
        return check_max_fail_percentage(value)
    except FindingError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def timing_line(timing):
    try:
        return _timing_line(timing)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("timing_line: not the timing of a run report summary: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {
            "fleet_hosts": fleet_hosts,
            "alert_delivered": alert_delivered,
            "max_fail_percentage": max_fail_percentage,
            "timing_line": timing_line,
        }
