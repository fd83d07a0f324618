# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report role's run-level filters; documented in fleet_hosts.yml and alert_delivered.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils._alerts import delivered_from_results
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import host_entries


def fleet_hosts(hostvars, all_hosts, active_hosts, findings_var="report_all_findings", result_var="report_result"):
    try:
        return host_entries(hostvars, list(all_hosts), list(active_hosts), findings_var, result_var)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("fleet_hosts: cannot read the hosts of the play: %s" % exc) from exc


def alert_delivered(mail, webhook, smtp_server="", webhook_host=""):
    return delivered_from_results(mail, webhook, str(smtp_server), str(webhook_host))


class FilterModule:
    def filters(self):
        return {"fleet_hosts": fleet_hosts, "alert_delivered": alert_delivered}
