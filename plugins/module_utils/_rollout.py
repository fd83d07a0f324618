# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The decisions of compose_rollback, pure: plain data in, plain data out, unit tested.

The module observes (Compose, Docker, the history), asks decide() for the next step, acts, puts
what it saw into the facts and asks again, until decide() says the run is done. The outcome
(its message, whether it failed, the finding the deploy and rollback roles publish) is decided
here too.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._compose import start_first_problems
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import url_problem, valid_status_spec
from ansible_collections.stronghold.ops.plugins.module_utils._options import read_seconds
from ansible_collections.stronghold.ops.plugins.module_utils._releases import standing_message, summary_item

# Seconds in a day: the longest wait any option of compose_rollback may ask for.
DAY = 86400

# Bounds of the number options: (name, bounds, a duration).
NUMBER_OPTIONS: tuple[tuple[str, dict[str, float], bool], ...] = (
    ("history_size", {"minimum": 1, "maximum": 10000}, False),
    ("health_timeout", {"minimum": 0, "maximum": DAY}, True),
    ("unhealthy_grace", {"minimum": 0, "maximum": DAY}, True),
    ("health_retries", {"minimum": 0, "maximum": 10000}, False),
    ("lock_wait", {"minimum": 0, "maximum": DAY}, True),
    ("health_interval", {"minimum": 0, "maximum": 3600}, True),
    ("health_request_timeout", {"above": 0, "maximum": 3600}, True),
)

# Outcomes after a change that did not end healthy: (rollback_failed, recovered).
FAILED_OUTCOMES = {
    "kept_serving": True,
    "recovered": True,
    "kept_serving_unhealthy": False,
    "restore_unhealthy": False,
    "restore_failed": False,
    "left": False,
}
CHECKS = {"deployed": "deploy.release", "rolled_back": "rollback.release", "recorded": "release.record"}

Image = Mapping[str, Any]
Images = Mapping[str, Optional[Image]]


class RolloutError(Exception):
    """A run that cannot go on, or a change that did not end healthy (``outcome``, a decide()
    outcome); the module fails with this message and what it knows so far."""

    def __init__(self, message: str, outcome: str = "failed") -> None:
        super().__init__(message)
        self.outcome = outcome


def first_result(strategy: str, history_path: str, actions: list[str]) -> dict[str, Any]:
    """What every run of compose_rollback returns, before it knows anything (``actions`` is the
    list the run appends to)."""
    return {
        "changed": False,
        "recovered": False,
        "rollback_failed": False,
        "actions": actions,
        "strategy": strategy,
        "history_path": history_path,
        "from": {},
        "to": {},
        "changed_services": [],
        "from_release": None,
        "to_release": None,
        "commands": [],
        "env_neutralised": [],
    }


def option_problems(params: Mapping[str, Any]) -> tuple[list[str], dict[str, float]]:
    """What is wrong with the options (files aside), and the number options in seconds or counts."""
    p = params
    problems = []
    if p["state"] == "deployed" and not p["images"]:
        problems.append("state deployed needs images (the target image of each service)")
    if p["state"] == "recorded" and (p["images"] or p["release"]):
        problems.append("state recorded records what runs now; images and release do not apply")
    if p["images"] is not None:
        if not p["images"]:
            problems.append("images is empty")
        for service, reference in p["images"].items():
            if not isinstance(reference, str) or not reference.strip():
                problems.append("images.%s must be an image reference" % service)
        if p["services"] and set(p["services"]) != set(p["images"]):
            problems.append("with images, services are the keys of images; leave services empty")
    # Float options accept nan and inf, which pass plain comparisons, and a huge wait overflows
    # the clock and socket calls: each lies within documented bounds.
    numbers = {}
    for name, bounds, duration in NUMBER_OPTIONS:
        try:
            numbers[name] = (
                read_seconds(p[name], name, **bounds) if duration else bounded_number(p[name], name, **bounds)
            )
        except FindingError as exc:
            problems.append(str(exc))
    bad = [s for s in p["health_status"] if not valid_status_spec(s)]
    if bad:
        problems.append("health_status must list HTTP codes or classes such as 2xx; bad: %s" % ", ".join(bad))
    if p["health_url"]:
        problem = url_problem(p["health_url"], "health_url")
        if problem:
            problems.append(problem)
    if p["health_body_pattern"]:
        try:
            re.compile(p["health_body_pattern"])
        except re.error as exc:
            problems.append("health_body_pattern is not a valid regular expression: %s" % exc)
    return problems, numbers


def scope(
    project: Optional[str],
    declared: Mapping[str, Optional[str]],
    images: Optional[Mapping[str, str]],
    services: Sequence[str],
) -> list[str]:
    """The services a run acts on: the keys of ``images``, else ``services``, else every service
    of the Compose files (``declared``: name -> image) that has an image."""
    if images:
        wanted = list(images)
    elif services:
        wanted = list(services)
    else:
        wanted = sorted(name for name, image in declared.items() if image)
    unknown = [s for s in wanted if s not in declared]
    if unknown:
        raise RolloutError(
            "unknown service(s) %s in project %s; it has: %s"
            % (", ".join(unknown), project, ", ".join(sorted(declared)))
        )
    return wanted


def running_image(service: str, members: Sequence[Mapping[str, Any]]) -> Optional[tuple[str, str]]:
    """(reference, image id) that the containers of ``service`` run, None when it has none."""
    if not members:
        return None
    ids = set(c["image_id"] for c in members)
    if len(ids) > 1:
        raise RolloutError(
            "service %s runs several images at once (%s); finish or undo that change first"
            % (service, ", ".join(sorted(ids)))
        )
    return members[0]["reference"], members[0]["image_id"]


def image_ids(images: Images, services: Sequence[str]) -> dict[str, str]:
    """service -> image id, for the services of ``services`` that have an image."""
    found = {}
    for service in services:
        image = images.get(service)
        if image:
            found[service] = str(image["image_id"])
    return found


def shown(images: Images, services: Sequence[str]) -> str:
    """The distinct references (or ids) of ``images``, as the messages and findings show them."""
    seen: list[str] = []
    for service in services:
        image = images.get(service)
        if image:
            text = str(image.get("reference") or image.get("image_id"))
            if text not in seen:
                seen.append(text)
    return ", ".join(seen)


def change_diff(services: Sequence[str], current: Images, target: Images, entry: Mapping[str, Any]) -> dict[str, Any]:
    before = dict((s, (current.get(s) or {}).get("reference")) for s in services)
    after: dict[str, Any] = dict((s, shown(target, [s])) for s in services)
    after["history entry"] = entry
    return {"before": before, "after": after}


def standing_result(
    project: Optional[str], plan: Mapping[str, Any], current: Images, services: Sequence[str]
) -> dict[str, Any]:
    """What a rollback without a target returns when a rollback already brought the project where
    it stands (default_rollback's ``plan`` has ``standing``): nothing changes, and the result says
    where the project stands (RV last_rollback) and how to go further back (RV candidates)."""
    standing = plan["standing"]
    references = dict((s, shown(current, [s])) for s in services)
    last = {
        "release": standing["id"],
        "at": standing.get("recorded_at"),
        "from_release": standing.get("from_release"),
        "from": dict(
            (s, v.get("reference") or v["image_id"]) for s, v in (standing.get("from_services") or {}).items()
        ),
    }
    return {
        "to": dict((s, current[s]) for s in services),
        "from_release": standing["id"],
        "to_release": standing["id"],
        "last_rollback": last,
        "candidates": [summary_item(c) for c in plan["candidates"]],
        "msg": standing_message(project, standing, plan["candidates"]),
        "diff": {"before": references, "after": dict(references)},
    }


def decide(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The next step of a deploy or a rollback to a known target, from what was observed so far.

    ``facts``: state (deployed or rolled_back), strategy, on_failure, check_mode, services,
    current (service -> image running before, or None), target (service -> image),
    config_services (of `compose config`); after the change, ``change`` {took_over, healthy, reason}; after the
    previous images were restored or confirmed, ``restore`` {error, healthy, reason}.

    Steps: ``unchanged``, ``refuse``, ``preview`` and ``done`` end the run (``done`` has the
    ``outcome``); ``change`` applies the target, ``confirm`` checks that the previous images
    still serve, ``restore`` puts them back and checks them. Every step names the services whose
    image changes (``changed``).
    """
    step = _next_step(facts)
    step.setdefault("changed", _changed(facts))
    return step


def _changed(facts: Mapping[str, Any]) -> list[str]:
    current, target = facts["current"], facts["target"]
    return [s for s in facts["services"] if (current.get(s) or {}).get("image_id") != target[s]["image_id"]]


def _next_step(facts: Mapping[str, Any]) -> dict[str, Any]:
    services = facts["services"]
    current = facts["current"]
    target = facts["target"]
    changed = _changed(facts)
    start_first = facts["strategy"] == "start_first"
    if not changed:
        return {"step": "unchanged"}
    problems = start_first_problems(facts["config_services"], changed) if start_first else []
    if problems:
        return {
            "step": "refuse",
            "msg": "strategy start_first needs services that can run two containers at once: %s; use strategy "
            "recreate for them" % "; ".join(problems),
        }
    if facts["check_mode"]:
        action = (
            "would start %s beside the running containers, then stop the old ones"
            if start_first
            else "would recreate %s"
        )
        return {"step": "preview", "action": action % ", ".join(changed)}
    change = facts.get("change")
    if change is None:
        return {"step": "change", "images": image_ids(target, services)}
    if change["healthy"]:
        return {"step": "done", "outcome": "healthy"}
    previous = image_ids(current, services)
    restorable = [s for s in changed if current.get(s)]
    restore = facts.get("restore")
    if not change["took_over"]:
        if restore is None:
            return {"step": "confirm", "images": previous}
        return _done("kept_serving" if restore["healthy"] else "kept_serving_unhealthy", facts, changed)
    if facts["on_failure"] != "restore" or not restorable:
        return _done("left", facts, changed, restorable=bool(restorable))
    if restore is None:
        return {"step": "restore", "services": restorable, "images": image_ids(current, restorable), "gate": previous}
    if restore.get("error"):
        return _done("restore_failed", facts, changed)
    # Services that ran nothing before cannot go back to anything: say so, never "recovered".
    unrestorable = [s for s in changed if not current.get(s)]
    if restore["healthy"] and unrestorable:
        reason = "service(s) %s had no container before and still run the target" % ", ".join(unrestorable)
        return _done("restore_unhealthy", facts, changed, restore_reason=reason)
    return _done("recovered" if restore["healthy"] else "restore_unhealthy", facts, changed)


def _done(
    outcome: str,
    facts: Mapping[str, Any],
    changed: Sequence[str],
    restorable: bool = True,
    restore_reason: Optional[str] = None,
) -> dict[str, Any]:
    """The end of a change that was not healthy: its message."""
    reason = facts["change"]["reason"]
    restore = facts.get("restore") or {}
    restore_reason = restore_reason or restore.get("reason")
    verb = "deploy" if facts["state"] == "deployed" else "rollback"
    what = "%s of %s was unhealthy (%s)" % (
        verb,
        ", ".join("%s=%s" % (s, facts["target"][s]["reference"] or facts["target"][s]["image_id"]) for s in changed),
        reason,
    )
    messages = {
        "kept_serving": "%s; its containers were removed before they took over: the previous images served "
        "throughout and are healthy" % what,
        "kept_serving_unhealthy": "%s; its containers were removed before they took over, but the previous images "
        "are not healthy either (%s)" % (what, restore_reason),
        "recovered": "%s; the previous images are serving again and are healthy" % what,
        "restore_unhealthy": "target unhealthy (%s) and the restored previous images are unhealthy too (%s)"
        % (reason, restore_reason),
        "restore_failed": "target unhealthy (%s) and restoring the previous images failed: %s"
        % (reason, restore.get("error")),
        "left": "target unhealthy (%s); left as it is (on_failure: %s)"
        % (reason, facts["on_failure"] if restorable else "nothing to restore"),
    }
    return {
        "step": "done",
        "outcome": outcome,
        "msg": messages[outcome],
        "rollback_failed": True,
        "recovered": FAILED_OUTCOMES[outcome],
    }


def release_finding(
    state: str,
    outcome: str,
    project_src: str,
    result: Mapping[str, Any],
    images: Optional[Mapping[str, str]] = None,
) -> dict[str, Any]:
    """The finding of one compose_rollback run, with the summary the deploy and rollback roles publish.

    ``outcome`` is a decide() outcome, or ``unchanged``, ``preview``, ``standing``, ``recorded``,
    ``already_recorded`` or ``failed`` (the run stopped before or while changing anything);
    ``result`` the module's result so far (from, to, msg, health, actions, ...).
    """
    failed = outcome == "failed" or outcome in FAILED_OUTCOMES
    services = list((images or {}) or result.get("to") or {})
    before = result.get("from") or {}
    after = result.get("to") or {}
    msg = str(result.get("msg") or "no result")
    details = {
        "from": before,
        "to": after,
        "changed": bool(result.get("changed")),
        "recovered": bool(result.get("recovered")),
        "actions": list(result.get("actions") or []),
        "release": result.get("recorded_release") or result.get("to_release"),
        "last_rollback": result.get("last_rollback"),
        "candidates": [c["id"] for c in result.get("candidates") or []],
    }
    severity = "critical" if failed else "ok"
    if state == "deployed":
        deployed = ", ".join(dict.fromkeys((images or {}).values())) or "(no images)"
        previous = shown(before, list(before))
        cause = (result.get("health") or {}).get("reason") or msg
        summaries = {
            "healthy": "deployed %s to %s, healthy" % (deployed, ", ".join(services)),
            "unchanged": "%s already runs on %s; nothing to deploy" % (deployed, ", ".join(services)),
            "preview": "would deploy %s to %s" % (deployed, ", ".join(services)),
            "kept_serving": "deploy of %s was unhealthy and never took over: the previous release (%s) served "
            "throughout and is healthy. Cause: %s" % (deployed, previous, cause),
            "recovered": "deploy of %s was unhealthy and undone: the previous release (%s) is serving again and "
            "healthy. Cause: %s" % (deployed, previous, cause),
        }
        if outcome in summaries:
            summary = summaries[outcome]
        elif outcome in FAILED_OUTCOMES:
            summary = "deploy of %s was unhealthy and the previous release (%s) could NOT be restored: %s" % (
                deployed,
                previous,
                msg,
            )
        else:
            summary = "deploy of %s did not start: %s" % (deployed, cause)
        return make_finding(CHECKS[state], deployed, severity, summary, details)
    if state == "recorded":
        release = result.get("to_release")
        healthy = (result.get("health") or {}).get("status") == "healthy"
        summaries = {
            "recorded": "recorded release %s (%s)" % (release, "healthy" if healthy else "unhealthy"),
            "already_recorded": "already recorded as %s" % release,
        }
        if outcome == "recorded" and not healthy:
            severity = "warning"
            summaries["recorded"] += ": %s" % (result.get("health") or {}).get("reason")
        summary = summaries.get(outcome) or "recording the release failed: %s" % msg
        return make_finding(CHECKS[state], project_src, severity, summary, details)
    moved = "from %s to %s" % (shown(before, list(before)), shown(after, list(after)))
    summaries = {
        "healthy": "rolled back %s" % moved,
        "preview": "would roll back %s" % moved,
        "unchanged": "already at %s" % shown(after, list(after)),
        "standing": msg,
    }
    summary = summaries.get(outcome) or "rollback failed: %s" % msg
    return make_finding(CHECKS[state], project_src, severity, summary, details)


def with_findings(
    result: dict[str, Any],
    state: str,
    outcome: str,
    project_src: str,
    images: Optional[Mapping[str, str]] = None,
) -> dict[str, Any]:
    """``result`` with its ``findings`` and ``worst_severity`` (in place)."""
    findings = [release_finding(state, outcome, project_src, result, images)]
    result.update(findings=findings, worst_severity=worst_severity(findings))
    return result
