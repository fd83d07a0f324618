# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share: one timed ansible-playbook run, as a user would start it."""
from __future__ import annotations

import json
import os
import subprocess
import time

_SHOWN = "ok: [localhost] => "
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def playbook_env(**extra):
    """The environment of a timed playbook: the repository's ansible.cfg, results as JSON (what
    timed_playbook reads), no colours, the venv's ansible-playbook first on PATH."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_NOCOLOR="1", **extra)
    env["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    return env


def timed_playbook(path, cwd, env, check=False):
    """(wall seconds, the mapping the playbook's last debug task showed).

    With the default stdout callback and ANSIBLE_CALLBACK_RESULT_FORMAT=json in `env`, the last
    `ok: [localhost] => {...}` of the output is the debug task's value.
    """
    command = ["ansible-playbook", path] + (["--check"] if check else [])
    start = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("ansible-playbook %s failed (rc %d):\n%s" % (path, done.returncode, done.stdout[-4000:]))
    shown = json.JSONDecoder().raw_decode(done.stdout[done.stdout.rindex(_SHOWN) + len(_SHOWN):].lstrip())[0]
    return wall, shown
