#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Daily health check: the runbook by hand versus playbooks/daily.yml, in the same run.

The manual side is what an operator types from the runbook's "Daily Startup Checklist" and
"Application Down" sections: `docker compose ps`, `curl -f` on the health URL, and
`manage.py health_check --detailed` in the web container. The automated side is
`ansible-playbook playbooks/daily.yml`, which does the same three checks, judges them against
the runbook's thresholds and writes the run report. Runs alternate (manual, playbook, ...) so
machine noise hits both alike; the result is the ratio of the medians.

    .venv/bin/python bench/daily_health.py [--runs 5]      (make lab first)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.environ.get("STRONGHOLD_LAB_ROOT", "/var/lib/stronghold-lab")
APP_DIR = os.path.join(LAB, "app")
DOCKER_HOST = "unix://%s/docker/docker.sock" % LAB
HEALTH_URL = "http://127.0.0.1:18000/api/v1/health/"

MANUAL = [
    ["docker", "compose", "-f", "docker-compose.production.yml", "ps"],
    ["curl", "-fsS", "-o", "/dev/null", HEALTH_URL],
    [
        "docker",
        "compose",
        "-f",
        "docker-compose.production.yml",
        "exec",
        "-T",
        "web",
        "python",
        "manage.py",
        "health_check",
        "--detailed",
    ],
]


def timed(commands, cwd, env):
    start = time.monotonic()
    for command in commands:
        subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, DOCKER_HOST=DOCKER_HOST, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    env["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    playbook = [
        [
            "ansible-playbook",
            "-i",
            os.path.join(REPO, "inventories", "lab"),
            os.path.join(REPO, "playbooks", "daily.yml"),
        ]
    ]
    manual_times, playbook_times = [], []
    for run in range(args.runs):
        manual_times.append(timed(MANUAL, APP_DIR, env))
        playbook_times.append(timed(playbook, REPO, env))
        print(
            "run %d: manual %.2f s, daily.yml %.2f s" % (run + 1, manual_times[-1], playbook_times[-1]), file=sys.stderr
        )
    manual, automated = statistics.median(manual_times), statistics.median(playbook_times)
    print("| what | median of %d runs | ratio to the runbook by hand |" % args.runs)
    print("| --- | --- | --- |")
    print("| runbook by hand (compose ps, curl -f, health_check --detailed) | %.2f s | 1.00 |" % manual)
    print(
        "| playbooks/daily.yml (same checks, judged, run report written) | %.2f s | %.2f |"
        % (automated, automated / manual)
    )


if __name__ == "__main__":
    main()
