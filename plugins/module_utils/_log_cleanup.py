# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The weekly rotated-log cleanup's findings, for the logs role (``logs_mode: cleanup``).

The runbook's ``find logs/ -name "*.log.*" -mtime +7 -delete``: the role lists the candidates
with ansible.builtin.find (rotated names only, live names excluded, older than the age) and
deletes them with ansible.builtin.file. cleanup_findings() says what was (or would be) deleted
and what could not be; is_live() is the second guard: a candidate that a live pattern matches
is never deleted, whatever the rotated pattern said.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._findings import Finding, FindingError, make_finding

CHECK = "logs.cleanup"


def is_live(path: str, live_patterns: Sequence[str]) -> bool:
    """True when a live pattern (a regular expression searched in the file name) matches ``path``."""
    name = str(path).rsplit("/", 1)[-1]
    for pattern in live_patterns or ():
        try:
            if re.search(pattern, name):
                return True
        except re.error as exc:
            raise FindingError("bad live-log pattern %r: %s" % (pattern, exc)) from exc
    return False


def deletable(files: Sequence[Mapping[str, Any]], live_patterns: Sequence[str]) -> list[str]:
    """The paths of ansible.builtin.find's ``files`` that no live pattern matches, sorted."""
    return sorted(str(f["path"]) for f in files or () if not is_live(str(f["path"]), live_patterns))


def _mib(size: float) -> str:
    return "%.1f MiB" % (size / 1048576.0)


def cleanup_findings(
    target: str,
    check_mode: bool,
    age: str,
    files: Sequence[Mapping[str, Any]],
    live_patterns: Sequence[str],
    results: Optional[Sequence[Mapping[str, Any]]] = None,
    find_result: Optional[Mapping[str, Any]] = None,
) -> list[Finding]:
    """Findings of one cleanup: ``files`` from ansible.builtin.find, ``results`` of the deletions (``item`` a path)."""
    if find_result and find_result.get("failed"):
        return [
            make_finding(CHECK, target, "critical", "cannot list the logs: %s" % find_result.get("msg", "no result"))
        ]
    sizes = {str(f["path"]): float(f.get("size") or 0) for f in files or ()}
    paths = deletable(files, live_patterns)
    live = sorted(set(sizes) - set(paths))
    failed = {str(r.get("item")): str(r.get("msg") or "no result") for r in results or () if r.get("failed")}
    done = [p for p in paths if p not in failed]
    details = {"age": age, "check_mode": check_mode, "deleted": done, "skipped_live": live}
    warnings = (find_result or {}).get("skipped_paths") or {}
    if warnings:
        details["unreadable"] = warnings
    findings: list[Finding] = []
    if done:
        verb = "would delete" if check_mode else "deleted"
        findings.append(
            make_finding(
                CHECK,
                target,
                "info",
                "%s %d rotated log(s) older than %s (%s)" % (verb, len(done), age, _mib(sum(sizes[p] for p in done))),
                details,
            )
        )
    elif not failed:
        findings.append(make_finding(CHECK, target, "ok", "no rotated log older than %s" % age, details))
    for path, msg in sorted(failed.items()):
        findings.append(make_finding(CHECK, path, "critical", "rotated log not deleted: %s" % msg, {"path": path}))
    if warnings:
        findings.append(
            make_finding(
                CHECK, target, "warning", "%d path(s) could not be read" % len(warnings), {"unreadable": warnings}
            )
        )
    return findings
