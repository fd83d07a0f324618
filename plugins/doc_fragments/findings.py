# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The findings model shared by every check module of the collection.
    DOCUMENTATION = r"""
options: {}
notes:
  - Findings follow the collection's findings model, a list of mappings with C(check) (what was
    checked, dotted by area), C(target) (the URL, service or path), C(severity) (V(ok), V(info),
    V(warning) or V(critical)), C(summary) (one line for the on-call person) and C(details)
    (measurements and evidence). The P(stronghold.ops.report#role) role collects them into the
    run report; P(stronghold.ops.run_report#module) validates them.
  - A check that cannot run (service down, tool missing) is itself a finding, never a silent skip.
"""
