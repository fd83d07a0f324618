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
  - Returns one finding (RV(findings)) saying what became of the deploy, rollback or record, with
    the summary the P(stronghold.ops.deploy#role) and P(stronghold.ops.rollback#role) roles
    publish; also when the task fails.
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
    runs the target image id. A container is judged by the same rule as the
    P(stronghold.ops.health#role) role's (the C(stronghold.ops.compose_service_findings) filter).
    A one-shot container (restart policy C(no)) that exited with code 0, such as a migration job,
    is fine; any other container that is not running fails the gate. When that fails, O(on_failure=restore) puts the previous images
    back and checks health again; RV(recovered) and RV(rollback_failed) say plainly what happened.
  - O(strategy=start_first) keeps the application serving during the change. The target
    containers start beside the running ones (C(up --no-recreate --scale)), and the running
    containers are stopped only when the new ones are healthy. A target that never becomes
    healthy is removed before it takes over, so the previous release serves throughout. After
    the old containers stop, the full health gate runs as with V(recreate).
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    support: full
    details: The plan is built from read-only calls (C(compose config), C(compose ps), C(docker inspect)); C(--dry-run) is never used.
  diff_mode:
    support: full
    details: Shows the image of every service before and after, and the history entry to be written.
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
      - How long a run waits for another run on the same project to finish before failing, a
        duration (seconds, or such as V(5m)); 0 to 86400 seconds. Every number option of this
        module must be finite (no V(nan) or V(inf)).
    type: raw
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
    description:
      - How long to wait for the containers to be healthy after a change, a duration (seconds, or
        such as V(2m)); 0 to 86400 seconds.
    type: raw
    default: 120
  unhealthy_grace:
    description:
      - How long an C(unhealthy) container may take to recover before the change is declared
        failed (C(docker compose up --wait) gives up at the first unhealthy status), a duration;
        0 to 86400 seconds.
    type: raw
    default: 20
  health_url:
    description:
      - HTTP endpoint checked after the containers are healthy, such as C(http://127.0.0.1:8000/api/v1/health/).
      - An http:// or https:// URL whose port, when given, is a number from 1 to 65535 (the rule
        the P(stronghold.ops.health#role) role applies to its C(health_url) too).
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
    description: Time between HTTP attempts, a duration; 0 to 3600 seconds.
    type: raw
    default: 2
  health_request_timeout:
    description: Time allowed for each HTTP attempt, a duration; more than 0 and at most 3600 seconds.
    type: raw
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
  returned: when Compose was found
  type: str
  sample: 2.26.1
findings:
  description:
    - One finding on what became of the run, also when it failed. C(check) is V(deploy.release)
      (O(state=deployed), C(target) the images deployed), V(rollback.release)
      (O(state=rolled_back), C(target) O(project_src)) or V(release.record) (O(state=recorded)).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: V(deploy.release), V(rollback.release) or V(release.record).
      type: str
      sample: deploy.release
    target:
      description: The images deployed, or O(project_src).
      type: str
      sample: financial-stronghold:1.2.0
    severity:
      description:
        - V(critical) when the task failed; V(warning) when O(state=recorded) recorded an unhealthy
          release; else V(ok).
      type: str
      sample: critical
    summary:
      description: What happened, in one line.
      type: str
      sample: >-
        deploy of financial-stronghold:1.2.0 was unhealthy and never took over: the previous release
        (financial-stronghold:1.1.0) served throughout and is healthy. Cause: ...
    details:
      description:
        - C(from), C(to), C(changed), C(recovered), C(actions), C(release) (the release recorded
          or returned to), C(last_rollback) and C(candidates) (their ids), as returned beside.
      type: dict
      sample: {recovered: true, changed: true, release: null}
worst_severity:
  description: The worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import os
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._compose import ComposeError, default_compose_files
from ansible_collections.stronghold.ops.plugins.module_utils._compose_project import ComposeProject
from ansible_collections.stronghold.ops.plugins.module_utils._options import argument_spec, duration_spec
from ansible_collections.stronghold.ops.plugins.module_utils._releases import (
    HistoryError,
    LockBusy,
    ProjectLock,
    add_entry,
    already_recorded,
    default_rollback,
    load_history,
    named_release,
    new_entry,
    newest_match,
    save_history,
    summary_item,
)
from ansible_collections.stronghold.ops.plugins.module_utils._rollout import (
    RolloutError,
    change_diff,
    decide,
    first_result,
    image_ids,
    option_problems,
    standing_result,
    with_findings,
)


class Rollback:
    """Observe the project, ask _rollout.decide for the next step, act; raise when the run fails."""

    def __init__(self, module):
        self.module = module
        self.p = p = module.params
        self.actions = []
        self.history_path = p["history_path"] or os.path.join(p["project_src"], ".stronghold", "releases.json")
        self.result = first_result(p["strategy"], self.history_path, self.actions)
        self.project = None
        self.history = None
        self.entry = None

    def validate(self):
        """The number options in seconds or counts, and the Compose files; RolloutError saying every problem."""
        p = self.p
        problems, numbers = option_problems(p)
        if not os.path.isdir(p["project_src"]):
            problems.insert(0, "project_src %s is not a directory" % p["project_src"])
        else:
            files = [n if os.path.isabs(n) else os.path.join(p["project_src"], n) for n in p["files"] + p["env_files"]]
            problems[:0] = ["%s not found in %s" % (n, p["project_src"]) for n in files if not os.path.isfile(n)]
        if problems:
            raise RolloutError("; ".join(problems))
        files = p["files"] or default_compose_files(p["project_src"])
        if not files:
            raise RolloutError("no Compose file in %s; name it with files" % p["project_src"])
        return numbers, files

    def run(self):
        """The outcome of the run (see _rollout.release_finding); raises when it failed."""
        p, r = self.p, self.result
        numbers, files = self.validate()
        self.project = project = ComposeProject(self.module, numbers, files, self.history_path, self.actions)
        r.update(env_neutralised=project.env_neutralised, commands=project.compose.commands)
        r["compose_version"] = ".".join(str(v) for v in project.compose.detect())
        with ProjectLock(self.history_path + ".lock", numbers["lock_wait"]):
            project.observe()
            self.history = load_history(self.history_path, project.project)
            project.name_references(self.history)
            r["history"] = self.summary()
            r["from"] = project.current
            if p["state"] == "recorded":
                return self.record()
            return self.roll()

    def record(self):
        r, project = self.result, self.project
        missing = [s for s, v in project.current.items() if v is None]
        if missing:
            raise RolloutError("cannot record: no running container for service(s) %s" % ", ".join(missing))
        images = dict((s, project.current[s]) for s in project.services)
        ids = image_ids(images, project.services)
        healthy, r["health"], reason = project.gate.verdict(ids)
        when = datetime.now(timezone.utc)
        entry = new_entry(images, healthy, when, "recorded", project.compose_hash, self.p["note"])
        last = self.history["releases"][-1] if self.history["releases"] else None
        if already_recorded(last, ids, project.services, healthy):
            r.update(to_release=last["id"], to=images)
            self.actions.append("already recorded as %s" % last["id"])
            return "already_recorded"
        known = [x["id"] for x in self.history["releases"]]
        r.update(changed=True, to_release=entry["id"], to=images)
        r["diff"] = {"before": {"history": known}, "after": {"history": known + [entry["id"]], "entry": entry}}
        if not healthy:
            self.module.warn("recorded release %s as unhealthy: %s" % (entry["id"], reason))
        if not self.module.check_mode:
            self.write_entry(entry)
            self.actions.append("recorded %s (%s)" % (entry["id"], "healthy" if healthy else "unhealthy"))
        r["history"] = self.summary()
        return "recorded"

    def roll(self):
        r, p, project = self.result, self.p, self.project
        releases = self.history["releases"]
        current_ids = image_ids(project.current, project.services)
        release = None
        if p["release"]:
            release = named_release(releases, p["release"], project.services, self.history_path)
        elif p["state"] == "rolled_back" and not p["images"]:
            plan = default_rollback(releases, current_ids, project.services)
            if "standing" in plan:
                return self.stay(plan)
            release = plan["target"]
        if p["images"]:
            target = project.images_target(p["images"])
            release = newest_match(releases, image_ids(target, project.services), project.services)
        else:
            target = project.release_target(release)
        before = newest_match(releases, current_ids, project.services)
        r.update(to=target, from_release=before and before["id"], to_release=release and release["id"])
        # Every change that ends healthy becomes the newest entry (a rollback to an old release
        # too), so "previous" means what served before; a rollback entry names the release it
        # left, so that a second rollback stays instead of returning there.
        verb = "deploy" if p["state"] == "deployed" else "rollback"
        note = p["note"] or ("%s to release %s" % (verb, release["id"]) if release else "")
        current = dict((s, project.current.get(s)) for s in project.services)
        when = datetime.now(timezone.utc)
        self.entry = new_entry(target, True, when, p["state"], project.compose_hash, note, current, r["from_release"])
        r["diff"] = change_diff(project.services, project.current, target, self.entry)
        facts = {
            "state": p["state"],
            "strategy": p["strategy"],
            "on_failure": p["on_failure"],
            "check_mode": self.module.check_mode,
            "services": project.services,
            "current": project.current,
            "target": target,
            "config_services": project.config_services,
        }
        while True:
            step = decide(facts)
            r["changed_services"] = step["changed"]
            if step["step"] == "change":
                facts["change"] = change = project.change(step["images"], step["changed"])
                r.update(changed=True, stopped_previous=change["took_over"], health=change["health"])
            elif step["step"] in ("confirm", "restore"):
                facts["restore"] = project.restore(
                    step["images"], step.get("services", []), step.get("gate", step["images"])
                )
                if facts["restore"]["health"] is not None:
                    r["restore_health"] = facts["restore"]["health"]
            else:
                return self.finish(step)

    def finish(self, step):
        r = self.result
        outcome = step.get("outcome", step["step"])
        if outcome == "refuse":
            raise RolloutError(step["msg"])
        if outcome == "unchanged":
            self.actions.append("every service already runs the target image")
        elif outcome == "preview":
            r["changed"] = True
            self.actions.append(step["action"])
        elif outcome == "healthy":
            http = r["health"].get("http")
            self.actions.append(
                "healthy: containers%s, image ids verified" % (", http %s" % http["status"] if http else "")
            )
            self.write_entry(self.entry)
            r["recorded_release"] = self.entry["id"]
            self.actions.append("recorded %s" % self.entry["id"])
            r["history"] = self.summary()
        else:
            r.update(rollback_failed=True, recovered=step["recovered"])
            if self.p["state"] == "deployed":
                # Kept for the record, after the restore: a disk too full for the history must
                # not stop the previous images from coming back.
                self.entry["healthy"] = False
                try:
                    self.write_entry(self.entry)
                    self.actions.append("recorded %s as unhealthy" % self.entry["id"])
                except OSError as exc:
                    self.module.warn("the failed release %s was not recorded: %s" % (self.entry["id"], exc))
            r["history"] = self.summary()
            raise RolloutError(step["msg"], outcome)
        return outcome

    def stay(self, plan):
        """A rollback without a target, on a project that a rollback already brought where it is."""
        standing, project = plan["standing"], self.project
        self.result.update(standing_result(project.project, plan, project.current, project.services))
        self.actions.append(
            "already at release %s, where the rollback at %s brought it; nothing to do"
            % (standing["id"], standing.get("recorded_at"))
        )
        return "standing"

    def summary(self):
        return [summary_item(x) for x in self.history["releases"]]

    def write_entry(self, entry):
        save_history(self.history_path, add_entry(self.history, entry, self.project.project, self.p["history_size"]))

    def report(self, outcome):
        """The result with its findings (the deploy and rollback roles publish them)."""
        return with_findings(self.result, self.p["state"], outcome, self.p["project_src"], self.p["images"])


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            own={
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
                "lock_wait": duration_spec(0),
                "pull": {"type": "bool", "default": False},
                "docker_host": {"type": "str"},
                "compose_command": {"type": "list", "elements": "str"},
                "keep_env": {"type": "list", "elements": "str", "default": []},
                "health_timeout": duration_spec(120),
                "unhealthy_grace": duration_spec(20),
                "health_url": {"type": "str"},
                "health_status": {"type": "list", "elements": "str", "default": ["2xx"]},
                "health_body_pattern": {"type": "str"},
                "health_retries": {"type": "int", "default": 10},
                "health_interval": duration_spec(2),
                "health_request_timeout": duration_spec(5),
                "health_validate_certs": {"type": "bool", "default": True},
                "on_failure": {"type": "str", "choices": ["restore", "leave"], "default": "restore"},
                "strategy": {"type": "str", "choices": ["recreate", "start_first"], "default": "recreate"},
            }
        ),
        mutually_exclusive=[["release", "images"]],
        supports_check_mode=True,
    )
    rollback = Rollback(module)
    try:
        outcome = rollback.run()
    except (ComposeError, HistoryError, LockBusy, RolloutError, OSError) as exc:
        rollback.result["msg"] = str(exc)
        outcome = getattr(exc, "outcome", "failed")
        module.fail_json(**rollback.report(outcome))
    module.exit_json(**rollback.report(outcome))


if __name__ == "__main__":
    main()
