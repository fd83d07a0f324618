# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # fail_on, the same option with the same choices in every module that returns findings
    # (the argument spec is _options.FAIL_ON_SPEC).
    DOCUMENTATION = r"""
options:
  fail_on:
    description:
      - Fail the task when a finding reaches this severity; V(never) only reports the findings
        (the P(stronghold.ops.report#role) role then decides whether the run fails).
      - The findings are returned either way, failed or not.
    type: str
    choices: [critical, warning, info, never]
    default: critical
"""
