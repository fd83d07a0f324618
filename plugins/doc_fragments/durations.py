# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How every duration option of the collection is written (_options.duration_spec, parsed by
    # _findings.parse_duration).
    DOCUMENTATION = r"""
options: {}
notes:
  - Every duration option (timeouts, ages, intervals) takes a number of seconds (V(90), V(2.5))
    or a string with units C(ms), C(s), C(m), C(h), C(d) and C(w) (V(90s), V(5m), V(1h30m),
    V(26h)). Negative, infinite and absurd values (over a hundred years, or the option's own
    limit) are refused before anything is done.
"""
