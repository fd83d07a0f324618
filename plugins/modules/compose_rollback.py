#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compose_rollback
short_description: Record Compose releases and return to one, without down, gated on health
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Keeps a history of the releases of a Docker Compose v2 project (per service the image
    reference, image id and repository digest, the Compose files' hash, the time, whether it
    was healthy) and returns the project to one of them. Replaces the runbook's Quick Rollback
    (C(down), pull C(:previous), C(up)).
  - V(state=recorded) snapshots what runs now as a release; deploys call it after a healthy
    deploy. V(state=rolled_back) returns to the last healthy release before the current one,
    to a named O(release), or to explicit O(images). V(state=deployed) moves to explicit
    O(images) with the same safety and records the result.
  - A rollback run twice leaves the project where the first one left it. Unlike
    C(kubectl rollout undo), whose second undo returns to the revision the first one left, a
    rollback without O(release) or O(images) never picks a release that a rollback left (until
    that release runs again, by a deploy, a named rollback or by hand). When the last change
    that stuck was a rollback to what runs now, the run changes nothing and says where the
    project stands (RV(last_rollback)) and which releases a rollback may name to go further
    back (RV(candidates)).
  - Every change is a new history entry saying what it was (C(action)) and what ran before
    (C(from_release), C(from_services)); a release that a rollback left carries
    C(rolled_back_at) and C(rolled_back_to). Histories written by earlier versions, without these
    fields, are read as they are.
  - It never runs C(down) and never removes volumes. It pins the target images by id (a re-pushed
    tag cannot change what comes back) in a generated override file and recreates only the
    services whose image changes (C(up -d --no-deps --pull never)). Shell variables that the
    Compose files interpolate are removed from Compose's environment, so a C(TAG) left in the
    shell cannot turn the rollback into a no-op.
  - Before touching anything, every target image must be present locally (or is pulled when
    O(pull=true)) and an exclusive lock on the project is taken.
  - Health gate. Waits for the containers' health (honouring C(start_period), and not failing on
    the first unhealthy probe), then checks O(health_url), then verifies that every container
    runs the target image id. When that fails, O(on_failure=restore) puts the previous images
    back and checks health again; RV(recovered) and RV(rollback_failed) say plainly what happened.
  - O(strategy=start_first) keeps the application serving during the change. The target
    containers start beside the running ones (C(up --no-recreate --scale)), and the running
    containers are stopped only when the new ones are healthy. A target that never becomes
    healthy is removed before it takes over, so the previous release serves throughout. After
    the old containers stop, the full health gate runs as with V(recreate).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The plan is built from read-only calls (C(compose config), C(compose ps), C(docker inspect)); C(--dry-run) is never used.
  diff_mode:
    support: full
    details: Shows the image of every service before and after, and the history entry to be written.
  platform:
    support: full
    platforms: posix
options:
  project_src:
    description: Directory of the Compose project (its files and C(.env)).
    type: path
    required: true
  files:
    description: Compose files relative to O(project_src), merged in order; Compose's default file names when empty.
    type: list
    elements: path
    default: []
  env_files:
    description: Environment files passed with C(--env-file); C(.env) in O(project_src) when empty, as Compose does.
    type: list
    elements: path
    default: []
  profiles:
    description: Compose profiles to enable.
    type: list
    elements: str
    default: []
  project_name:
    description: Project name; the C(name) of the Compose files, or Compose's default, when omitted.
    type: str
  services:
    description:
      - Services in scope; every service with an image when empty. With O(images), the services
        are the keys of O(images).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(rolled_back) returns to a release, V(deployed) moves to O(images) and records the
        result, V(recorded) records what runs now.
    type: str
    choices: [rolled_back, deployed, recorded]
    default: rolled_back
  release:
    description:
      - Id of the release to return to (see RV(history)); any release of the history, including one
        that a rollback left.
      - The default is the newest healthy release before the current one that no rollback left
        since it last ran; nothing changes when a rollback already brought the project where it is.
    type: str
  images:
    description:
      - Explicit target images per service, as references (C(repo:tag), C(repo@sha256:...)) or
        image ids. Without a history, this is how the runbook's convention is followed (for
        example V(web) mapped to V(financial-stronghold:previous)); nothing is ever guessed.
    type: dict
  history_path:
    description: The release history file; C(.stronghold/releases.json) under O(project_src) by default.
    type: path
  history_size:
    description: Releases kept in the history (the oldest are dropped); 1 to 10000.
    type: int
    default: 10
  note:
    description: Text stored with a recorded release (who deployed, the AWX job, the change).
    type: str
  lock_wait:
    description:
      - Seconds a run waits for another run on the same project to finish before failing; 0 to
        86400. Every number option of this module must be finite (no V(nan) or V(inf)).
    type: float
    default: 0
  pull:
    description: Pull a target image that is not present locally (by digest when the history has one).
    type: bool
    default: false
  docker_host:
    description: Docker engine to use (C(DOCKER_HOST)); the environment's or the default socket when omitted.
    type: str
  compose_command:
    description:
      - The Compose command as a list, for example V([docker, compose]) or V([/usr/local/bin/docker-compose]).
        By default C(docker compose), then C(docker-compose); Compose v1 is refused.
    type: list
    elements: str
  keep_env:
    description: Shell variables the Compose files interpolate that are passed to Compose anyway.
    type: list
    elements: str
    default: []
  health_timeout:
    description: Seconds to wait for the containers to be healthy after a change; 0 to 86400.
    type: int
    default: 120
  unhealthy_grace:
    description:
      - Seconds an C(unhealthy) container may take to recover before the change is declared
        failed (C(docker compose up --wait) gives up at the first unhealthy status); 0 to 86400.
    type: int
    default: 20
  health_url:
    description: HTTP endpoint checked after the containers are healthy, such as C(http://127.0.0.1:8000/api/v1/health/).
    type: str
  health_status:
    description: Accepted HTTP statuses, codes or classes such as V(2xx).
    type: list
    elements: str
    default: ['2xx']
  health_body_pattern:
    description: Regular expression the health body must match.
    type: str
  health_retries:
    description: HTTP attempts before the endpoint is declared unhealthy; 0 to 10000.
    type: int
    default: 10
  health_interval:
    description: Seconds between HTTP attempts; 0 to 3600.
    type: float
    default: 2
  health_request_timeout:
    description: Seconds allowed for each HTTP attempt; more than 0 and at most 3600.
    type: float
    default: 5
  health_validate_certs:
    description: Verify the certificate of an https O(health_url).
    type: bool
    default: true
  on_failure:
    description:
      - When the target release is unhealthy, V(restore) puts the previous images back and checks
        health again; V(leave) stops there. Either way the task fails.
    type: str
    choices: [restore, leave]
    default: restore
  strategy:
    description:
      - V(recreate) (the default) stops each changed container and starts its replacement, as
        C(docker compose up) does; the service is unavailable while the new container starts.
      - V(start_first) starts the target containers beside the running ones (twice the
        containers for a moment), waits until the new ones are healthy (Docker healthcheck), then
        stops and removes the old ones and runs the full health gate. A target that does not
        become healthy is stopped and removed while the previous containers keep serving; then
        O(on_failure) does not apply, since nothing was replaced. After the old containers
        stopped, a failed gate is handled by O(on_failure) as with V(recreate).
      - V(start_first) needs services that can run two containers at once. A service with
        C(container_name) or a fixed published host port is refused before anything changes.
        Under host networking the application must bind its port with C(SO_REUSEPORT)
        (C(gunicorn --reuse-port)); otherwise the new container cannot listen, turns unhealthy
        and is removed, and the old one keeps serving. Its Docker healthcheck must ask the
        container's own server, not the shared port, or it may see the old release's answer.
        For a moment both releases answer requests, as behind any rolling update.
    type: str
    choices: [recreate, start_first]
    default: recreate
notes:
  - The pinned override exists only while the module runs. A plain C(docker compose up -d) run
    by hand afterwards starts what the Compose files and env files name; keep the env file's tag
    in step with the release (the C(deploy) and C(rollback) roles of this collection do).
  - Rolling back images does not roll back the database; a release whose code needs migrations
    the database no longer has is a database rollback (stronghold.ops.pg_restore).
  - Requires Compose v2 (2.18 or later) and the Docker CLI on the host that runs the module.
seealso:
  - module: community.docker.docker_compose_v2
"""

EXAMPLES = r"""
- name: Record the release that runs now (after a healthy deploy)
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    state: recorded
    health_url: http://127.0.0.1:8000/api/v1/health/
    note: "deploy 1.4.2 by AWX job {{ awx_job_id | default('manual') }}"

- name: Roll back to the previous healthy release
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    health_url: http://127.0.0.1:8000/api/v1/health/
  register: rollback

- name: Run again, it stays; to go further back, name one of the candidates it returns
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    release: "{{ rollback.candidates[0].id }}"
    health_url: http://127.0.0.1:8000/api/v1/health/
  when: rollback is not changed and rollback.candidates | default([]) | length > 0

- name: Roll back without downtime (the new containers start before the old ones stop)
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    strategy: start_first
    health_url: http://127.0.0.1:8000/api/v1/health/

- name: No history yet - follow the runbook's convention explicitly
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    images:
      web: financial-stronghold:previous
    health_url: http://127.0.0.1:8000/api/v1/health/

- name: Deploy a new tag; restored automatically when unhealthy
  stronghold.ops.compose_rollback:
    project_src: /opt/financial-stronghold
    files: [docker-compose.production.yml]
    state: deployed
    images:
      web: financial-stronghold:1.4.2
      worker: financial-stronghold:1.4.2
    health_url: http://127.0.0.1:8000/api/v1/health/
"""

RETURN = r"""
from:
  description: Per service, the image running before (reference, image_id, digest).
  returned: always
  type: dict
  sample: {web: {reference: "financial-stronghold:1.1.0", image_id: "sha256:5d1e...", digest: null}}
to:
  description: Per service, the target image.
  returned: always
  type: dict
  sample: {web: {reference: "financial-stronghold:1.0.0", image_id: "sha256:9a0c...", digest: null}}
changed_services:
  description: Services whose containers were (or would be) recreated.
  returned: always
  type: list
  elements: str
  sample: [web, worker]
from_release:
  description: Id of the release that matched what ran before, when it is in the history.
  returned: always
  type: str
  sample: 20261127T101500Z-1a2b3c4d
to_release:
  description: Id of the release returned to when it came from the history (or of the release recorded by O(state=recorded)).
  returned: always
  type: str
  sample: 20261120T101500Z-9f8e7d6c
recorded_release:
  description: Id of the history entry written for the new state after a healthy change.
  returned: when a change ended healthy
  type: str
  sample: 20261127T110200Z-9f8e7d6c
health:
  description: The health gate of the target (status, attempts, elapsed seconds, containers, http).
  returned: when a change was applied or a release recorded
  type: dict
  sample: {status: healthy, attempts: 12, elapsed: 14.2, http: {status: 200, attempts: 1}}
recovered:
  description: The target was unhealthy and the previous images were restored and are healthy again.
  returned: always
  type: bool
  sample: false
rollback_failed:
  description: The target was unhealthy (whether or not the previous state was restored).
  returned: always
  type: bool
  sample: false
restore_health:
  description: The health gate after restoring the previous images.
  returned: when the previous images were restored
  type: dict
  sample: {status: healthy, attempts: 8, elapsed: 9.1}
actions:
  description: What was done, in order.
  returned: always
  type: list
  elements: str
  sample: ["recreate web, worker with the target images", "containers healthy", "http 200"]
commands:
  description: The Compose and Docker commands run.
  returned: always
  type: list
  elements: str
  sample: ["docker compose --ansi never --project-directory /opt/fs -f docker-compose.production.yml ps --all --format json"]
env_neutralised:
  description: Shell variables removed from Compose's environment because the Compose files interpolate them.
  returned: always
  type: list
  elements: str
  sample: [APP_TAG]
history:
  description: The releases in the history after the run, newest last.
  returned: always
  type: list
  elements: dict
  sample: [{id: 20261127T101500Z-1a2b3c4d, recorded_at: "2026-11-27T10:15:00Z", healthy: true, action: deployed,
            from_release: 20261120T101500Z-9f8e7d6c, services: {web: "financial-stronghold:1.1.0"}}]
  contains: &release_summary
    id:
      description: The release id (UTC time and a hash of the image ids).
      type: str
      sample: 20261127T101500Z-1a2b3c4d
    recorded_at:
      description: When the release was recorded (UTC).
      type: str
      sample: "2026-11-27T10:15:00Z"
    healthy:
      description: Whether the release passed the health gate.
      type: bool
      sample: true
    action:
      description:
        - V(recorded), V(deployed) or V(rolled_back); V(null) for entries written by earlier versions.
      type: str
      sample: rolled_back
    services:
      description: Per service, the image reference.
      type: dict
      sample: {web: "financial-stronghold:1.0.0"}
    from_release:
      description: For a deploy or a rollback, the release that ran before it (when it was in the history).
      type: str
      returned: when known
      sample: 20261120T101500Z-9f8e7d6c
    rolled_back_at:
      description: When a rollback left this release (a rollback without a target does not return to it).
      type: str
      returned: when a rollback left the release
      sample: "2026-11-27T11:02:00Z"
    rolled_back_to:
      description: The id of the rollback entry that left this release.
      type: str
      returned: when a rollback left the release
      sample: 20261127T110200Z-9f8e7d6c
last_rollback:
  description: The rollback that brought the project where it stands, when a rollback without a target changed nothing because of it.
  returned: when a rollback without a target found the project where a rollback brought it
  type: dict
  sample: {release: 20261127T110200Z-9f8e7d6c, at: "2026-11-27T11:02:00Z", from_release: 20261127T101500Z-1a2b3c4d,
           from: {web: "financial-stronghold:1.1.0"}}
  contains:
    release:
      description: The id of the rollback entry (the release that runs).
      type: str
      sample: 20261127T110200Z-9f8e7d6c
    at:
      description: When that rollback happened (UTC).
      type: str
      sample: "2026-11-27T11:02:00Z"
    from_release:
      description: The release that rollback left, when it was in the history.
      type: str
      sample: 20261127T101500Z-1a2b3c4d
    from:
      description: Per service, the image that rollback left.
      type: dict
      sample: {web: "financial-stronghold:1.1.0"}
candidates:
  description: The healthy releases a rollback may name with O(release) to go further back, newest first, one per set of images.
  returned: when a rollback without a target found the project where a rollback brought it
  type: list
  elements: dict
  sample: [{id: 20261120T101500Z-9f8e7d6c, recorded_at: "2026-11-20T10:15:00Z", healthy: true, action: deployed,
            services: {web: "financial-stronghold:0.9.0"}}]
  contains: *release_summary
msg:
  description: Where the project stands and how to go further back, when a rollback without a target changed nothing.
  returned: when a rollback without a target found the project where a rollback brought it
  type: str
  sample: >-
    project financial-stronghold already runs release 20261127T110200Z-9f8e7d6c (financial-stronghold:1.0.0), where the
    rollback at 2026-11-27T11:02:00Z brought it from release 20261127T101500Z-1a2b3c4d (financial-stronghold:1.1.0); ...
history_path:
  description: The history file.
  returned: always
  type: str
  sample: /opt/financial-stronghold/.stronghold/releases.json
strategy:
  description: The strategy used (O(strategy)).
  returned: always
  type: str
  sample: start_first
stopped_previous:
  description:
    - Whether the previous containers of the changed services were stopped. Always V(true) for
      a change with V(recreate) (they stop before their replacements start). With
      V(start_first), V(true) once the target took over, V(false) when it never did.
  returned: when a change was applied
  type: bool
  sample: false
compose_version:
  description: Version of Compose used.
  returned: always
  type: str
  sample: 2.26.1
"""

import json
import os
import re
import tempfile
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._compose import (
    Compose,
    ComposeError,
    clean_environment,
    container_summary,
    default_compose_files,
    files_hash,
    image_summary,
    start_first_problems,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, bounded_number
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import (
    probe,
    status_accepted,
    valid_status_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._releases import (
    HistoryError,
    LockBusy,
    ProjectLock,
    default_rollback,
    load_history,
    matches,
    release_id,
    save_history,
    standing_message,
)

# Seconds in a day: the longest wait any option of this module may ask for.
DAY = 86400


class Failure(Exception):
    pass


class Rollback:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.actions = []

    # --- setup -----------------------------------------------------------------------------
    def validate(self):
        p = self.p
        problems = []
        if not os.path.isdir(p["project_src"]):
            problems.append("project_src %s is not a directory" % p["project_src"])
        else:
            for name in p["files"] + p["env_files"]:
                path = name if os.path.isabs(name) else os.path.join(p["project_src"], name)
                if not os.path.isfile(path):
                    problems.append("%s not found in %s" % (name, p["project_src"]))
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
        # Number options: float ones accept nan and inf, which pass plain comparisons, and a
        # huge wait overflows the clock and socket calls. Each lies within documented bounds.
        for name, bounds in (
            ("history_size", {"minimum": 1, "maximum": 10000}),
            ("health_timeout", {"minimum": 0, "maximum": DAY}),
            ("unhealthy_grace", {"minimum": 0, "maximum": DAY}),
            ("health_retries", {"minimum": 0, "maximum": 10000}),
            ("lock_wait", {"minimum": 0, "maximum": DAY}),
            ("health_interval", {"minimum": 0, "maximum": 3600}),
            ("health_request_timeout", {"above": 0, "maximum": 3600}),
        ):
            try:
                bounded_number(p[name], name, **bounds)
            except FindingError as exc:
                problems.append(str(exc))
        bad = [s for s in p["health_status"] if not valid_status_spec(s)]
        if bad:
            problems.append("health_status must list HTTP codes or classes such as 2xx; bad: %s" % ", ".join(bad))
        if p["health_url"] and not re.match(r"^https?://[^/:?#\s]+(:[0-9]{1,5})?([/?#]\S*)?$", p["health_url"]):
            problems.append(
                "health_url %r must be an http:// or https:// URL whose port, when given, is a number" % p["health_url"]
            )
        if p["health_body_pattern"]:
            try:
                re.compile(p["health_body_pattern"])
            except re.error as exc:
                problems.append("health_body_pattern is not a valid regular expression: %s" % exc)
        if problems:
            self.module.fail_json(msg="; ".join(problems))
        self.files = p["files"] or default_compose_files(p["project_src"])
        if not self.files:
            self.module.fail_json(msg="no Compose file in %s; name it with files" % p["project_src"])
        self.history_path = p["history_path"] or os.path.join(p["project_src"], ".stronghold", "releases.json")

    def setup_compose(self):
        p = self.p
        texts = []
        for name in self.files:
            path = name if os.path.isabs(name) else os.path.join(p["project_src"], name)
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
        env, removed = clean_environment(os.environ, texts, p["docker_host"], p["keep_env"])
        self.env_neutralised = removed
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
        self.compose.detect()

    def run_command(self, argv, cwd, env):
        # run_command adds to os.environ and cannot remove from it; this process is the
        # module's own, so its environment becomes exactly the one Compose must see.
        os.environ.clear()
        os.environ.update(env)
        return self.module.run_command(argv, cwd=cwd)

    # --- observe ---------------------------------------------------------------------------
    def observe(self):
        config = self.compose.config()
        self.config_services = config.get("services") or {}
        self.project = self.p["project_name"] or config.get("name")
        if not self.compose.project_name:
            self.compose.project_name = self.project
        declared = dict((name, svc.get("image")) for name, svc in (config.get("services") or {}).items())
        if self.p["images"]:
            wanted = list(self.p["images"])
        elif self.p["services"]:
            wanted = list(self.p["services"])
        else:
            wanted = sorted(name for name, image in declared.items() if image)
        unknown = [s for s in wanted if s not in declared]
        if unknown:
            raise Failure(
                "unknown service(s) %s in project %s; it has: %s"
                % (", ".join(unknown), self.project, ", ".join(sorted(declared)))
            )
        self.services = wanted
        self.compose_hash = files_hash(self.p["project_src"], self.files)
        containers = self.compose.inspect_containers([c["ID"] for c in self.compose.ps()])
        self.containers = [s for s in (container_summary(c) for c in containers) if not s["oneoff"]]
        current = {}
        for service in self.services:
            members = [c for c in self.containers if c["service"] == service]
            if not members:
                current[service] = None
                continue
            ids = set(c["image_id"] for c in members)
            if len(ids) > 1:
                raise Failure(
                    "service %s runs several images at once (%s); finish or undo that change first"
                    % (service, ", ".join(sorted(ids)))
                )
            member = members[0]
            image = self.compose.inspect_image(member["image_id"]) or {}
            current[service] = {
                "reference": member["reference"],
                "image_id": member["image_id"],
                "digest": (image.get("RepoDigests") or [None])[0],
            }
        self.current = current

    def name_references(self, history):
        """A container created from a pinned image id shows the id as its reference; give it back
        the reference the history (or else the image's first tag) knows it by."""
        for service, current in self.current.items():
            if not current or not (current["reference"] or "").startswith("sha256:"):
                continue
            for entry in reversed(history["releases"]):
                recorded = entry["services"].get(service)
                if recorded and recorded["image_id"] == current["image_id"] and recorded.get("reference"):
                    current["reference"] = recorded["reference"]
                    break
            else:
                tags = (self.compose.inspect_image(current["image_id"]) or {}).get("RepoTags") or []
                if tags:
                    current["reference"] = tags[0]

    def resolve_target(self, history, chosen=None):
        """Per service {reference, image_id, digest}; the release it comes from, if any. `chosen`
        is the release a rollback without a target picked (default_rollback)."""
        p = self.p
        current_ids = dict((s, (v or {}).get("image_id")) for s, v in self.current.items())
        if p["images"]:
            target = {}
            for service, reference in p["images"].items():
                image = self.compose.inspect_image(reference)
                if image is None and p["pull"] and self.module.check_mode:
                    self.actions.append("would pull %s" % reference)
                    target[service] = {"reference": reference, "image_id": None, "digest": None}
                    continue
                if image is None and p["pull"]:
                    self.compose.pull(reference)
                    self.actions.append("pulled %s" % reference)
                    image = self.compose.inspect_image(reference)
                if image is None:
                    raise Failure(
                        "image %s for service %s is not present locally%s"
                        % (reference, service, "" if p["pull"] else " (pull: true would pull it)")
                    )
                target[service] = image_summary(image, reference)
            release = None
            for entry in reversed(history["releases"]):
                if matches(entry, dict((s, t["image_id"]) for s, t in target.items()), self.services):
                    release = entry
                    break
            return target, release
        if p["release"]:
            found = [r for r in history["releases"] if r["id"] == p["release"]]
            if not found:
                known = ", ".join(r["id"] for r in history["releases"][-5:]) or "none"
                raise Failure(
                    "release %s is not in the history %s (newest: %s)" % (p["release"], self.history_path, known)
                )
            release = found[0]
            missing = [s for s in self.services if s not in release["services"]]
            if missing:
                raise Failure("release %s has no image for service(s) %s" % (release["id"], ", ".join(missing)))
        else:
            release = chosen
        target = {}
        for service in self.services:
            recorded = release["services"][service]
            image = self.compose.inspect_image(recorded["image_id"])
            if image is None and p["pull"] and self.module.check_mode:
                self.actions.append("would pull %s" % (recorded.get("digest") or recorded.get("reference")))
                target[service] = {
                    "reference": recorded.get("reference"),
                    "image_id": recorded["image_id"],
                    "digest": recorded.get("digest"),
                }
                continue
            if image is None and p["pull"] and (recorded.get("digest") or recorded.get("reference")):
                self.compose.pull(recorded.get("digest") or recorded["reference"])
                self.actions.append("pulled %s" % (recorded.get("digest") or recorded["reference"]))
                image = self.compose.inspect_image(recorded["image_id"])
            if image is None:
                raise Failure(
                    "image %s (%s) of release %s for service %s is not present locally"
                    % (recorded["image_id"], recorded.get("reference"), release["id"], service)
                )
            target[service] = {
                "reference": recorded.get("reference"),
                "image_id": image["Id"],
                "digest": recorded.get("digest"),
            }
        return target, release

    # --- act -------------------------------------------------------------------------------
    def apply(self, images, services, scale=None, no_recreate=False):
        """Recreate `services` with `images` (service -> image id) pinned in an override (or,
        with `scale` and `no_recreate`, add containers beside the running ones)."""
        directory = os.path.dirname(self.history_path)
        os.makedirs(directory, mode=0o750, exist_ok=True)
        fd, override = tempfile.mkstemp(prefix="override-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(
                    {"services": dict((s, {"image": images[s], "pull_policy": "never"}) for s in services)}, handle
                )
            self.compose.up(services, override, scale=scale, no_recreate=no_recreate)
        finally:
            os.unlink(override)

    def wait_containers(self, expected, only_ids=None):
        """Wait until every container of the services (or only those of `only_ids`) runs and is healthy."""
        p = self.p
        start = time.monotonic()
        attempts = 0
        unhealthy_since = {}
        ids = None
        while True:
            attempts += 1
            # `compose ps` once, then only `docker container inspect` of those ids (a tenth of the
            # CPU, which the starting application needs); ps again when one of them is gone.
            inspected = None
            if ids:
                try:
                    inspected = self.compose.inspect_containers(ids)
                except ComposeError:
                    inspected = None
            if inspected is None:
                ids = [c["ID"] for c in self.compose.ps()]
                inspected = self.compose.inspect_containers(ids)
            containers = [container_summary(c) for c in inspected]
            members = [
                c
                for c in containers
                if c["service"] in expected and not c["oneoff"] and (only_ids is None or c["id"] in only_ids)
            ]
            problems = []
            for service in expected:
                if not any(c["service"] == service for c in members):
                    problems.append("%s has no container" % service)
            now = time.monotonic()
            failed = None
            for container in members:
                if (
                    container["status"] == "exited"
                    and container["exit_code"] == 0
                    and container["restart_policy"] in ("", "no")
                ):
                    continue  # a one-shot service (a migration job) that finished
                if container["status"] in ("exited", "dead") or (
                    container["status"] == "restarting" and container["restart_count"] > 2
                ):
                    failed = "%s is %s" % (container["name"], container["status"])
                elif container["status"] != "running":
                    problems.append("%s is %s" % (container["name"], container["status"]))
                elif container["health"] == "unhealthy":
                    first = unhealthy_since.setdefault(container["id"], now)
                    if now - first > p["unhealthy_grace"]:
                        failed = "%s is unhealthy for more than %d s" % (container["name"], p["unhealthy_grace"])
                    else:
                        problems.append("%s is unhealthy" % container["name"])
                elif container["health"] == "starting":
                    problems.append("%s health is starting" % container["name"])
                else:
                    unhealthy_since.pop(container["id"], None)
            elapsed = round(now - start, 1)
            summary = {"attempts": attempts, "elapsed": elapsed, "containers": members}
            if failed:
                summary.update(status="unhealthy", reason=failed)
                return summary
            if not problems:
                summary["status"] = "healthy"
                return summary
            if elapsed >= p["health_timeout"]:
                summary.update(status="timeout", reason="after %d s: %s" % (p["health_timeout"], "; ".join(problems)))
                return summary
            # A short poll: the gate returns soon after Docker reports healthy (bench/compose_rollback.py).
            time.sleep(0.25)

    def service_containers(self, services):
        """service -> ids of its containers (one-off runs excluded), from `compose ps`."""
        found = dict((s, []) for s in services)
        for container in self.compose.inspect_containers([c["ID"] for c in self.compose.ps()]):
            summary = container_summary(container)
            if summary["service"] in found and not summary["oneoff"]:
                found[summary["service"]].append(summary["id"])
        return found

    def start_first(self, ids, services):
        """Start the target beside the running containers; when the new ones are healthy, stop
        and remove the old ones. Returns (took_over, health, reason). When the target does not
        become healthy, its containers are removed and the old ones never stopped serving."""
        before = dict((s, [c["id"] for c in self.containers if c["service"] == s]) for s in services)
        scale = dict((s, 2 * len(before[s])) for s in services if before[s])
        new = []
        try:
            self.apply(ids, services, scale=scale, no_recreate=True)
            now = self.service_containers(services)
            new = [i for s in services for i in now[s] if i not in before[s]]
            self.actions.append("started %s with the target images beside the running containers" % ", ".join(services))
            health = self.wait_containers(services, only_ids=new)
        except Exception as exc:  # compose up failed, or the engine misbehaved while we looked
            health = {"status": "failed", "reason": str(exc)}
        if health["status"] == "healthy":
            old = [i for s in services for i in before[s]]
            self.compose.remove_containers(old)
            if old:
                self.actions.append(
                    "new containers healthy; stopped and removed the previous containers %s" % ", ".join(old)
                )
            return True, health, None
        reason = health["reason"]
        # Whatever was started beside the old containers goes; the old ones kept serving.
        now = self.service_containers(services)
        started = [i for s in services for i in now[s] if i not in before[s]]
        self.compose.remove_containers(started)
        self.actions.append(
            "target unhealthy (%s); removed the new containers %s, the previous ones kept serving"
            % (reason, ", ".join(started) or "(none left)")
        )
        return False, health, reason

    def check_http(self):
        p = self.p
        pattern = re.compile(p["health_body_pattern"]) if p["health_body_pattern"] else None
        last = None
        for attempt in range(1, max(p["health_retries"], 1) + 1):
            last = probe(
                p["health_url"], timeout=p["health_request_timeout"], validate_certs=p["health_validate_certs"]
            )
            ok = status_accepted(last["status"], p["health_status"]) and (
                pattern is None or pattern.search(last["body"])
            )
            if ok:
                return {"status": last["status"], "attempts": attempt, "ok": True, "elapsed_ms": last["elapsed_ms"]}
            if attempt < p["health_retries"]:
                time.sleep(p["health_interval"])
        reason = last["error"] or (
            "status %s" % last["status"]
            if not status_accepted(last["status"], p["health_status"])
            else "body does not match %s" % p["health_body_pattern"]
        )
        return {"status": last["status"], "attempts": p["health_retries"], "ok": False, "reason": reason}

    def gate(self, images):
        """The verdict on `images`; a failure to observe counts as unhealthy, never as an
        exception, so a restore still follows."""
        try:
            return self.judge(images)
        except Exception as exc:  # the engine or the endpoint misbehaved while we looked
            return False, {"status": "unknown", "reason": str(exc)}, "health could not be checked: %s" % exc

    def judge(self, images):
        """Container health, then HTTP, then the image ids."""
        health = self.wait_containers(list(images))
        if health["status"] != "healthy":
            return False, health, health["reason"]
        if self.p["health_url"]:
            http = self.check_http()
            health["http"] = http
            if not http["ok"]:
                health["status"] = "unhealthy"
                return False, health, "health URL %s: %s" % (self.p["health_url"], http["reason"])
        wrong = [
            "%s runs %s, not %s" % (c["name"], c["image_id"], images[c["service"]])
            for c in health["containers"]
            if images.get(c["service"]) and c["image_id"] != images[c["service"]]
        ]
        if wrong:
            health["status"] = "wrong_image"
            return False, health, "; ".join(wrong)
        return True, health, None

    # --- history ---------------------------------------------------------------------------
    def entry(self, images, healthy, when, action, from_release=None):
        services = dict((s, dict(images[s])) for s in images)
        entry = {
            "id": release_id(services, when),
            "recorded_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "healthy": healthy,
            "compose_hash": self.compose_hash,
            "services": services,
            "note": self.p["note"] or "",
            "action": action,
        }
        if action != "recorded":
            # What ran before the change: for a rollback, the release it left, which a later
            # rollback without a target must not return to (_releases.left_by_rollback).
            entry["from_release"] = from_release
            entry["from_services"] = dict(
                (s, {"reference": self.current[s]["reference"], "image_id": self.current[s]["image_id"]})
                for s in self.services
                if self.current.get(s)
            )
        return entry

    def append(self, history, entry):
        if entry.get("healthy") and entry["action"] == "rolled_back" and entry.get("from_release"):
            # The release left says so itself, for whoever reads the history.
            for left in reversed(history["releases"]):
                if left["id"] == entry["from_release"]:
                    left.update(rolled_back_at=entry["recorded_at"], rolled_back_to=entry["id"])
                    break
        history["project"] = self.project
        history["releases"].append(entry)
        del history["releases"][: -self.p["history_size"]]
        save_history(self.history_path, history)

    def summary(self, history):
        return [self.summary_item(r) for r in history["releases"]]

    @staticmethod
    def summary_item(release):
        item = {
            "id": release["id"],
            "recorded_at": release.get("recorded_at"),
            "healthy": release.get("healthy"),
            "action": release.get("action"),
            "services": dict((s, v.get("reference")) for s, v in release["services"].items()),
        }
        for key in ("from_release", "rolled_back_at", "rolled_back_to"):
            if release.get(key):
                item[key] = release[key]
        return item

    # --- run -------------------------------------------------------------------------------
    def run(self):
        self.validate()
        result = {
            "changed": False,
            "recovered": False,
            "rollback_failed": False,
            "actions": self.actions,
            "strategy": self.p["strategy"],
            "history_path": self.history_path,
            "from": {},
            "to": {},
            "changed_services": [],
            "from_release": None,
            "to_release": None,
        }
        try:
            self.setup_compose()
            result["compose_version"] = ".".join(str(v) for v in self.compose.version)
            result["env_neutralised"] = self.env_neutralised
            result["commands"] = self.compose.commands
            with ProjectLock(self.history_path + ".lock", self.p["lock_wait"]):
                self.observe()
                history = load_history(self.history_path, self.project)
                self.name_references(history)
                result["history"] = self.summary(history)
                result["from"] = self.current
                if self.p["state"] == "recorded":
                    return self.record(history, result)
                return self.roll(history, result)
        except (ComposeError, HistoryError, LockBusy, Failure, OSError) as exc:
            result["commands"] = getattr(getattr(self, "compose", None), "commands", [])
            self.module.fail_json(msg=str(exc), **result)

    def record(self, history, result):
        missing = [s for s, v in self.current.items() if v is None]
        if missing:
            raise Failure("cannot record: no running container for service(s) %s" % ", ".join(missing))
        images = dict((s, self.current[s]) for s in self.services)
        ids = dict((s, v["image_id"]) for s, v in images.items())
        healthy, health, reason = self.gate(ids)
        result["health"] = health
        when = datetime.now(timezone.utc)
        entry = self.entry(images, healthy, when, "recorded")
        last = history["releases"][-1] if history["releases"] else None
        if (
            last
            and matches(last, ids, self.services)
            and last.get("healthy") == healthy
            and set(last["services"]) == set(self.services)
        ):
            result.update(to_release=last["id"], to=images)
            self.actions.append("already recorded as %s" % last["id"])
            self.module.exit_json(**result)
        result.update(
            changed=True,
            to_release=entry["id"],
            to=images,
            diff={
                "before": {"history": [r["id"] for r in history["releases"]]},
                "after": {"history": [r["id"] for r in history["releases"]] + [entry["id"]], "entry": entry},
            },
        )
        if not healthy:
            self.module.warn("recorded release %s as unhealthy: %s" % (entry["id"], reason))
        if not self.module.check_mode:
            self.append(history, entry)
            self.actions.append("recorded %s (%s)" % (entry["id"], "healthy" if healthy else "unhealthy"))
        result["history"] = self.summary(history)
        self.module.exit_json(**result)

    def roll(self, history, result):
        current_ids = dict((s, (v or {}).get("image_id")) for s, v in self.current.items())
        chosen = None
        if self.p["state"] == "rolled_back" and not self.p["release"] and not self.p["images"]:
            try:
                plan = default_rollback(history["releases"], current_ids, self.services)
            except HistoryError as exc:
                raise Failure(str(exc))
            if "standing" in plan:
                return self.stay(plan, result)
            chosen = plan["target"]
        target, release = self.resolve_target(history, chosen)
        from_release = None
        for entry in reversed(history["releases"]):
            if matches(entry, current_ids, self.services):
                from_release = entry["id"]
                break
        changed_services = [s for s in self.services if current_ids.get(s) != target[s]["image_id"]]
        result.update(
            to=target,
            from_release=from_release,
            to_release=release["id"] if release else None,
            changed_services=changed_services,
        )
        when = datetime.now(timezone.utc)
        # Every change that ends healthy becomes the newest entry (a rollback to an old release
        # too), so "previous" means what served before; a rollback entry names the release it
        # left, so that a second rollback stays instead of returning there.
        new_entry = self.entry(
            target, True, when, "deployed" if self.p["state"] == "deployed" else "rolled_back", from_release
        )
        if release is not None and not self.p["note"]:
            new_entry["note"] = "%s to release %s" % (
                "deploy" if self.p["state"] == "deployed" else "rollback",
                release["id"],
            )
        result["diff"] = {
            "before": dict((s, (self.current[s] or {}).get("reference")) for s in self.services),
            "after": dict((s, target[s]["reference"] or target[s]["image_id"]) for s in self.services),
        }
        result["diff"]["after"]["history entry"] = new_entry
        if not changed_services:
            self.actions.append("every service already runs the target image")
            self.module.exit_json(**result)
        start_first = self.p["strategy"] == "start_first"
        if start_first:
            problems = start_first_problems(self.config_services, changed_services)
            if problems:
                raise Failure(
                    "strategy start_first needs services that can run two containers at once: %s; "
                    "use strategy recreate for them" % "; ".join(problems)
                )
        result["changed"] = True
        if self.module.check_mode:
            self.actions.append(
                (
                    "would start %s beside the running containers, then stop the old ones"
                    if start_first
                    else "would recreate %s"
                )
                % ", ".join(changed_services)
            )
            self.module.exit_json(**result)

        ids = dict((s, target[s]["image_id"]) for s in self.services)
        result["stopped_previous"] = True
        if start_first:
            try:
                took_over, health, reason = self.start_first(ids, changed_services)
            except ComposeError as exc:
                self.module.fail_json(
                    msg="strategy start_first: %s; the containers of %s may need a look"
                    % (exc, ", ".join(changed_services)),
                    **result,
                )
            if not took_over:
                return self.kept_serving(
                    history, new_entry, target, changed_services, current_ids, health, reason, result
                )
            healthy, health, reason = self.gate(ids)
        else:
            try:
                self.apply(ids, changed_services)
            except ComposeError as exc:
                # Compose may have recreated some containers before it gave up (a dependency that
                # never became healthy): the previous state must come back like after a failed gate.
                healthy, health, reason = False, {"status": "failed", "reason": str(exc)}, "compose up failed: %s" % exc
            else:
                self.actions.append("recreated %s with the target images" % ", ".join(changed_services))
                healthy, health, reason = self.gate(ids)
        result["health"] = health
        if healthy:
            self.actions.append(
                "healthy: containers%s, image ids verified"
                % (", http %s" % health["http"]["status"] if "http" in health else "")
            )
            self.append(history, new_entry)
            result["recorded_release"] = new_entry["id"]
            self.actions.append("recorded %s" % new_entry["id"])
            result["history"] = self.summary(history)
            self.module.exit_json(**result)

        result["rollback_failed"] = True
        self.actions.append("target unhealthy: %s" % reason)
        restorable = [s for s in changed_services if self.current.get(s)]
        # Services that ran nothing before cannot go back to anything: say so, never "recovered".
        unrestorable = [s for s in changed_services if not self.current.get(s)]
        if self.p["on_failure"] == "restore" and restorable:
            previous = dict((s, self.current[s]["image_id"]) for s in restorable)
            try:
                self.apply(previous, restorable)
            except ComposeError as exc:
                self.record_unhealthy(history, new_entry)
                self.module.fail_json(
                    msg="target unhealthy (%s) and restoring the previous images failed: %s" % (reason, exc), **result
                )
            self.actions.append("restored %s to the previous images" % ", ".join(restorable))
            back, restore_health, restore_reason = self.gate(
                dict((s, current_ids[s]) for s in self.services if current_ids.get(s))
            )
            if back and unrestorable:
                back, restore_reason = (
                    False,
                    "service(s) %s had no container before and still run the target" % ", ".join(unrestorable),
                )
            result["restore_health"] = restore_health
            result["recovered"] = back
            self.record_unhealthy(history, new_entry)
            result["history"] = self.summary(history)
            if back:
                self.module.fail_json(
                    msg="%s of %s was unhealthy (%s); the previous images are serving again and are healthy"
                    % (
                        "deploy" if self.p["state"] == "deployed" else "rollback",
                        ", ".join(
                            "%s=%s" % (s, target[s]["reference"] or target[s]["image_id"]) for s in changed_services
                        ),
                        reason,
                    ),
                    **result,
                )
            self.module.fail_json(
                msg="target unhealthy (%s) and the restored previous images are unhealthy too (%s)"
                % (reason, restore_reason),
                **result,
            )
        self.record_unhealthy(history, new_entry)
        result["history"] = self.summary(history)
        self.module.fail_json(
            msg="target unhealthy (%s); left as it is (on_failure: %s)"
            % (reason, self.p["on_failure"] if restorable else "nothing to restore"),
            **result,
        )

    def stay(self, plan, result):
        """A rollback without a target, on a project that a rollback already brought where it is:
        nothing changes, and the result says where the project stands and how to go further back."""
        standing = plan["standing"]
        current = dict((s, self.current[s]) for s in self.services)
        result.update(
            to=current,
            from_release=standing["id"],
            to_release=standing["id"],
            last_rollback={
                "release": standing["id"],
                "at": standing.get("recorded_at"),
                "from_release": standing.get("from_release"),
                "from": dict(
                    (s, v.get("reference") or v["image_id"]) for s, v in (standing.get("from_services") or {}).items()
                ),
            },
            candidates=[self.summary_item(r) for r in plan["candidates"]],
            msg=standing_message(self.project, standing, plan["candidates"]),
        )
        references = dict((s, current[s]["reference"] or current[s]["image_id"]) for s in self.services)
        result["diff"] = {"before": references, "after": dict(references)}
        self.actions.append(
            "already at release %s, where the rollback at %s brought it; nothing to do"
            % (standing["id"], standing.get("recorded_at"))
        )
        self.module.exit_json(**result)

    def kept_serving(self, history, new_entry, target, changed_services, current_ids, health, reason, result):
        """start_first: the target never took over; confirm that the previous containers are
        healthy and say so."""
        result.update(health=health, rollback_failed=True, stopped_previous=False)
        back, restore_health, restore_reason = self.gate(
            dict((s, current_ids[s]) for s in self.services if current_ids.get(s))
        )
        result["restore_health"] = restore_health
        result["recovered"] = back
        self.record_unhealthy(history, new_entry)
        result["history"] = self.summary(history)
        what = "%s of %s was unhealthy (%s)" % (
            "deploy" if self.p["state"] == "deployed" else "rollback",
            ", ".join("%s=%s" % (s, target[s]["reference"] or target[s]["image_id"]) for s in changed_services),
            reason,
        )
        if back:
            self.module.fail_json(
                msg="%s; its containers were removed before they took over: the previous images served "
                "throughout and are healthy" % what,
                **result,
            )
        self.module.fail_json(
            msg="%s; its containers were removed before they took over, but the previous images are not "
            "healthy either (%s)" % (what, restore_reason),
            **result,
        )

    def record_unhealthy(self, history, entry):
        """Keep the failed deploy in the history for the record, after the restore: a disk too
        full for the history must not stop the previous images from coming back."""
        if self.p["state"] != "deployed" or getattr(self, "unhealthy_recorded", False):
            return
        entry["healthy"] = False
        try:
            self.append(history, entry)
            self.unhealthy_recorded = True
            self.actions.append("recorded %s as unhealthy" % entry["id"])
        except OSError as exc:
            self.module.warn("the failed release %s was not recorded: %s" % (entry["id"], exc))


def main():
    module = AnsibleModule(
        argument_spec={
            "project_src": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "path", "default": []},
            "env_files": {"type": "list", "elements": "path", "default": []},
            "profiles": {"type": "list", "elements": "str", "default": []},
            "project_name": {"type": "str"},
            "services": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["rolled_back", "deployed", "recorded"], "default": "rolled_back"},
            "release": {"type": "str"},
            "images": {"type": "dict"},
            "history_path": {"type": "path"},
            "history_size": {"type": "int", "default": 10},
            "note": {"type": "str"},
            "lock_wait": {"type": "float", "default": 0},
            "pull": {"type": "bool", "default": False},
            "docker_host": {"type": "str"},
            "compose_command": {"type": "list", "elements": "str"},
            "keep_env": {"type": "list", "elements": "str", "default": []},
            "health_timeout": {"type": "int", "default": 120},
            "unhealthy_grace": {"type": "int", "default": 20},
            "health_url": {"type": "str"},
            "health_status": {"type": "list", "elements": "str", "default": ["2xx"]},
            "health_body_pattern": {"type": "str"},
            "health_retries": {"type": "int", "default": 10},
            "health_interval": {"type": "float", "default": 2},
            "health_request_timeout": {"type": "float", "default": 5},
            "health_validate_certs": {"type": "bool", "default": True},
            "on_failure": {"type": "str", "choices": ["restore", "leave"], "default": "restore"},
            "strategy": {"type": "str", "choices": ["recreate", "start_first"], "default": "recreate"},
        },
        mutually_exclusive=[["release", "images"]],
        supports_check_mode=True,
    )
    Rollback(module).run()


if __name__ == "__main__":
    main()
