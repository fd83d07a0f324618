# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The findings of the emergency role (playbooks/emergency.yml), one pure judge per step.

The role observes (health findings, container and database answers, command results) and
passes plain data here; each judge says what was found and what was done, or would be done in
check mode, as findings. The ``emergency_findings`` filter exposes them to the role.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import Finding, FindingError, make_finding

Facts = dict[str, Any]


def _text(value: Any, default: str) -> str:
    text = str(value).strip() if value is not None else ""
    return text or default


def _last_lines(lines: Any, count: int) -> list[str]:
    return [str(line) for line in list(lines or [])][-count:] if count > 0 else []


def app(facts: Facts) -> list[Finding]:
    """The application as the health checks found it, before any action (a record: info)."""
    problems = [f for f in facts.get("health_findings") or [] if f.get("severity") == "critical"]
    summary = (
        "at diagnosis: application down: " + "; ".join(str(f.get("summary", "")) for f in problems)
        if problems
        else "at diagnosis: application up, every health check passed"
    )
    return [
        make_finding("emergency.app", facts["target"], "info", summary, {"down": bool(problems), "problems": problems})
    ]


def logs(facts: Facts) -> list[Finding]:
    """The last log lines of one container (``docker logs --timestamps``, both streams merged by time)."""
    count = int(facts["lines"])
    result = facts.get("result") or {}
    if result.get("rc") == 0:
        merged = sorted(list(result.get("stdout_lines") or []) + list(result.get("stderr_lines") or []))
        return [
            make_finding(
                "emergency.logs",
                facts["target"],
                "info",
                "last %d log lines" % count,
                {"lines": _last_lines(merged, count), "state": facts.get("state", "")},
            )
        ]
    reason = _text(result.get("stderr"), _text(result.get("msg"), "no answer"))
    return [
        make_finding("emergency.logs", facts["target"], "warning", "cannot read the logs: " + reason, {"lines": []})
    ]


def database(facts: Facts) -> list[Finding]:
    """Whether the database answered at diagnosis (a record: info) and its last log lines."""
    ping = facts.get("ping") or {}
    answers = bool(ping.get("is_available"))
    version = _text((ping.get("server_version") or {}).get("full"), "")
    if answers:
        summary = ("at diagnosis: the database answers: " + version).strip()
    else:
        reason = _text(ping.get("conn_err_msg"), _text(ping.get("msg"), "no answer"))
        summary = "at diagnosis: the database does not answer: " + reason
    found = [make_finding("emergency.database", facts["target"], "info", summary, {"answers": answers})]
    tail = facts.get("tail") or {}
    count = int(facts["lines"])
    source = facts.get("source") or "none"
    if tail.get("rc") == 0:
        lines = list(tail.get("stdout_lines") or []) + list(tail.get("stderr_lines") or [])
        found.append(
            make_finding(
                "emergency.db_logs", source, "info", "last %d log lines" % count, {"lines": _last_lines(lines, count)}
            )
        )
    else:
        reason = _text(tail.get("stderr"), "no log file, and no container of the database service found")
        found.append(
            make_finding(
                "emergency.db_logs", source, "warning", "cannot read the database log: " + reason, {"lines": []}
            )
        )
    return found


def restart(facts: Facts) -> list[Finding]:
    """The web restart: done (and whether every container runs healthy again), or why not."""
    down = bool(facts.get("down"))
    asked = bool(facts.get("asked"))
    service = facts["service"]
    if not down:
        return []
    if facts.get("done"):
        result = facts.get("result") or {}
        states = [str(s) for s in facts.get("states") or []]
        health = [str(h) for h in facts.get("health") or []]
        healthy = (
            not result.get("failed")
            and bool(states)
            and set(states) == {"running"}
            and all(h in ("healthy", "none") for h in health)
        )
        details = {"action": "restart", "service": service, "states_after": states, "health_after": health}
        if healthy:
            summary = "restarted: the service was down, its containers run healthy again (health verified next)"
            return [make_finding("emergency.restart", facts["target"], "warning", summary, details)]
        seen = ", ".join("%s/%s" % pair for pair in zip(states, health)) or "no container"
        reason = _text(result.get("msg"), seen) if result.get("failed") else seen
        summary = "restarted, but not healthy within %s s: %s" % (facts.get("wait_timeout"), reason)
        return [make_finding("emergency.restart", facts["target"], "critical", summary, details)]
    if asked and facts.get("check_mode"):
        why = "check mode: would restart the service"
    elif asked and facts.get("contained"):
        why = "containment (-e contain=true) keeps the public service stopped"
    else:
        why = "diagnose only: -e act=true or -e emergency_restart_web=true restarts the service"
    details = {"action": "none", "service": service, "asked": asked}
    return [make_finding("emergency.restart", facts["target"], "info", "not restarted: " + why, details)]


def restart_db(facts: Facts) -> list[Finding]:
    """The database restart (last resort): done and answering again, or why not."""
    asked = bool(facts.get("asked"))
    how = facts.get("how") or ""
    if facts.get("done"):
        after = facts.get("after") or {}
        details = {"action": "restart", "command": how}
        if after.get("is_available"):
            version = _text((after.get("server_version") or {}).get("full"), "")
            summary = ("restarted the database (%s); it answers again: %s" % (how, version)).strip()
            return [make_finding("emergency.restart_db", facts["target"], "warning", summary, details)]
        reason = _text(facts.get("failure"), _text(after.get("conn_err_msg"), "no answer"))
        summary = "restarted the database (%s), but it does not answer: %s" % (how, reason)
        return [make_finding("emergency.restart_db", facts["target"], "critical", summary, details)]
    if asked and facts.get("check_mode"):
        why = "check mode: would restart the database (%s)" % how
    elif not facts.get("answers", True):
        why = "last resort, only with -e emergency_restart_db=true"
    else:
        return []
    details = {"action": "none", "asked": asked}
    return [make_finding("emergency.restart_db", facts["target"], "info", "not restarted: " + why, details)]


def cache(facts: Facts) -> list[Finding]:
    """The cache clear in a running web container: done, failed, or what check mode would do."""
    container = facts.get("container") or ""
    result = facts.get("result") or {}
    details = {"action": "none", "container": container, "rc": result.get("rc")}
    if facts.get("check_mode"):
        summary = "check mode: would clear the cache in " + (container or "a running web container")
        return [make_finding("emergency.cache", facts["target"], "info", summary, details)]
    if result.get("rc") == 0:
        details["action"] = "clear_cache"
        return [make_finding("emergency.cache", facts["target"], "info", "cleared the cache in " + container, details)]
    reason = _text(result.get("stderr"), _text(result.get("msg"), "no running web container"))
    return [make_finding("emergency.cache", facts["target"], "warning", "cache not cleared: " + reason, details)]


def contain(facts: Facts) -> list[Finding]:
    """Containment: the public service stopped (or what check mode would stop), and the database still answering."""
    running = [str(name) for name in facts.get("running") or []]
    result = facts.get("result") or {}
    check_mode = bool(facts.get("check_mode"))
    done = not check_mode and not result.get("failed")
    details = {"action": "stop", "services": facts.get("services") or [], "containers": running, "done": done}
    if check_mode:
        severity, summary = "info", "check mode: would stop " + (", ".join(running) or "no running container")
    elif result.get("failed"):
        severity, summary = "critical", "containment failed: " + _text(result.get("msg"), "no message")
    else:
        severity = "warning"
        summary = (
            "contained: public service stopped (%s); start it again with docker compose up -d "
            "or playbooks/emergency.yml -e act=true" % (", ".join(running) or "it was not running")
        )
    db = facts.get("db") or {}
    if db.get("is_available"):
        version = _text((db.get("server_version") or {}).get("full"), "")
        db_finding = make_finding(
            "emergency.database",
            facts["db_target"],
            "ok",
            ("the database still answers: " + version).strip(),
            {"after": "containment"},
        )
    else:
        reason = _text(db.get("conn_err_msg"), _text(db.get("msg"), "no answer"))
        db_finding = make_finding(
            "emergency.database",
            facts["db_target"],
            "critical",
            "the database does not answer: " + reason,
            {"after": "containment"},
        )
    return [make_finding("emergency.contain", facts["target"], severity, summary, details), db_finding]


def incident(facts: Facts) -> list[Finding]:
    """The evidence bundle: written (with its checksums), what check mode would collect, or why it was not written."""
    tarball = facts["tarball"]
    if facts.get("check_mode"):
        logs_found = [str(p) for p in facts.get("logs") or []]
        containers = [str(c) for c in facts.get("containers") or []]
        summary = (
            "check mode: would collect %d log window(s) of the last %s h, inspect and logs of %d container(s), "
            "pg_stat_activity and the findings of the run into this tarball (0600, sha256 manifest)"
            % (len(logs_found), facts.get("hours"), len(containers))
        )
        details = {"logs": logs_found, "containers": containers, "written": False}
        return [make_finding("emergency.incident", tarball, "info", summary, details)]
    if facts.get("failure") is not None:
        summary = "evidence bundle not written: " + _text(facts.get("failure"), "no message")
        return [make_finding("emergency.incident", tarball, "critical", summary, {"written": False})]
    files = sorted(str(f) for f in facts.get("files") or [])
    summary = "evidence bundle written: %d files, sha256 %s (checksums in %s.sha256)" % (
        len(files) + 1,
        facts["sha256"],
        tarball,
    )
    # Evidence without the database's sessions is incomplete: say so, the bundle is kept.
    severity = "info" if facts.get("activity_read") else "warning"
    if not facts.get("activity_read"):
        summary += "; pg_stat_activity not read: " + _text(facts.get("activity_error"), "no answer")
    details = {
        "bundle": tarball,
        "sha256": facts["sha256"],
        "manifest_sha256": facts["manifest_sha256"],
        "files": files,
        "pg_stat_activity": "read" if facts.get("activity_read") else "not read",
        "written": True,
    }
    return [make_finding("emergency.incident", tarball, severity, summary, details)]


STEPS: dict[str, Callable[[Facts], list[Finding]]] = {
    "app": app,
    "logs": logs,
    "database": database,
    "restart": restart,
    "restart_db": restart_db,
    "cache": cache,
    "contain": contain,
    "incident": incident,
}


def judge(facts: Any, step: str, previous: Optional[list[Finding]] = None) -> list[Finding]:
    """The findings of ``step`` from ``facts``, appended to ``previous``."""
    if step not in STEPS:
        raise FindingError("unknown emergency step %r (one of %s)" % (step, ", ".join(sorted(STEPS))))
    if not isinstance(facts, dict):
        raise FindingError("the facts of emergency step %s must be a mapping, got %s" % (step, type(facts).__name__))
    try:
        found = STEPS[step](facts)
    except KeyError as exc:
        raise FindingError("emergency step %s needs the fact %s" % (step, exc)) from exc
    return list(previous or []) + found
