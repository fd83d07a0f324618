# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Options that several modules share, defined once as data (as kubernetes.core composes its specs).

Each spec here has its documentation in the doc fragment of the same name:

* ``FAIL_ON_SPEC``: ``stronghold.ops.fail_on``.
* ``BACKUP_FILES_SPEC``: ``stronghold.ops.backup_files`` (directory, pattern, timezone).
* ``duration_spec()``: ``stronghold.ops.durations`` (every duration: seconds or ``"5m"``), read by
  ``read_duration`` (options that were always durations) or ``read_seconds`` (options that were
  numbers of seconds, with their old messages).

A module builds its argument spec with ``argument_spec(SHARED_SPEC, ..., own={...})``: every
part is deep-copied, so no module can change another's options, and a name defined twice is a
programming error, raised at once.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FAIL_ON_CHOICES,
    FindingError,
    bounded_number,
    parse_duration,
)

Spec = dict[str, dict[str, Any]]

FAIL_ON_SPEC: Spec = {
    "fail_on": {"type": "str", "choices": list(FAIL_ON_CHOICES), "default": "critical"},
}

BACKUP_FILES_SPEC: Spec = {
    "directory": {"type": "path", "required": True},
    # None: the runbook's name for the format (_backup_files.default_pattern).
    "pattern": {"type": "str"},
    "timezone": {"type": "str", "default": "UTC"},
}


def duration_spec(default: Any = None, **extra: Any) -> dict[str, Any]:
    """The spec of a duration option: ``raw`` so that ``90`` and ``"90s"`` both arrive unconverted."""
    spec: dict[str, Any] = {"type": "raw"}
    if default is not None:
        spec["default"] = default
    spec.update(extra)
    return spec


def argument_spec(*parts: Spec, own: Optional[Spec] = None) -> Spec:
    """One argument spec from shared parts and the module's own options; a name may appear once."""
    spec: Spec = {}
    for part in parts + ((own,) if own else ()):
        for name, option in part.items():
            if name in spec:
                raise ValueError("option %r is defined twice" % name)
            spec[name] = copy.deepcopy(option)
    return spec


def read_duration(params: dict[str, Any], name: str, maximum: Optional[float] = None) -> Optional[float]:
    """Seconds of the duration option ``name`` (None when unset); FindingError names the option."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_duration(value, maximum=maximum)
    except FindingError as exc:
        raise FindingError("%s: %s" % (name, exc)) from exc


def read_seconds(value: Any, name: str, minimum: Optional[float] = None, **bounds: float) -> float:
    """Seconds of a duration option that was a plain number before durations existed.

    A number, or a string that reads as one, is checked by ``bounded_number`` with the messages
    such options always had ("timeout must be greater than 0"); a string with units such as
    ``"5m"`` goes through ``parse_duration`` first. ``bounds`` are bounded_number's ``maximum``
    and ``above``. FindingError names the option.
    """
    try:
        # A boolean is left to bounded_number, which names it.
        float(value if isinstance(value, (bool, int, float)) else str(value).strip())
    except ValueError:
        try:
            value = parse_duration(value)
        except FindingError as exc:
            raise FindingError("%s: %s" % (name, exc)) from exc
    return bounded_number(value, name, minimum=minimum, **bounds)
