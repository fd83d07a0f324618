# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The hosts of one run, as the run-level modules (alert_state, fleet_report) read them.

The report role passes one entry per host of the play (``ansible_play_hosts_all``)::

    {host: str, status: ok | down, reason: str, findings: [finding, ...], reports: {kind: path},
     timing: {wall_s: float, checks: {check: seconds}, tasks: int}}

``timing`` (optional) is what the stronghold.ops.timing callback published for the host
(_fleet_timing).

``down`` is a host that failed or was unreachable before its own report was written (it is in
``ansible_play_hosts_all`` but no longer in ``ansible_play_hosts``): it becomes a critical
``run.host`` finding instead of vanishing from the run. Pure functions over plain data.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    sort_findings,
    validate_finding,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_timing import read_timing, rerun_limit

HOST_STATUSES = ("ok", "down")
HOST_DOWN_CHECK = "run.host"
_ENTRY_KEYS = ("host", "status", "reason", "findings", "reports", "timing")
# The host variable the stronghold.ops.timing callback sets for each host.
TIMING_VAR = "stronghold_timing"


def fingerprint(host: str, check: str, target: str) -> str:
    """The identity of a finding across runs: a hash of its host, check and target (16 hex digits).

    The severity and the summary are not part of it: a warning that becomes critical, or a disk
    whose percentage moves, is the same alert.
    """
    digest = hashlib.sha256("\0".join((host, check, target)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def host_down_finding(host: str, reason: str) -> dict[str, Any]:
    """The critical finding that stands for a host that failed or was unreachable."""
    why = reason.strip() if isinstance(reason, str) and reason.strip() else "failed or unreachable"
    return make_finding(
        HOST_DOWN_CHECK,
        host,
        "critical",
        "%s: none of its checks reported in this run (rerun with %s)" % (why, rerun_limit([host])),
        {"reason": why},
    )


def normalise_hosts(hosts: Any) -> list[dict[str, Any]]:
    """The host entries validated, in the given order, each finding checked and sorted worst first.

    A ``down`` host gets the ``run.host`` finding first, before whatever it published before it
    went down. FindingError names the entry and what is wrong with it.
    """
    if not isinstance(hosts, list):
        raise FindingError("hosts must be a list of host entries, got %s" % type(hosts).__name__)
    seen: set[str] = set()
    entries = []
    for index, entry in enumerate(hosts):
        if not isinstance(entry, dict):
            raise FindingError("hosts[%d] must be a mapping, got %s" % (index, type(entry).__name__))
        unknown = sorted(set(entry) - set(_ENTRY_KEYS))
        if unknown:
            raise FindingError("hosts[%d] has unknown keys: %s" % (index, ", ".join(unknown)))
        host = entry.get("host")
        if not isinstance(host, str) or not host.strip():
            raise FindingError("hosts[%d] needs a non-empty string 'host' (got %r)" % (index, host))
        if host in seen:
            raise FindingError("host %r appears twice in hosts" % host)
        seen.add(host)
        status = entry.get("status", "ok")
        if status not in HOST_STATUSES:
            raise FindingError("host %r has status %r: expected one of %s" % (host, status, ", ".join(HOST_STATUSES)))
        findings = entry.get("findings") or []
        if not isinstance(findings, list):
            raise FindingError("the findings of host %r must be a list" % host)
        try:
            checked = [validate_finding(f) for f in findings]
        except FindingError as exc:
            raise FindingError("host %r: invalid finding: %s" % (host, exc)) from exc
        reason = entry.get("reason") or ""
        if status == "down":
            checked.insert(0, host_down_finding(host, str(reason)))
        reports = entry.get("reports") or {}
        if not isinstance(reports, dict):
            raise FindingError("the reports of host %r must be a mapping of kind to path" % host)
        normalised = {
            "host": host,
            "status": status,
            "reason": str(reason),
            "findings": sort_findings(checked),
            "reports": {str(k): str(v) for k, v in reports.items() if v},
        }
        timing = read_timing(host, entry.get("timing"))
        if timing is not None:
            normalised["timing"] = timing
        entries.append(normalised)
    return entries


def host_entries(
    hostvars: Any,
    all_hosts: list[str],
    active_hosts: list[str],
    findings_var: str = "report_all_findings",
    result_var: str = "report_result",
    timing_var: str = TIMING_VAR,
) -> list[dict[str, Any]]:
    """The host entries of a play, from what each host published (hostvars), in play order.

    A host of ``all_hosts`` that is not in ``active_hosts`` failed or was unreachable before the
    run-level step: it is ``down``, with whatever findings it had collected. The report paths come
    from each host's registered run_report result; the timing and the message of an unreachable
    host from what the stronghold.ops.timing callback set (``timing_var``), when it is enabled.
    """
    active = set(active_hosts)
    entries = []
    for host in all_hosts:
        published = hostvars[host] if host in hostvars else {}
        findings = published.get(findings_var) or []
        result = published.get(result_var) or {}
        paths = result.get("paths") or {} if isinstance(result, dict) else {}
        entry: dict[str, Any] = {
            "host": host,
            "status": "ok" if host in active else "down",
            "findings": list(findings) if isinstance(findings, list) else findings,
            "reports": {kind: paths[kind] for kind in ("markdown", "json") if paths.get(kind)},
        }
        timing = published.get(timing_var)
        if isinstance(timing, dict) and timing:
            entry["timing"] = {k: timing[k] for k in ("wall_s", "checks", "tasks") if k in timing}
        if host not in active:
            unreachable = timing.get("unreachable") if isinstance(timing, dict) else None
            if unreachable:
                entry["reason"] = "unreachable: %s" % " ".join(str(unreachable).split())[:300]
            else:
                entry["reason"] = (
                    "failed after its report was written" if paths else "failed or unreachable before its report"
                )
        entries.append(entry)
    return entries
