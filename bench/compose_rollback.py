#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_rollback versus the runbook's Quick Rollback (`down`, previous tag, `up -d`): downtime.

A prober asks the app's health endpoint every 20 ms during a rollback from release 2 to release 1
and the bench reports how long the app gave no 2xx answer, and how long it took until the
target release answered and until Docker called it healthy. Issue 15's goals, for `strategy:
start_first`, per run and as medians (the first table): (G1) T0 to release 1 healthy at most the
runbook's T0 to healthy plus the Ansible floor measured in the same run; (G2) the module's
read-only plan (start_first in check mode through ansible-playbook) at most 0.5 s over that
floor; (G3) unavailable at most 0.1x the runbook's. Runs alternate (runbook,
module, module, runbook, ...) so machine noise hits both alike; the result is the ratio of the
medians. Nothing here asserts a time: the bench reports, in Markdown, and exits 0 when it could
measure.

The project under test is the bench's own, never the lab's `financial-stronghold` (other tests
use that one concurrently): Compose project `crbench` in a temporary directory, one service
`web` on the lab's Docker engine, on 127.0.0.1:18200, host networking (no network is created).
It runs the lab's real application images, tagged for the bench as `crbench:1` (=
financial-stronghold:1.0.0) and `crbench:2` (= 1.1.0), so a rollback pays what production pays:
container stop, create and start, Django and gunicorn start-up, the database connection. The
container starts with `manage.py migrate --check` (the lab's entrypoint runs `migrate`, which
may write; `--check` does the same loading and reading and never writes) and then gunicorn with
2 workers. It uses the lab's PostgreSQL (127.0.0.1:55432, database financial_stronghold) read
only: PGOPTIONS makes every transaction of the app read-only. Docker healthcheck: the lab's
(urllib on the health URL) with interval 1 s (`--health-interval`), start_period 30 s.

The same starting state for both sides, before every measured run (set up, never timed):
release 2 deployed with `compose_rollback state=deployed` (as a deploy does), the env file's
APP_TAG=2 (as the deploy role keeps it), the container healthy and the endpoint answering 2xx
from release 2 for 1 s in a row. Release 1 was recorded once at the start (`state=recorded`),
so the module's default target ("the last healthy release before the current one") is release
1, which is also what the runbook side starts; the bench checks afterwards that both sides run
the image id of release 1 and that the answers come from version 1.0.0.

What each side runs, timed from its first command (T0), as a user would:

  * runbook: `docker compose -f docker-compose.production.yml down`, APP_TAG=1 written to the
    env file (the runbook's "pull :previous"; images are local, so the tag moves), then
    `docker compose -f docker-compose.production.yml up -d`, then waiting until healthy. No
    typing time: the commands follow each other at once, which favours the runbook.
  * compose_rollback, twice: with `strategy: recreate` (the default: the old container stops,
    then the new one starts) and with `strategy: start_first` (the new container starts beside
    the old one, which stops once the new one is healthy; the app binds its port with
    SO_REUSEPORT and its healthcheck asks an address of its own). Each is `ansible-playbook` on a small playbook (gather_facts: false, localhost,
    connection local, the repository's ansible.cfg) with the module's "Roll back to the
    previous healthy release" example (project_src, files, health_url) and `register`, then a
    debug of the registered result. The wall time includes Ansible's start-up.

Measured for each run (wall clock; the engine's `docker events` carry nanosecond times on the
same clock):

  * unavailable: the sum of the outages seen by the prober. An outage starts when a request is
    sent that gets no 2xx answer within 1 s (connection refused, reset, timeout, other status)
    and ends when the answer of the next 2xx request arrives. Resolution about 20 ms.
  * first 2xx of the target: T0 to the first 2xx answer whose body says version 1.0.0.
  * Docker healthy: T0 to the `health_status: healthy` event of the new container.
  * returns: T0 to the end of the procedure: the module's ansible-playbook exits (after its own
    health gate and the history write); the runbook's operator knows when both of the above
    have happened.
  * where the time goes, from the engine's events: T0 to the old container's SIGTERM (`kill`),
    the old container's exit (`die`), the new container's `start`, then the target's first 2xx
    and Docker's healthy, and (module) from healthy to the return. Then, in every run, with
    release 2 running again: the Ansible floor (`ansible.builtin.ping` through the same kind of
    playbook), the rollback in check mode (Ansible, the module's imports and its read-only
    planning: compose version, config, the container list, inspects), and each read-only command the module ran
    during the measured rollback, replayed and timed on its own (the `up` is not replayed; the
    container ids of the replayed inspects are gone by then, which costs about the same).

The bench cleans up after itself, also on Ctrl-C, SIGTERM or a failure: `compose down` of
project crbench only (and any container left with its label), the tags crbench:1 and
crbench:2, the temporary directory. It never touches the lab's project, ports 18000-18199 or
the lab's database beyond reading.

    .venv/bin/python bench/compose_rollback.py [--runs 3] [--warmup 1]    (make lab collection-link)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import playbook_env, timed_playbook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.environ.get("STRONGHOLD_LAB_ROOT", "/var/lib/stronghold-lab")
DOCKER_HOST = "unix://%s/docker/docker.sock" % LAB
PROJECT = "crbench"
COMPOSE_FILE = "docker-compose.production.yml"
HOST, PORT = "127.0.0.1", 18200
HEALTH_PATH = "/api/v1/health/"
HEALTH_URL = "http://%s:%d%s" % (HOST, PORT, HEALTH_PATH)
# release number -> (the lab's image it is, the version its health body reports)
RELEASES = {"1": ("financial-stronghold:1.0.0", "1.0.0"), "2": ("financial-stronghold:1.1.0", "1.1.0")}
PROBE_EVERY, PROBE_TIMEOUT = 0.02, 1.0
LAB_DB = {
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "55432",
    "DB_NAME": "financial_stronghold",
    "DB_USER": "stronghold",
    "DB_PASSWORD": "lab-stronghold-password",
}

COMPOSE_TEXT = """\
# The bench's own project (bench/compose_rollback.py); removed at the end of the run.
name: %(project)s
services:
  web:
    image: "crbench:${APP_TAG:?set APP_TAG in .env}"
    pull_policy: never
    network_mode: host
    restart: unless-stopped
    command:
      - sh
      - -c
      - "python manage.py migrate --check --noinput
         && own=$$(python -c 'import random; print(\\"127.%%d.%%d.%%d\\" %% (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254)))')
         && echo $$own:%(port)d > /tmp/health-addr
         && exec gunicorn financial_stronghold.wsgi:application
         --bind %(host)s:%(port)d --bind $$own:%(port)d --reuse-port --preload --workers 2 --timeout 60 --error-logfile -"
    environment:
%(environment)s
    healthcheck:
      # The container's own address (/tmp/health-addr, see lab/app/entrypoint.sh), never the
      # shared port, which may be answered by the other release during a start-first change.
      test: ["CMD", "/app/entrypoint.sh", "healthcheck"]
      interval: %(interval)s
      timeout: 3s
      start_period: 30s
      retries: 3
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


def bench_env():
    env = playbook_env(DOCKER_HOST=DOCKER_HOST)
    env.pop("APP_TAG", None)
    return env


ENV = bench_env()


def run(command, cwd=None, check=True):
    done = subprocess.run(
        command, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if check and done.returncode != 0:
        raise SystemExit("%s failed (rc %d):\n%s" % (" ".join(command), done.returncode, done.stdout[-4000:]))
    return done


def image_id(reference):
    return run(["docker", "image", "inspect", "--format", "{{.Id}}", reference]).stdout.strip()


def project_containers():
    done = run(["docker", "ps", "-a", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project=%s" % PROJECT])
    return done.stdout.split()


class Events:
    """`docker events` for the bench's project, read in the background: (time, action, container id)."""

    KEEP = ("create", "start", "kill", "die", "stop", "destroy", "rename", "health_status")

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [
                "docker",
                "events",
                "--filter",
                "type=container",
                "--filter",
                "label=com.docker.compose.project=%s" % PROJECT,
                "--format",
                "{{json .}}",
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            action = event.get("Action") or event.get("status") or ""
            if action.split(":")[0] in self.KEEP:
                with self.lock:
                    self.items.append((event["timeNano"] / 1e9, action, event["Actor"]["ID"]))

    def since(self, start):
        with self.lock:
            return [e for e in self.items if e[0] >= start]

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Prober:
    """GET the health URL every 20 ms on a new connection: (sent, answered, 2xx, version)."""

    def __init__(self):
        self.samples = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_event.is_set():
            sent = time.time()
            ok, version = False, None
            connection = http.client.HTTPConnection(HOST, PORT, timeout=PROBE_TIMEOUT)
            try:
                connection.request("GET", HEALTH_PATH, headers={"Connection": "close"})
                response = connection.getresponse()
                body = response.read()
                ok = 200 <= response.status < 300
                if ok:
                    try:
                        version = json.loads(body).get("version")
                    except ValueError:
                        pass
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            answered = time.time()
            ok = ok and answered - sent <= PROBE_TIMEOUT
            self.samples.append((sent, answered, ok, version))
            delay = sent + PROBE_EVERY - time.time()
            if delay > 0:
                time.sleep(delay)

    def stable(self, version, seconds):
        """The last `seconds` of answers are all 2xx from `version`."""
        recent = [s for s in list(self.samples) if s[0] >= time.time() - seconds]
        return (
            len(recent) >= seconds / PROBE_EVERY / 3
            and all(s[2] and s[3] == version for s in recent)
            and self.samples[0][0] <= time.time() - seconds
        )

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)


def outages(samples, start):
    """[(outage start, outage end)] from the probes sent at or after `start`."""
    found, began = [], None
    for sent, answered, ok, dummy in samples:
        if sent < start:
            continue
        if not ok and began is None:
            began = sent
        elif ok and began is not None:
            found.append((began, answered))
            began = None
    if began is not None:
        found.append((began, None))
    return found


class Lab:
    """The crbench project in a temporary directory; everything it made goes away on exit."""

    def __init__(self, health_interval):
        self.health_interval = health_interval
        self.root = None
        self.tagged = []
        self.events = None

    def __enter__(self):
        if not os.path.exists(DOCKER_HOST[len("unix://") :]):
            raise SystemExit("no Docker engine at %s: run `make lab` first" % DOCKER_HOST)
        leftovers = project_containers()
        if leftovers:
            log("removing %d container(s) of project %s left by an earlier run" % (len(leftovers), PROJECT))
            run(["docker", "rm", "-f"] + leftovers)
        with socket.socket() as probe:
            if probe.connect_ex((HOST, PORT)) == 0:
                raise SystemExit("%s:%d is in use; the bench needs that port for its own project" % (HOST, PORT))
        self.root = tempfile.mkdtemp(prefix="stronghold-bench-compose_rollback-")
        self.project_src = os.path.join(self.root, "project")
        os.makedirs(self.project_src)
        environment = dict(
            LAB_DB,
            PGOPTIONS="-c default_transaction_read_only=on",
            DJANGO_SECRET_KEY="crbench-not-a-secret",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_LOG_LEVEL="WARNING",
        )
        with open(os.path.join(self.project_src, COMPOSE_FILE), "w") as handle:
            handle.write(
                COMPOSE_TEXT
                % {
                    "project": PROJECT,
                    "host": HOST,
                    "port": PORT,
                    "url": HEALTH_URL,
                    "interval": self.health_interval,
                    "environment": "\n".join(
                        "      %s: %s" % (k, json.dumps(v)) for k, v in sorted(environment.items())
                    ),
                }
            )
        for release, (reference, dummy) in sorted(RELEASES.items()):
            run(["docker", "tag", reference, "crbench:%s" % release])
            self.tagged.append("crbench:%s" % release)
        self.ids = dict((release, image_id("crbench:%s" % release)) for release in RELEASES)
        self.events = Events()
        return self

    def set_tag(self, release):
        with open(os.path.join(self.project_src, ".env"), "w") as handle:
            handle.write("APP_TAG=%s\n" % release)

    def compose(self, *args):
        return ["docker", "compose", "-f", COMPOSE_FILE] + list(args)

    def running_image(self):
        ids = project_containers()
        if len(ids) != 1:
            return None
        return run(["docker", "container", "inspect", "--format", "{{.Image}}", ids[0]]).stdout.strip()

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
        try:
            if self.events:
                self.events.close()
            if self.root and os.path.exists(os.path.join(self.project_src, COMPOSE_FILE)):
                if not os.path.exists(os.path.join(self.project_src, ".env")):
                    self.set_tag("2")
                run(
                    ["docker", "compose", "-p", PROJECT, "-f", COMPOSE_FILE, "down", "--timeout", "5"],
                    cwd=self.project_src,
                    check=False,
                )
            leftovers = project_containers()
            if leftovers:
                run(["docker", "rm", "-f"] + leftovers, check=False)
            if self.tagged:
                run(["docker", "image", "rm"] + self.tagged, check=False)  # untags; the lab's tags keep the images
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return False


class Ansible:
    def __init__(self, lab):
        self.lab = lab

    def playbook(self, name, task):
        path = os.path.join(self.lab.root, name + ".yml")
        play = [
            {
                "name": name,
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                "tasks": [dict(task, register="result"), {"name": "show", "ansible.builtin.debug": {"var": "result"}}],
            }
        ]
        with open(path, "w") as handle:
            json.dump(play, handle, indent=1)  # JSON is YAML
        return path

    def module(self, name, **options):
        base = {"project_src": self.lab.project_src, "files": [COMPOSE_FILE], "health_url": HEALTH_URL}
        return self.playbook(name, {"name": name, "stronghold.ops.compose_rollback": dict(base, **options)})

    def run(self, path, check=False):
        """(wall seconds, the registered result) of one ansible-playbook run."""
        wall, shown = timed_playbook(path, REPO, ENV, check)
        return wall, shown["result"]


def wait_stable(lab, prober, release, timeout=180):
    """Until Docker says healthy and the endpoint has answered 2xx from `release` for 1 s."""
    version = RELEASES[release][1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prober.stable(version, 1.0):
            ids = project_containers()
            if (
                len(ids) == 1
                and run(
                    ["docker", "container", "inspect", "--format", "{{.State.Health.Status}}", ids[0]]
                ).stdout.strip()
                == "healthy"
            ):
                return
        time.sleep(0.2)
    raise SystemExit("release %s did not become healthy and stable within %d s" % (release, timeout))


def prepare(lab, ansible, deploy):
    """Release 2 running, deployed by the module, healthy, answering; returns (prober, old container id)."""
    lab.set_tag("2")
    ansible.run(deploy)
    prober = Prober()
    wait_stable(lab, prober, "2")
    old = project_containers()
    if len(old) != 1 or lab.running_image() != lab.ids["2"]:
        raise SystemExit("the starting state is not release 2 in one container")
    return prober, old[0]


def runbook(lab):
    subprocess.run(
        lab.compose("down"),
        cwd=lab.project_src,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lab.set_tag("1")
    subprocess.run(
        lab.compose("up", "-d"),
        cwd=lab.project_src,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return None


def measure(lab, ansible, deploy, side, rollback):
    """One rollback from release 2 to 1 by `side`; the measurements in seconds from T0."""
    prober, old = prepare(lab, ansible, deploy)
    start = time.time()
    result = None
    if side == "runbook":
        runbook(lab)
    else:
        dummy, result = ansible.run(rollback)
    returned = time.time()
    target = RELEASES["1"][1]
    healthy_at = first_at = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        events = lab.events.since(start)
        new = [e[2] for e in events if e[1] == "start" and e[2] != old]
        if new:
            healthy_at = next((e[0] for e in events if e[2] == new[0] and e[1] == "health_status: healthy"), None)
        first_at = next((s[1] for s in list(prober.samples) if s[0] >= start and s[2] and s[3] == target), None)
        if healthy_at and first_at and time.time() - max(healthy_at, first_at) > 1.0:
            break
        time.sleep(0.1)
    prober.stop()
    if not (healthy_at and first_at):
        raise SystemExit("%s: release 1 did not become healthy within 180 s" % side)
    if lab.running_image() != lab.ids["1"]:
        raise SystemExit("%s: the project does not run release 1's image after the rollback" % side)
    if result is not None and (not result.get("changed") or result["to"]["web"]["image_id"] != lab.ids["1"]):
        raise SystemExit("compose_rollback did not roll back to release 1: %s" % json.dumps(result)[:2000])
    events = lab.events.since(start)
    found = outages(prober.samples, start)
    if any(end is None for dummy, end in found):
        raise SystemExit("%s: an outage was still open when the bench stopped probing" % side)
    new = [e[2] for e in events if e[1] == "start" and e[2] != old][0]

    def at(container, action):
        return next((e[0] - start for e in events if e[2] == container and e[1] == action), float("nan"))

    done = max(returned, healthy_at, first_at) if side == "runbook" else returned
    row = {
        "unavailable": sum(end - began for began, end in found),
        "outages": len(found),
        "failed_probes": sum(1 for s in prober.samples if s[0] >= start and not s[2]),
        "first_2xx": first_at - start,
        "healthy": healthy_at - start,
        "returns": done - start,
        "kill": at(old, "kill"),
        "die": at(old, "die"),
        "start": at(new, "start"),
        "old_answers_after_t0": sum(1 for s in prober.samples if s[0] >= start and s[2] and s[3] != target),
    }
    if result is not None:
        row["gate_elapsed"] = result.get("health", {}).get("elapsed", float("nan"))
        row["gate_attempts"] = result.get("health", {}).get("attempts", 0)
        row["http_attempts"] = result.get("health", {}).get("http", {}).get("attempts", 0)
        row["commands"] = len(result.get("commands", []))
        row["command_list"] = list(result.get("commands", []))
        row["project_src"] = lab.project_src
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured rollbacks per side (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rollbacks per side first (default 1)")
    parser.add_argument(
        "--health-interval", default="1s", help="the container's Docker healthcheck interval (default 1s)"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    rows = {"runbook": [], "module": [], "start_first": []}
    with Lab(args.health_interval) as lab:
        log("project %s in %s, %s" % (PROJECT, lab.project_src, HEALTH_URL))
        ansible = Ansible(lab)
        deploy = ansible.module("deploy release 2", state="deployed", images={"web": "crbench:2"})
        rollback = ansible.module("roll back to the previous healthy release")
        rollbacks = {"module": rollback, "start_first": ansible.module("roll back start-first", strategy="start_first")}
        record = ansible.module("record release 1", state="recorded", note="release 1 (bench)")
        ping = ansible.playbook("ping", {"name": "ping", "ansible.builtin.ping": {}})

        # Release 1 first, recorded as a healthy release (untimed).
        lab.set_tag("1")
        run(lab.compose("up", "-d", "--wait"), cwd=lab.project_src)
        ansible.run(record)

        floors, plans, replays, plan_commands = [], [], {}, []
        for index in range(-args.warmup, args.runs):
            sides = ["runbook", "module", "start_first"]
            order = sides[index % 3 :] + sides[: index % 3]
            measured = []
            for side in order:
                row = measure(lab, ansible, deploy, side, rollbacks.get(side))
                measured.append(
                    "%s: unavailable %.2f s, first 2xx %.2f s, healthy %.2f s, returns %.2f s"
                    % (side, row["unavailable"], row["first_2xx"], row["healthy"], row["returns"])
                )
                if index >= 0:
                    rows[side].append(row)
            log("%s | %s" % ("warm-up" if index < 0 else "run %d" % (index + 1), " | ".join(measured)))
            if index < 0:
                continue
            # Where the module's time goes before it touches a container, in the same run: the
            # Ansible floor, the rollback in check mode, and each read-only command the module ran.
            prober, dummy = prepare(lab, ansible, deploy)
            prober.stop()
            floors.append(ansible.run(ping)[0])
            wall, planned = ansible.run(rollbacks["start_first"], check=True)
            plans.append(wall)
            plan_commands.append(list(planned.get("commands", [])))
            for command in rows["module"][-1]["command_list"]:
                if " up " in command:
                    continue
                start = time.monotonic()
                run(command.split(), cwd=lab.project_src, check=False)
                replays.setdefault(command, []).append(time.monotonic() - start)

    report(rows, floors, plans, replays, args, plan_commands)


def goals(rows, floors, plans):
    """The issue's three goals for start_first, per run and as medians: [(label, per run, median, goal, unit)].

    G1: T0 to release 1 healthy (Docker healthy) over the runbook's T0 to healthy plus the Ansible floor of the
    same run; G2: the rollback in check mode minus the floor of the same run; G3: unavailable, start_first over
    the runbook. The runs pair by index: run i of every side and the floor and plan measured after it.
    """
    med = statistics.median
    n = min(len(rows["runbook"]), len(rows["start_first"]), len(floors), len(plans))
    g1 = [rows["start_first"][i]["healthy"] / (rows["runbook"][i]["healthy"] + floors[i]) for i in range(n)]
    g2 = [plans[i] - floors[i] for i in range(n)]
    g3 = [rows["start_first"][i]["unavailable"] / rows["runbook"][i]["unavailable"] for i in range(n)]
    sf, rb = rows["start_first"], rows["runbook"]
    return [
        (
            "G1 T0 to release 1 healthy, start_first / (runbook + floor)",
            g1,
            med(r["healthy"] for r in sf) / (med(r["healthy"] for r in rb) + med(floors)),
            1.0,
            "x",
        ),
        ("G2 read-only plan (check mode) minus the floor", g2, med(plans) - med(floors), 0.5, " s"),
        (
            "G3 unavailable, start_first / runbook",
            g3,
            med(r["unavailable"] for r in sf) / med(r["unavailable"] for r in rb),
            0.1,
            "x",
        ),
    ]


def report(rows, floors, plans, replays, args, plan_commands):
    med = statistics.median
    print("| issue 15 goal (start_first, %d runs) | per run | of the medians | goal | met |" % len(floors))
    print("| --- | --- | --- | --- | --- |")
    for label, per_run, value, goal, unit in goals(rows, floors, plans):
        print(
            "| %s | %s | **%.2f%s** | <= %.2f%s | %s |"
            % (
                label,
                ", ".join("%.2f" % v for v in per_run),
                value,
                unit,
                goal,
                unit,
                "met" if value <= goal else "not met",
            )
        )
    print(
        "G1 inputs (medians): start_first healthy %.2f s, runbook healthy %.2f s, floor %.2f s; G2: check mode %.2f s."
        % (
            med(r["healthy"] for r in rows["start_first"]),
            med(r["healthy"] for r in rows["runbook"]),
            med(floors),
            med(plans),
        )
    )
    print()

    def m(side, key):
        return med(r[key] for r in rows[side])

    print(
        "| rollback 2 -> 1 (medians of %d runs per side) | runbook: down, tag, up -d | compose_rollback recreate "
        "| ratio | compose_rollback start_first | ratio | goal |" % args.runs
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, label, goal in (
        ("unavailable", "unavailable (no 2xx answer)", 0.5),
        ("first_2xx", "T0 to the first 2xx from release 1", None),
        ("healthy", "T0 to Docker health=healthy", 1.0),
        ("returns", "T0 to the procedure's end (module: ansible-playbook exits)", None),
    ):
        a = m("runbook", key)
        cells = []
        for side in ("module", "start_first"):
            b = m(side, key)
            ratio = b / a if a else float("inf")
            cells.append("%.2f s | %.2f%s" % (b, ratio, (" (met)" if ratio <= goal else " (not met)") if goal else ""))
        print("| %s | %.2f s | %s | %s |" % (label, a, " | ".join(cells), "<= %.2f" % goal if goal else "-"))
    print()
    sides = ("runbook", "module", "start_first")
    print(
        "Per run (runbook / recreate / start_first): outages %s; failed probes %s; answers from release 2 after T0 "
        "(the old container still serving) %s."
        % tuple(
            " / ".join(str([r[key] for r in rows[side]]) for side in sides)
            for key in ("outages", "failed_probes", "old_answers_after_t0")
        )
    )
    print(
        "Every run: %s"
        % "; ".join(
            "%s %s"
            % (side, ", ".join("%.2f/%.2f/%.2f" % (r["unavailable"], r["first_2xx"], r["healthy"]) for r in rows[side]))
            for side in sides
        )
        + " (unavailable/first 2xx/healthy, s)."
    )
    print()
    print(
        "| where the time goes (median, s from T0; negative: the new container started first) | runbook | recreate | start_first |"
    )
    print("| --- | --- | --- | --- |")
    phases = (
        ("T0 to SIGTERM of the old container (`kill`)", lambda r: r["kill"]),
        ("SIGTERM to old container exited (`die`)", lambda r: r["die"] - r["kill"]),
        ("old exited to new container started (`start`)", lambda r: r["start"] - r["die"]),
        ("new started to first 2xx from release 1 (app start-up)", lambda r: r["first_2xx"] - r["start"]),
        ("new started to Docker healthy", lambda r: r["healthy"] - r["start"]),
        ("Docker healthy to the procedure's end", lambda r: r["returns"] - r["healthy"]),
        ("unavailable", lambda r: r["unavailable"]),
        (
            "unavailable minus app start-up (stop, remove, create, start)",
            lambda r: r["unavailable"] - (r["first_2xx"] - r["start"]),
        ),
    )
    for label, fn in phases:
        print("| %s | %s |" % (label, " | ".join("%.2f" % med(fn(r) for r in rows[side]) for side in sides)))
    print()
    floor, plan = med(floors), med(plans)
    print("| compose_rollback's fixed costs (%d runs, s) | median | min |" % len(floors))
    print("| --- | --- | --- |")
    print("| ansible-playbook floor (ping, register, debug) | %.2f | %.2f |" % (floor, min(floors)))
    print(
        "| start_first in check mode (floor + compose version, config, container list, inspects, history; no change) | %.2f | %.2f |"
        % (plan, min(plans))
    )
    print(
        "| module's health gate (`health.elapsed`: container polls, then HTTP) | %.2f | %.2f |"
        % (m("module", "gate_elapsed"), min(r["gate_elapsed"] for r in rows["module"]))
    )
    print()
    print(
        "Health gate polls per run %s, HTTP attempts %s, docker/compose commands run by the module %s."
        % (
            [r["gate_attempts"] for r in rows["module"]],
            [r["http_attempts"] for r in rows["module"]],
            [r["commands"] for r in rows["module"]],
        )
    )
    print()
    print(
        "docker/compose commands run by start_first per run %s; by the plan (start_first in check mode) %s: %s."
        % (
            [r["commands"] for r in rows["start_first"]],
            [len(c) for c in plan_commands],
            "; ".join("`%s`" % c.replace(rows["module"][-1]["project_src"], "DIR") for c in plan_commands[-1]),
        )
    )
    print()
    print("| command run by compose_rollback (last measured run, in order) | replayed by the bench, median s |")
    print("| --- | --- |")
    for command in rows["module"][-1]["command_list"]:
        short = command.replace(rows["module"][-1]["project_src"], "DIR")
        print(
            "| `%s` | %s |"
            % (short, "%.2f" % med(replays[command]) if command in replays else "not replayed (changes state)")
        )
    print(
        "Prober: GET %s every %d ms on a new connection, a request counts as failed without a 2xx answer within "
        "%.0f s; Docker healthcheck interval %s."
        % (HEALTH_URL, PROBE_EVERY * 1000, PROBE_TIMEOUT, args.health_interval)
    )


if __name__ == "__main__":
    main()
