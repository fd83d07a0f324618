# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""compose_rollback's health gate and its start-first change, against a real Compose project.

Every verdict on a container is _compose_status.judge_container's (through gate_poll); the HTTP
part is _http_probe.probe_until_ok. What is here only looks, waits and acts.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._compose import Compose, ComposeError
from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import Summary, gate_poll, health_due
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import probe_until_ok

# (healthy, health, reason): the gate's verdict, what it saw, and why it failed.
Verdict = tuple[bool, dict[str, Any], Optional[str]]
# A short poll: the gate returns soon after Docker reports healthy (bench/compose_rollback.py).
POLL = 0.25
# While the containers wait only for Docker's next health check, the gate sleeps until that
# check can start (_compose_status.health_due) plus MARGIN, never longer than MAX_SLEEP (a
# container that stops between checks is still seen within that time), and polls every POLL
# while the check runs.
MARGIN = 0.05
MAX_SLEEP = 1.0


def pace(due: Optional[float]) -> float:
    """The gate's next sleep, from the seconds until the next health result is due (None: unknown)."""
    if due is None:
        return POLL
    return min(MAX_SLEEP, max(POLL, due + MARGIN))


class HealthGate:
    """Waits for the containers' health (honouring start_period, not failing on the first
    unhealthy probe), then checks the health URL, then the image ids."""

    def __init__(
        self,
        compose: Compose,
        timeout: float,
        grace: float,
        http: Optional[Mapping[str, Any]] = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.compose = compose
        self.timeout = timeout
        self.grace = grace
        # url, accepted, pattern (text), retries, interval, timeout, validate_certs; None: no URL.
        self.http = dict(http) if http and http.get("url") else None
        self.clock = clock
        self.sleep = sleep
        self.wall = wall

    def wait_containers(self, expected: Sequence[str], only_ids: Optional[Sequence[str]] = None) -> dict[str, Any]:
        """Wait until every container of the services (or only those of `only_ids`) runs and is healthy."""
        start = self.clock()
        attempts = 0
        since: dict[str, float] = {}
        # The containers just started (start-first) are known: inspect only them from the first look.
        ids: list[str] = list(only_ids or [])
        while True:
            attempts += 1
            # The project's container list once, then only `docker container inspect` of those ids
            # (the CPU is the starting application's); the list again when one of them is gone.
            summaries: Optional[list[Summary]] = None
            if ids:
                try:
                    summaries = self.compose.containers(ids)
                except ComposeError:
                    summaries = None
            if summaries is None:
                summaries = self.compose.containers()
                ids = [c["id"] for c in summaries]
            members = [
                c
                for c in summaries
                if c["service"] in expected and not c["oneoff"] and (only_ids is None or c["id"] in only_ids)
            ]
            now = self.clock()
            failed, problems, since = gate_poll(members, expected, since, now, self.grace)
            elapsed = round(now - start, 1)
            summary: dict[str, Any] = {"attempts": attempts, "elapsed": elapsed, "containers": members}
            if failed:
                summary.update(status="unhealthy", reason=failed)
                return summary
            if not problems:
                summary["status"] = "healthy"
                return summary
            if elapsed >= self.timeout:
                summary.update(status="timeout", reason="after %d s: %s" % (self.timeout, "; ".join(problems)))
                return summary
            looked = set(c["id"] for c in members)
            waiting = [c for c in self.compose.inspected if str(c.get("Id", ""))[:12] in looked]
            self.sleep(pace(health_due(waiting, self.wall())))

    def judge(self, images: Mapping[str, str]) -> Verdict:
        """Container health, then HTTP, then the image ids."""
        health = self.wait_containers(list(images))
        if health["status"] != "healthy":
            return False, health, health["reason"]
        if self.http:
            h = self.http
            pattern = re.compile(h["pattern"]) if h.get("pattern") else None
            http = probe_until_ok(
                h["url"],
                h["accepted"],
                pattern,
                retries=h["retries"],
                interval=h["interval"],
                timeout=h["timeout"],
                validate_certs=h["validate_certs"],
                sleep=self.sleep,
            )
            health["http"] = http
            if not http["ok"]:
                health["status"] = "unhealthy"
                return False, health, "health URL %s: %s" % (h["url"], http["reason"])
        wrong = [
            "%s runs %s, not %s" % (c["name"], c["image_id"], images[c["service"]])
            for c in health["containers"]
            if images.get(c["service"]) and c["image_id"] != images[c["service"]]
        ]
        if wrong:
            health["status"] = "wrong_image"
            return False, health, "; ".join(wrong)
        return True, health, None

    def verdict(self, images: Mapping[str, str]) -> Verdict:
        """The verdict on `images`; a failure to observe counts as unhealthy, never as an
        exception, so a restore still follows."""
        try:
            return self.judge(images)
        except Exception as exc:  # the engine or the endpoint misbehaved while we looked
            return False, {"status": "unknown", "reason": str(exc)}, "health could not be checked: %s" % exc


def start_first(
    compose: Compose,
    gate: HealthGate,
    images: Mapping[str, str],
    services: Sequence[str],
    before: Mapping[str, Sequence[str]],
    directory: str,
    actions: list[str],
) -> Verdict:
    """Start the target beside the running containers (``before``: service -> their ids); when
    the new ones are healthy, stop and remove the old ones. Returns (took_over, health, reason).
    When the target does not become healthy, its containers are removed and the old ones never
    stopped serving. Raises ComposeError when removing containers fails."""
    scale = dict((s, 2 * len(before[s])) for s in services if before[s])
    try:
        compose.up_pinned(images, services, directory, scale=scale, no_recreate=True)
        now = compose.service_container_ids(services)
        new = [i for s in services for i in now[s] if i not in before[s]]
        actions.append("started %s with the target images beside the running containers" % ", ".join(services))
        health = gate.wait_containers(services, only_ids=new)
    except Exception as exc:  # compose up failed, or the engine misbehaved while we looked
        health = {"status": "failed", "reason": str(exc)}
    if health["status"] == "healthy":
        old = [i for s in services for i in before[s]]
        compose.remove_containers(old)
        if old:
            actions.append("new containers healthy; stopped and removed the previous containers %s" % ", ".join(old))
        return True, health, None
    reason = health["reason"]
    # Whatever was started beside the old containers goes; the old ones kept serving.
    now = compose.service_container_ids(services)
    started = [i for s in services for i in now[s] if i not in before[s]]
    compose.remove_containers(started)
    actions.append(
        "target unhealthy (%s); removed the new containers %s, the previous ones kept serving"
        % (reason, ", ".join(started) or "(none left)")
    )
    return False, health, reason
