# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The seconds of a timeout option: a number (``10``, ``2.5``) or a duration (``"10s"``, ``"500ms"``).

The options are declared with ``_options.duration_spec`` (``type: raw``). A plain number, or a
string that reads as one, keeps the words a ``type: float`` option had ("timeout must be a
finite number", "timeout must be greater than 0"); a string with units goes through
``_findings.parse_duration``. Either way the result is a finite number of seconds above 0 and
at most ``maximum``, or a FindingError naming the option.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    parse_duration,
)


def _reads_as_number(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        float(value.strip())
    except ValueError:
        return False
    return True


def timeout_seconds(value: Any, name: str, maximum: float) -> float:
    """Seconds (a float above 0, at most ``maximum``) of the timeout option ``name``."""
    if _reads_as_number(value):
        return bounded_number(value, name, above=0, maximum=maximum)
    try:
        seconds = parse_duration(value)
    except FindingError as exc:
        raise FindingError("%s: %s" % (name, exc)) from exc
    return bounded_number(seconds, name, above=0, maximum=maximum)
