# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency role's findings filter; documented in emergency_findings.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils._emergency import judge
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError


def emergency_findings(facts, step, previous=None):
    try:
        return judge(facts, step, previous)
    except FindingError as exc:
        raise AnsibleFilterError("emergency_findings: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"emergency_findings": emergency_findings}
