# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The one container-health judge of the collection, for the health role and compose_rollback's gate.

Containers come in either shape Docker gives them: ``docker container inspect`` (what
compose_rollback and community.docker.docker_container_info read: ``State`` is a mapping, with
the exit code, and ``HostConfig.RestartPolicy``) or the API's container list (GET
/containers/json, as community.docker.docker_host_info gives it with verbose_output: ``State``
is a word, the health is in the ``Status`` text). container_summary() reads both into one
summary; judge_container() is the one rule:

* running: ``ok``, or ``unhealthy`` / ``starting`` by its Docker healthcheck;
* exited with code 0 and restart policy ``no``: ``finished``, a one-shot service that did its job
  (a migration job); fine. The list shape has no restart policy: there a container that exited
  is never known to be one-shot;
* exited otherwise, dead, or restarting more than twice: ``failed``;
* anything else (created, restarting, paused, removing): ``not_running``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._findings import make_finding

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"

Summary = dict[str, Any]

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")

# Verdicts of judge_container, as the health role reports them.
SEVERITY = {
    "ok": "ok",
    "finished": "ok",
    "starting": "warning",
    "unhealthy": "critical",
    "not_running": "critical",
    "failed": "critical",
}
# A container restarting more often than this is failing, not starting.
MAX_RESTARTS = 2
# Docker's default healthcheck interval, when the container's Config.Healthcheck gives 0.
DEFAULT_HEALTH_INTERVAL = 30.0
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def container_health(container: Mapping[str, Any]) -> str:
    """``healthy``, ``unhealthy``, ``starting`` or ``none`` (no healthcheck), from the list's Status text."""
    match = _HEALTH.search(container.get("Status") or "")
    if not match:
        return "none"
    return "starting" if match.group(1) == "health: starting" else match.group(1)


def container_name(container: Mapping[str, Any]) -> str:
    names = container.get("Names") or []
    if names:
        return str(names[0]).lstrip("/")
    return str(container.get("Name") or "").lstrip("/") or str(container.get("Id", ""))[:12]


def container_summary(container: Mapping[str, Any]) -> Summary:
    """What the judge and compose_rollback need of one container, from either shape."""
    state = container.get("State")
    if isinstance(state, Mapping):
        config = container.get("Config") or {}
        labels = config.get("Labels") or {}
        status = state.get("Status")
        exit_code = state.get("ExitCode")
        health = (state.get("Health") or {}).get("Status") or "none"
        restart_policy: Optional[str] = ((container.get("HostConfig") or {}).get("RestartPolicy") or {}).get(
            "Name"
        ) or ""
        restart_count = container.get("RestartCount", 0) or 0
        status_text = "exit code %s" % exit_code if status in ("exited", "dead") else status
        image_id = container.get("Image")
        started_at = state.get("StartedAt")
    else:
        labels = container.get("Labels") or {}
        status = state
        status_text = container.get("Status") or ""
        exited = _EXITED.match(status_text)
        exit_code = int(exited.group(1)) if exited else None
        health = container_health(container)
        restart_policy = None  # the list does not say
        restart_count = 0
        image_id = container.get("ImageID")
        started_at = None
        config = container
    return {
        "id": str(container.get("Id", ""))[:12],
        "name": container_name(container),
        "project": labels.get(PROJECT_LABEL),
        "service": labels.get(SERVICE_LABEL),
        "oneoff": str(labels.get(ONEOFF_LABEL, "False")).lower() == "true",
        "reference": config.get("Image"),
        "image_id": image_id,
        "status": status,
        "status_text": status_text,
        "health": health,
        "started_at": started_at,
        "restart_count": restart_count,
        "exit_code": exit_code,
        "restart_policy": restart_policy,
    }


def service_containers(summaries: Sequence[Summary], service: str, project: Optional[str] = None) -> list[Summary]:
    """The long-running containers of one service (one-off ``compose run`` containers excluded),
    of ``project`` when given."""
    return [
        c
        for c in summaries or []
        if c["service"] == service and not c["oneoff"] and (project is None or c["project"] == project)
    ]


def judge_container(summary: Summary) -> str:
    """The verdict on one container: ok, finished, starting, unhealthy, not_running or failed."""
    status = summary["status"]
    if status == "running":
        if summary["health"] in ("unhealthy", "starting"):
            return str(summary["health"])
        return "ok"
    if status == "exited" and summary["exit_code"] == 0 and summary["restart_policy"] in ("", "no"):
        return "finished"
    if status in ("exited", "dead") or (status == "restarting" and summary["restart_count"] > MAX_RESTARTS):
        return "failed"
    return "not_running"


def gate_poll(
    members: Sequence[Summary],
    services: Sequence[str],
    unhealthy_since: Mapping[str, float],
    now: float,
    grace: float,
) -> tuple[Optional[str], list[str], dict[str, float]]:
    """One look of compose_rollback's health gate at the containers of ``services``.

    Returns (failed, problems, unhealthy_since): ``failed`` says why the gate gives up at once (a
    container failed, or stayed unhealthy longer than ``grace`` seconds); ``problems`` what it is
    still waiting for (nothing: healthy); ``unhealthy_since`` when each unhealthy container was
    first seen so (the next look's input).
    """
    problems = ["%s has no container" % s for s in services if not any(c["service"] == s for c in members)]
    since = dict(unhealthy_since)
    failed = None
    for container in members:
        verdict = judge_container(container)
        if verdict == "failed":
            failed = "%s is %s" % (container["name"], container["status"])
        elif verdict == "not_running":
            problems.append("%s is %s" % (container["name"], container["status"]))
        elif verdict == "unhealthy":
            first = since.setdefault(container["id"], now)
            if now - first > grace:
                failed = "%s is unhealthy for more than %d s" % (container["name"], grace)
            else:
                problems.append("%s is unhealthy" % container["name"])
        elif verdict == "starting":
            problems.append("%s health is starting" % container["name"])
        else:
            since.pop(container["id"], None)
    return failed, problems, since


def _service_summary(states: Sequence[Summary], verdicts: Sequence[str]) -> tuple[str, str]:
    """The severity and summary of one service whose containers got ``verdicts``."""
    for wanted in ("failed", "not_running"):
        down = [s for s, v in zip(states, verdicts) if v == wanted]
        if down:
            return "critical", "%s is %s (%s)" % (down[0]["name"], down[0]["status"], down[0]["status_text"])
    unhealthy = [s for s, v in zip(states, verdicts) if v == "unhealthy"]
    if unhealthy:
        return "critical", "%s is running but unhealthy (%s)" % (unhealthy[0]["name"], unhealthy[0]["status_text"])
    starting = [s for s, v in zip(states, verdicts) if v == "starting"]
    if starting:
        return "warning", "%s is running, health check still starting" % starting[0]["name"]
    running = [s for s in states if s["status"] == "running"]
    finished = len(states) - len(running)
    parts = []
    if running or not finished:
        healthchecked = all(s["health"] == "healthy" for s in running)
        parts.append(
            "%d container(s) running%s"
            % (len(running), ", healthy" if healthchecked else " (no Docker healthcheck defined)")
        )
    if finished:
        parts.append("%d one-shot container(s) finished with exit code 0" % finished)
    return "ok", "; ".join(parts)


def judge_services(
    containers: Sequence[Mapping[str, Any]], project: str, services: Sequence[str], check: str = "health.containers"
) -> list[dict[str, Any]]:
    """One finding per expected service, each container judged by judge_container().

    Critical: no container, a container failed or not running, or an unhealthy one. Warning: a
    health check still starting. Ok: every container running and healthy (or without a
    healthcheck, which the finding says, since nothing then proves the process answers), or a
    one-shot container that finished with exit code 0.
    """
    summaries = [container_summary(c) for c in containers or []]
    findings = []
    for service in services:
        target = "%s/%s" % (project, service)
        members = service_containers(summaries, service, project)
        states = [
            {
                "container": c["name"],
                "state": c["status"],
                "status": c["status_text"],
                "health": c["health"],
                "image": c["reference"],
            }
            for c in members
        ]
        running = [c["name"] for c in members if c["status"] == "running"]
        details = {"service": service, "containers": states, "container": running[0] if running else None}
        if not members:
            summary = "no container for service %s in project %s" % (service, project)
            findings.append(make_finding(check, target, "critical", summary, details))
            continue
        severity, summary = _service_summary(members, [judge_container(c) for c in members])
        findings.append(make_finding(check, target, severity, summary, details))
    return findings


def parse_timestamp(text: Any) -> Optional[float]:
    """Seconds since the epoch of one of Docker's RFC 3339 times (nanoseconds, ``Z`` or an
    offset); None for the zero time (``0001-01-01T00:00:00Z``) or anything else."""
    match = _TIMESTAMP.match(str(text or ""))
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        when = datetime.fromisoformat(match.group(1) + zone).timestamp()
    except ValueError:
        return None
    if when < 0:
        return None
    return when + float("0.%s" % (match.group(2) or "0"))


def health_due(containers: Sequence[Mapping[str, Any]], now: float) -> Optional[float]:
    """Seconds from ``now`` (epoch) until Docker's next health-check result is due for the
    containers (``docker container inspect``'s shape) that wait only for one: running, health
    ``starting`` or ``unhealthy``. The next check starts ``Interval`` after the end of the previous
    one (or after the start, for the first; ``StartInterval`` when the engine has it, Docker 25+);
    its result comes some time later (0.2-4 s here, under load), so this is the earliest moment
    it can come, and negative once that moment passed. None when nothing is due this way: one of
    them is not running yet, or none has a healthcheck that is still deciding.

    compose_rollback's gate sleeps until then instead of polling (bench/compose_rollback.py:
    each look starts a Docker CLI process, CPU that the starting application needs); a status
    can change between checks only by the container stopping, which the gate's longest sleep
    still catches.
    """
    dues = []
    for container in containers:
        state = container.get("State") or {}
        health = state.get("Health") or {}
        if not isinstance(state, Mapping) or state.get("Status") != "running":
            return None
        if health.get("Status") not in ("starting", "unhealthy"):
            continue  # healthy, or no healthcheck: not waiting for a check
        check = (container.get("Config") or {}).get("Healthcheck") or {}
        interval = (check.get("Interval") or 0) / 1e9 or DEFAULT_HEALTH_INTERVAL
        if check.get("StartInterval"):
            interval = min(interval, check["StartInterval"] / 1e9)
        ends = [parse_timestamp(e.get("End")) for e in health.get("Log") or [] if isinstance(e, Mapping)]
        last = max((e for e in ends if e is not None), default=None) or parse_timestamp(state.get("StartedAt"))
        if last is None:
            return None
        dues.append(last + interval - now)
    return min(dues) if dues else None
