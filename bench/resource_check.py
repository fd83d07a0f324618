#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resource_check on 20 running containers against 1, and next to `docker stats --no-stream`.

The bench starts 20 containers rcbench-1..20 on the lab's engine (stronghold-lab/python-base,
`sleep`, network_mode none, label com.docker.compose.project=rcbench) and removes them at the
end, also on Ctrl-C or a failure. The lab's own containers are not touched.

Four ways to get CPU and memory per container, as a user would run them:

  A1.  resource_check through `ansible-playbook` (localhost, connection local, the repository's
       ansible.cfg) on ONE container (names: [rcbench-1]), default interval 1 s.
  A20. the same on the 20 containers (project: rcbench).
  D1.  `docker stats --no-stream rcbench-1`.
  D20. `docker stats --no-stream` on the 20 containers.

and, to show the module's own work without Ansible's start-up, the module's observe() called
in-process (host checks included) for 1 and for 20 containers (M1, M20).

Each is run --runs times (default 3), alternating, and the medians are compared. The goal of
issue 12 is A20 at most 1.5x A1: the containers are sampled concurrently with one-shot stats
(two samples an interval apart, our own delta), never 2 s per container one after another.
The bench checks that A20 and D20 saw the same 20 containers. Nothing here asserts a time: the
bench prints a Markdown table and says "met" or "not met".

    .venv/bin/python bench/resource_check.py [--runs 3] [--containers 20]
    (as root, after make lab collection-link)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import playbook_env, timed_playbook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER_HOST = os.environ.get(
    "DOCKER_HOST", "unix://%s/docker/docker.sock" % os.environ.get("STRONGHOLD_LAB_ROOT", "/var/lib/stronghold-lab")
)
IMAGE = "stronghold-lab/python-base:bookworm"
PROJECT = "rcbench"
GOAL = 1.5


def log(message):
    print(message, file=sys.stderr, flush=True)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


def docker(*argv, check=True):
    env = dict(os.environ, DOCKER_HOST=DOCKER_HOST)
    done = subprocess.run(
        ["docker", *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False
    )
    if check and done.returncode != 0:
        raise SystemExit("docker %s failed: %s" % (" ".join(argv[:3]), done.stderr.strip()))
    return done


def names(count):
    return ["rcbench-%d" % (i + 1) for i in range(count)]


def start(count):
    docker("rm", "-f", *names(count), check=False)
    for name in names(count):
        docker(
            "run", "-d", "--pull", "never", "--name", name, "--network", "none",
            "--label", "com.docker.compose.project=%s" % PROJECT, IMAGE, "sleep", "1800",
        )  # fmt: skip


def playbook(workdir, name, module_args):
    path = os.path.join(workdir, name + ".yml")
    play = [
        {
            "name": name,
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "tasks": [
                {
                    "name": "resource_check",
                    "stronghold.ops.resource_check": dict(
                        module_args, docker_host=DOCKER_HOST, fail_on="never", mounts=["/"]
                    ),
                    "register": "rc",
                },
                {
                    "name": "show",
                    "ansible.builtin.debug": {"msg": "{{ rc.containers | map(attribute='name') | sort }}"},
                },
            ],
        }
    ]
    with open(path, "w") as handle:
        json.dump(play, handle, indent=1)  # JSON is YAML
    return path


def docker_stats(targets):
    start_time = time.monotonic()
    done = docker("stats", "--no-stream", "--format", "{{.Name}}", *targets)
    return time.monotonic() - start_time, sorted(done.stdout.split())


def in_process(module_args):
    """observe() of the module, imported from the collection link, with the module's defaults."""
    sys.path.insert(0, os.path.join(REPO, ".build", "collections"))
    # pylint: disable=import-outside-toplevel
    from ansible_collections.stronghold.ops.plugins.module_utils._resources import check_options
    from ansible_collections.stronghold.ops.plugins.module_utils._resources_probe import observe
    from ansible_collections.stronghold.ops.plugins.modules.resource_check import ARGUMENT_SPEC

    params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    params.update(module_args, docker_host=DOCKER_HOST, mounts=["/"])
    settings = check_options(params)
    start_time = time.monotonic()
    observed = observe(settings, None)
    return time.monotonic() - start_time, sorted(c["name"] for c in observed["containers"] or [])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--containers", type=int, default=20)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)
    if shutil.which("docker") is None:
        raise SystemExit("the docker CLI is needed")
    workdir = tempfile.mkdtemp(prefix="stronghold-bench-rc-")
    env = playbook_env()
    everyone = names(args.containers)
    times = {key: [] for key in ("A1", "A20", "D1", "D20", "M1", "M20")}
    try:
        log("starting %d containers on %s" % (args.containers, DOCKER_HOST))
        start(args.containers)
        one = playbook(workdir, "one", {"names": everyone[:1]})
        many = playbook(workdir, "many", {"project": PROJECT})
        for run in range(args.runs):
            wall, shown = timed_playbook(one, REPO, env)
            assert shown["msg"] == everyone[:1], shown
            times["A1"].append(wall)
            wall, seen_a = timed_playbook(many, REPO, env)
            assert seen_a["msg"] == sorted(everyone), seen_a
            times["A20"].append(wall)
            wall, seen = docker_stats(everyone[:1])
            times["D1"].append(wall)
            wall, seen_d = docker_stats(everyone)
            assert seen_d == sorted(everyone), seen_d
            times["D20"].append(wall)
            wall, seen = in_process({"names": everyone[:1]})
            times["M1"].append(wall)
            wall, seen = in_process({"project": PROJECT})
            assert seen == sorted(everyone), seen
            times["M20"].append(wall)
            log("run %d: %s" % (run + 1, ", ".join("%s %.2fs" % (k, v[-1]) for k, v in times.items())))
    finally:
        docker("rm", "-f", *everyone, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    med = {key: statistics.median(values) for key, values in times.items()}
    n = args.containers
    load = os.getloadavg()
    print("| what | 1 container | %d containers | %d / 1 |" % (n, n))
    print("|---|---|---|---|")
    print(
        "| resource_check via ansible-playbook (wall) | %.2f s | %.2f s | %.2fx |"
        % (med["A1"], med["A20"], med["A20"] / med["A1"])
    )
    print(
        "| resource_check observe() in-process (host + containers) | %.2f s | %.2f s | %.2fx |"
        % (med["M1"], med["M20"], med["M20"] / med["M1"])
    )
    print("| docker stats --no-stream | %.2f s | %.2f s | %.2fx |" % (med["D1"], med["D20"], med["D20"] / med["D1"]))
    print()
    print(
        "resource_check %d containers against docker stats --no-stream on the same %d: %.2fx wall (playbook), %.2fx in-process"
        % (n, n, med["A20"] / med["D20"], med["M20"] / med["D20"])
    )
    ratio = med["A20"] / med["A1"]
    print(
        "goal: %d containers at most %.1fx one container: %.2fx (playbook), %.2fx (in-process): %s"
        % (
            n,
            GOAL,
            ratio,
            med["M20"] / med["M1"],
            "met" if ratio <= GOAL and med["M20"] / med["M1"] <= GOAL else "not met",
        )
    )
    print("median of %d runs; load average at the end %.2f %.2f %.2f" % (args.runs, *load))


if __name__ == "__main__":
    main()
