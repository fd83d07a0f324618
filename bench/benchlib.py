# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share: one timed ansible-playbook run, as a user would start it, and a
throwaway PostgreSQL 15 cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

_SHOWN = "ok: [localhost] => "
PGBIN = "/usr/lib/postgresql/15/bin"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def playbook_env(**extra):
    """The environment of a timed playbook: the repository's ansible.cfg, results as JSON (what
    timed_playbook reads), no colours, the venv's ansible-playbook first on PATH."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        **extra,
    )
    env["PATH"] = os.path.join(REPO, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    return env


def timed_playbook(path, cwd, env, check=False):
    """(wall seconds, the mapping the playbook's last debug task showed).

    With the default stdout callback and ANSIBLE_CALLBACK_RESULT_FORMAT=json in `env`, the last
    `ok: [localhost] => {...}` of the output is the debug task's value.
    """
    command = ["ansible-playbook", path] + (["--check"] if check else [])
    start = time.monotonic()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("ansible-playbook %s failed (rc %d):\n%s" % (path, done.returncode, done.stdout[-4000:]))
    shown = json.JSONDecoder().raw_decode(done.stdout[done.stdout.rindex(_SHOWN) + len(_SHOWN) :].lstrip())[0]
    return wall, shown


class Cluster:
    """A throwaway PostgreSQL 15 cluster of a bench on host:port (trust, run by the postgres user,
    Unix socket in its directory), removed on exit whatever happens. `options` are the
    server's `-c name=value` arguments beside port, listen_addresses and the socket directory."""

    def __init__(self, name, host, port, options=()):
        self.name, self.host, self.port, self.options = name, host, port, list(options)
        self.root = self.data = self.logfile = None
        self.started = False

    def __enter__(self):
        with socket.socket() as probe:
            if probe.connect_ex((self.host, self.port)) == 0:
                raise SystemExit(
                    "%s:%d is in use; the bench needs that port for its own cluster" % (self.host, self.port)
                )
        self.root = tempfile.mkdtemp(prefix="stronghold-bench-%s-" % self.name)
        shutil.chown(self.root, "postgres", "postgres")
        self.data = os.path.join(self.root, "data")
        self.logfile = os.path.join(self.root, "server.log")
        self.as_postgres(
            [
                os.path.join(PGBIN, "initdb"),
                "-D",
                self.data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        options = " ".join(
            [
                "-c",
                "port=%d" % self.port,
                "-c",
                "listen_addresses=%s" % self.host,
                "-c",
                "unix_socket_directories=%s" % self.root,
            ]
            + self.options
        )
        self.as_postgres(
            [
                os.path.join(PGBIN, "pg_ctl"),
                "-D",
                self.data,
                "-l",
                self.logfile,
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
        )
        self.started = True
        return self

    def as_postgres(self, command):
        subprocess.run(
            ["runuser", "-u", "postgres", "--"] + command,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
        )

    def psql(self, dbname, statement):
        subprocess.run(
            [
                os.path.join(PGBIN, "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.root,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                dbname,
                "-c",
                statement,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
        try:
            if self.started:
                subprocess.run(
                    [
                        "runuser",
                        "-u",
                        "postgres",
                        "--",
                        os.path.join(PGBIN, "pg_ctl"),
                        "-D",
                        self.data,
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                    cwd="/",
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return False
