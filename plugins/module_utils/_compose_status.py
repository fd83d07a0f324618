# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Judge the containers of a Compose project from the Docker API's container list.

The input is what GET /containers/json returns (as community.docker.docker_host_info gives it
with verbose_output): each container with Names, State, Status and Labels.
"""

from __future__ import annotations

import re

from ansible_collections.stronghold.ops.plugins.module_utils._findings import make_finding

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


def container_health(container):
    """``healthy``, ``unhealthy``, ``starting`` or ``none`` (no healthcheck), from the Status text."""
    match = _HEALTH.search(container.get("Status") or "")
    if not match:
        return "none"
    return "starting" if match.group(1) == "health: starting" else match.group(1)


def container_name(container):
    names = container.get("Names") or []
    return names[0].lstrip("/") if names else container.get("Id", "")[:12]


def service_containers(containers, project, service):
    """The long-running containers of one service (one-off `run` containers excluded)."""
    found = []
    for container in containers or []:
        labels = container.get("Labels") or {}
        if labels.get(PROJECT_LABEL) != project or labels.get(SERVICE_LABEL) != service:
            continue
        if labels.get(ONEOFF_LABEL, "False").lower() == "true":
            continue
        found.append(container)
    return found


def judge_services(containers, project, services, check="health.containers"):
    """One finding per expected service.

    Critical: no container, a container not running, or an unhealthy one. Warning: a health
    check still starting. Ok: every container running and healthy (or without a healthcheck,
    which the finding says, since nothing then proves the process answers).
    """
    findings = []
    for service in services:
        target = "%s/%s" % (project, service)
        members = service_containers(containers, project, service)
        states = [
            {
                "container": container_name(c),
                "state": c.get("State"),
                "status": c.get("Status"),
                "health": container_health(c),
                "image": c.get("Image"),
            }
            for c in members
        ]
        running = [s for s in states if s["state"] == "running"]
        details = {
            "service": service,
            "containers": states,
            "container": running[0]["container"] if running else None,
        }
        if not members:
            findings.append(
                make_finding(
                    check, target, "critical", "no container for service %s in project %s" % (service, project), details
                )
            )
            continue
        down = [s for s in states if s["state"] != "running"]
        unhealthy = [s for s in running if s["health"] == "unhealthy"]
        starting = [s for s in running if s["health"] == "starting"]
        if down:
            summary = "%s is %s (%s)" % (down[0]["container"], down[0]["state"], down[0]["status"])
            findings.append(make_finding(check, target, "critical", summary, details))
        elif unhealthy:
            summary = "%s is running but unhealthy (%s)" % (unhealthy[0]["container"], unhealthy[0]["status"])
            findings.append(make_finding(check, target, "critical", summary, details))
        elif starting:
            summary = "%s is running, health check still starting" % starting[0]["container"]
            findings.append(make_finding(check, target, "warning", summary, details))
        else:
            healthchecked = all(s["health"] == "healthy" for s in running)
            summary = "%d container(s) running%s" % (
                len(running),
                ", healthy" if healthchecked else " (no Docker healthcheck defined)",
            )
            findings.append(make_finding(check, target, "ok", summary, details))
    return findings
