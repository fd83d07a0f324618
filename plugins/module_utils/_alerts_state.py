# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The file side of alert_state: read the state, plan; read it again, record, write it.

The decisions are in ``_alerts``; this file only loads and saves the state file through
``_state`` (atomic, 0600) and turns what was read into ``info`` findings.

Concurrency: the plan and the record of one run are sequential tasks of one play, and one
state file belongs to one run name. The record reads the file again just before writing and
touches only the fingerprints its plan names, so entries that are not the plan's (hosts of
another slice of the fleet) are kept; two runs of the same name at the same moment are not
supported (the last write wins).
"""

from __future__ import annotations

import time
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._alerts import (
    STATE_KIND,
    STATE_VERSION,
    AlertError,
    build_plan,
    check_delivered,
    check_plan,
    check_plan_options,
    delivery_findings,
    read_entries,
    record_state,
    state_data,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import normalise_hosts
from ansible_collections.stronghold.ops.plugins.module_utils._state import StateError, load_state, save_state


def _state_path(params: dict[str, Any]) -> str:
    path = params.get("state_path")
    if not isinstance(path, str) or not path.strip():
        raise AlertError("state_path must be the path of the run's state file")
    return path


def _read(path: str) -> tuple[Optional[dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    """(raw data, valid entries, problems): a bad file is no state and a reason, never a failure."""
    data, problem = load_state(path, STATE_KIND, STATE_VERSION)
    entries, dropped = read_entries(data)
    problems = [problem] if problem else []
    if dropped:
        problems.append("the state file %s had %d malformed alert entries; they were dropped" % (path, dropped))
    return data, entries, problems


def run_plan(params: dict[str, Any], now: Optional[int] = None) -> dict[str, Any]:
    """``action: plan``: read-only, the same in check mode."""
    now = int(time.time()) if now is None else now
    path = _state_path(params)
    settings = check_plan_options(dict(params, state_path=path))
    try:
        hosts = normalise_hosts(params.get("hosts") or [])
    except FindingError as exc:
        raise AlertError("hosts: %s" % exc) from exc
    data, entries, problems = _read(path)
    if data is not None and isinstance(data.get("run"), str) and data["run"] != settings["run"]:
        problems.append(
            "the state file %s was written for the run %r, not %r; its alerts are used as they are"
            % (path, data["run"], settings["run"])
        )
    return build_plan(settings, hosts, entries, now, problems)


def run_record(params: dict[str, Any], check_mode: bool, now: Optional[float] = None) -> dict[str, Any]:
    """``action: record``: the state after delivery; nothing is written in check mode."""
    path = _state_path(params)
    plan = check_plan(params.get("plan"), path)
    delivered = check_delivered(params.get("delivered"))
    data, entries, problems = _read(path)
    new_entries, sent = record_state(plan, delivered, entries, plan["now"])
    new_data = state_data(plan["run"], new_entries)
    old_data = None if data is None else {k: v for k, v in data.items() if k != "_saved_at"}
    changed = old_data != new_data
    findings = [make_finding("alert.state", path, "info", p) for p in problems]
    if check_mode and not delivered:
        findings.append(
            make_finding("alert.delivery", "alert", "info", "check mode: nothing was sent and nothing is recorded")
        )
    else:
        findings.extend(delivery_findings(plan, delivered, plan["run"]))
    if changed and not check_mode:
        try:
            save_state(path, STATE_KIND, STATE_VERSION, new_data, now=time.time() if now is None else now)
        except StateError as exc:
            raise AlertError("%s; the old state is unchanged" % exc) from exc
    return {
        "changed": changed,
        "sent": sent,
        "state": new_data,
        "state_path": path,
        "findings": findings,
        "worst_severity": worst_severity(findings),
    }
