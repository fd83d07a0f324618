# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The Compose project compose_rollback works on: what it runs, the images a target needs, and
the changes themselves. It looks and acts; what to do next is _rollout.decide's.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._compose import (
    Compose,
    ComposeError,
    clean_environment,
    files_hash,
    image_summary,
)
from ansible_collections.stronghold.ops.plugins.module_utils._compose_gate import HealthGate, start_first
from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import service_containers
from ansible_collections.stronghold.ops.plugins.module_utils._releases import History, Release, known_reference
from ansible_collections.stronghold.ops.plugins.module_utils._rollout import (
    RolloutError,
    image_ids,
    running_image,
    scope,
)


class ComposeProject:
    """One Compose project, through the module (``module``: its params, check mode and run_command).

    ``numbers`` are the number options read by _rollout.option_problems (durations in seconds);
    ``files`` the Compose files; every action taken is appended to ``actions``.
    """

    def __init__(
        self, module: Any, numbers: Mapping[str, float], files: Sequence[str], history_path: str, actions: list[str]
    ) -> None:
        self.module = module
        self.p = p = module.params
        self.files = list(files)
        self.history_path = history_path
        self.actions = actions
        texts = []
        for name in self.files:
            with open(self.path(name), encoding="utf-8") as handle:
                texts.append(handle.read())
        env, self.env_neutralised = clean_environment(os.environ, texts, p["docker_host"], p["keep_env"])
        self.compose = Compose(
            self.run_command,
            p["project_src"],
            self.files,
            p["env_files"],
            p["profiles"],
            p["project_name"],
            env,
            p["compose_command"],
        )
        http = {
            "url": p["health_url"],
            "accepted": p["health_status"],
            "pattern": p["health_body_pattern"],
            "retries": p["health_retries"],
            "interval": numbers["health_interval"],
            "timeout": numbers["health_request_timeout"],
            "validate_certs": p["health_validate_certs"],
        }
        self.gate = HealthGate(self.compose, numbers["health_timeout"], numbers["unhealthy_grace"], http)
        self.project: Optional[str] = None
        self.config_services: dict[str, Any] = {}
        self.services: list[str] = []
        # service -> {reference, image_id, digest} running now, or None
        self.current: dict[str, Optional[dict[str, Any]]] = {}
        # service -> ids of its containers before any change
        self.before_ids: dict[str, list[str]] = {}
        self.compose_hash = ""

    def path(self, name: str) -> str:
        return name if os.path.isabs(name) else os.path.join(self.p["project_src"], name)

    def run_command(self, argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> tuple[int, str, str]:
        # run_command adds to os.environ and cannot remove from it; this process is the
        # module's own, so its environment becomes exactly the one Compose must see.
        os.environ.clear()
        os.environ.update(env)
        rc, out, err = self.module.run_command(list(argv), cwd=cwd)
        return rc, out, err

    # --- observe ---------------------------------------------------------------------------
    def observe(self) -> None:
        config = self.compose.config()
        self.config_services = config.get("services") or {}
        self.project = self.p["project_name"] or config.get("name")
        self.compose.project_name = self.compose.project_name or self.project
        declared = dict((name, svc.get("image")) for name, svc in self.config_services.items())
        self.services = scope(self.project, declared, self.p["images"], self.p["services"])
        self.compose_hash = files_hash(self.p["project_src"], self.files)
        containers = self.compose.containers()
        for service in self.services:
            members = service_containers(containers, service)
            self.before_ids[service] = [c["id"] for c in members]
            running = running_image(service, members)
            if running is None:
                self.current[service] = None
                continue
            image = self.compose.inspect_image(running[1]) or {}
            digest = (image.get("RepoDigests") or [None])[0]
            self.current[service] = {"reference": running[0], "image_id": running[1], "digest": digest}

    def name_references(self, history: History) -> None:
        """A container created from a pinned image id shows the id as its reference; give it back
        the reference the history (or else the image's first tag) knows it by."""
        for service, current in self.current.items():
            if current and (current["reference"] or "").startswith("sha256:"):
                known = known_reference(history["releases"], service, current["image_id"])
                tags = [] if known else (self.compose.inspect_image(current["image_id"]) or {}).get("RepoTags") or []
                current["reference"] = known or (tags[0] if tags else current["reference"])

    def local_image(self, lookup: str, pull: Optional[str], missing: str) -> Optional[dict[str, Any]]:
        """The image `lookup` as the engine knows it (pulled as `pull` when missing and O(pull) is
        set); None in check mode when it would be pulled. RolloutError(missing) when absent."""
        image = self.compose.inspect_image(lookup)
        if image is None and self.p["pull"] and pull:
            if self.module.check_mode:
                self.actions.append("would pull %s" % pull)
                return None
            self.compose.pull(pull)
            self.actions.append("pulled %s" % pull)
            image = self.compose.inspect_image(lookup)
        if image is None:
            raise RolloutError(missing)
        return image

    def images_target(self, images: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """Per service {reference, image_id, digest} of explicit image references."""
        target = {}
        hint = "" if self.p["pull"] else " (pull: true would pull it)"
        for service, reference in images.items():
            missing = "image %s for service %s is not present locally%s" % (reference, service, hint)
            image = self.local_image(reference, reference, missing)
            target[service] = image_summary(image, reference) if image else dict.fromkeys(["image_id", "digest"])
            target[service]["reference"] = reference
        return target

    def release_target(self, release: Release) -> dict[str, dict[str, Any]]:
        """Per service {reference, image_id, digest} of a release of the history."""
        target = {}
        for service in self.services:
            recorded = release["services"][service]
            image = self.local_image(
                recorded["image_id"],
                recorded.get("digest") or recorded.get("reference"),
                "image %s (%s) of release %s for service %s is not present locally"
                % (recorded["image_id"], recorded.get("reference"), release["id"], service),
            )
            target[service] = {
                "reference": recorded.get("reference"),
                "image_id": image["Id"] if image else recorded["image_id"],
                "digest": recorded.get("digest"),
            }
        return target

    # --- act -------------------------------------------------------------------------------
    def change(self, ids: Mapping[str, str], services: Sequence[str]) -> dict[str, Any]:
        """Apply the target (service -> image id) to ``services`` and judge it:
        {took_over, healthy, reason, health, stopped_previous}."""
        directory = os.path.dirname(self.history_path)
        took_over = True
        if self.p["strategy"] == "start_first":
            try:
                took_over, health, reason = start_first(
                    self.compose, self.gate, ids, services, self.before_ids, directory, self.actions
                )
            except ComposeError as exc:
                raise RolloutError(
                    "strategy start_first: %s; the containers of %s may need a look" % (exc, ", ".join(services))
                ) from exc
            healthy = False
            if took_over:
                healthy, health, reason = self.gate.verdict(ids)
        else:
            try:
                self.compose.up_pinned(ids, services, directory)
            except ComposeError as exc:
                # Compose may have recreated some containers before it gave up (a dependency that
                # never became healthy): the previous state must come back like after a failed gate.
                healthy, health, reason = False, {"status": "failed", "reason": str(exc)}, "compose up failed: %s" % exc
            else:
                self.actions.append("recreated %s with the target images" % ", ".join(services))
                healthy, health, reason = self.gate.verdict(ids)
        if took_over and not healthy:
            self.actions.append("target unhealthy: %s" % reason)
        return {"took_over": took_over, "healthy": healthy, "reason": reason, "health": health}

    def restore(self, images: Mapping[str, str], services: Sequence[str], gate: Mapping[str, str]) -> dict[str, Any]:
        """Put ``images`` back on ``services`` (none: only check) and judge ``gate``, the
        previous images: {error, healthy, reason, health}."""
        if services:
            try:
                self.compose.up_pinned(images, services, os.path.dirname(self.history_path))
            except ComposeError as exc:
                return {"error": str(exc), "healthy": False, "reason": None, "health": None}
            self.actions.append("restored %s to the previous images" % ", ".join(services))
        healthy, health, reason = self.gate.verdict(gate)
        return {"error": None, "healthy": healthy, "reason": reason, "health": health}

    def previous_ids(self) -> dict[str, str]:
        return image_ids(self.current, self.services)
