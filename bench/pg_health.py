#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_health with 5,000 distinct statements in pg_stat_statements, next to the runbook's psql one-liner.

The bench runs its own throwaway PostgreSQL 15 cluster (127.0.0.1:55460, a socket in its
temporary directory, shared_preload_libraries = pg_stat_statements, pg_stat_statements.max =
10000), removed at the end whatever happens; the lab's server is never touched. It fills
pg_stat_statements with --statements distinct statements (100 tables x 50 select-list lengths:
each a statement of its own after normalisation) and checks that they are there.

What each side runs, alternating, --runs times each; the result is the ratio of the medians:

  * psql: the runbook's "Check Slow Queries" one-liner, with the column names it must have on
    PostgreSQL 13+ (the runbook's total_time and mean_time are the names before 13 and fail):
    psql -c "SELECT query, calls, total_exec_time, mean_exec_time FROM pg_stat_statements
    ORDER BY total_exec_time DESC LIMIT 10" (the binary, as ops would type it).
  * pg_health, review: the module (python -m, with its arguments in a file, as Ansible runs it
    on the managed host, without the controller's start-up) with checks [statements], top 10,
    a state_path written by the previous run so the figures are deltas: everything it reads,
    judges and writes for the monthly performance review.
  * pg_health, daily: every check (connections, sessions, wraparound, settings, statements).
  * The floor: the venv's python importing what every PostgreSQL module of the collection
    imports (AnsibleModule and psycopg), which no module can go below.

Goal (issue 12): the module under 1 s with 5,000 statements. The bench also prints the peak
resident memory of each module run (from wait4) and the size of the state file.

    .venv/bin/python bench/pg_health.py [--runs 5] [--statements 5000]   (as root; after make collection-link)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import PGBIN, REPO, Cluster

HOST, PORT, DB = "127.0.0.1", 55460, "bench"
COLLECTIONS = os.path.join(REPO, ".build", "collections")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
MODULE = "ansible_collections.stronghold.ops.plugins.modules.pg_health"
ONE_LINER = "SELECT query, calls, total_exec_time, mean_exec_time FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10"


def fill(cluster, count, workdir):
    """count distinct statements, each run once or twice, from one psql session."""
    tables = max(1, (count + 49) // 50)
    cluster.psql(DB, "CREATE EXTENSION pg_stat_statements")
    cluster.psql(DB, "".join("CREATE TABLE t_%d (a int); INSERT INTO t_%d VALUES (1);" % (i, i) for i in range(tables)))
    path = os.path.join(workdir, "statements.sql")
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            columns = ", ".join(["a"] * (i % 50 + 1))
            statement = "SELECT %s FROM t_%d WHERE a = %d;\n" % (columns, i // 50, i)
            handle.write(statement * (1 + i % 2))
    psql(cluster, ["-f", path], quiet=True)
    found = psql(cluster, ["-Atc", "SELECT count(*) FROM pg_stat_statements WHERE query LIKE 'SELECT a%'"])
    if int(found.strip()) < count:
        raise SystemExit("pg_stat_statements holds %s of the %d statements" % (found.strip(), count))


def psql(cluster, arguments, quiet=False):
    command = [os.path.join(PGBIN, "psql"), "-X", "-h", HOST, "-p", str(PORT), "-U", "postgres", "-d", DB]
    done = subprocess.run(
        command + arguments, check=True, stdout=subprocess.DEVNULL if quiet else subprocess.PIPE, text=True
    )
    return done.stdout


def timed(command, env=None):
    """(wall seconds, stdout) of one process."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = process.communicate()
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit("%s failed (rc %d): %s %s" % (command[:3], process.returncode, out[-2000:], err[-2000:]))
    return wall, out


def timed_module(args_path, env):
    """(wall seconds, peak RSS MiB, result) of one module run, reaped with wait4 for its rusage."""
    start = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as output:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.dup2(output.fileno(), 1)
            os.execve(PYTHON, [PYTHON, "-m", MODULE, args_path], env)
        dummy, status, usage = os.wait4(pid, 0)
        wall = time.monotonic() - start
        output.seek(0)
        text = output.read()
    if status != 0:
        raise SystemExit("pg_health failed (status %d): %s" % (status, text[-2000:]))
    return wall, usage.ru_maxrss / 1024.0, json.loads(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--statements", type=int, default=5000)
    options = parser.parse_args()
    if not os.path.isdir(COLLECTIONS):
        raise SystemExit("run `make collection-link` first")
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    settings = ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.max=10000"]
    with (
        tempfile.TemporaryDirectory(prefix="stronghold-bench-pg_health-") as workdir,
        Cluster("pg_health", HOST, PORT, settings) as cluster,
    ):
        cluster.psql("postgres", "CREATE DATABASE %s" % DB)
        started = time.monotonic()
        fill(cluster, options.statements, workdir)
        print(
            "filled pg_stat_statements with %d statements in %.1f s (untimed)"
            % (options.statements, time.monotonic() - started)
        )
        state = os.path.join(workdir, "pg_health.json")
        common = {"login_host": HOST, "login_port": PORT, "login_user": "postgres", "login_db": DB}
        review = os.path.join(workdir, "review.json")
        daily = os.path.join(workdir, "daily.json")
        with open(review, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": dict(common, checks=["statements"], state_path=state)}, handle)
        with open(daily, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": dict(common, state_path=state)}, handle)
        timed_module(review, env)  # the first snapshot: the measured runs report deltas
        one_liner = [
            os.path.join(PGBIN, "psql"),
            "-X",
            "-h",
            HOST,
            "-p",
            str(PORT),
            "-U",
            "postgres",
            "-d",
            DB,
            "-c",
            ONE_LINER,
        ]
        floor = [PYTHON, "-c", "import ansible.module_utils.basic, psycopg"]
        times = {"psql": [], "floor": [], "review": [], "daily": []}
        memory = {"review": [], "daily": []}
        last = {}
        for dummy in range(options.runs):
            times["psql"].append(timed(one_liner)[0])
            times["floor"].append(timed(floor, env)[0])
            for name, path in (("review", review), ("daily", daily)):
                wall, rss, result = timed_module(path, env)
                times[name].append(wall)
                memory[name].append(rss)
                last[name] = result
        statements = last["review"]["statements"]
        if statements.get("first_run") or statements["statements"] < options.statements:
            raise SystemExit("the module did not see the statements as expected: %s" % json.dumps(statements)[:2000])
        median = dict((name, statistics.median(values)) for name, values in times.items())
        print(
            "statements in pg_stat_statements: %d; state file %d bytes"
            % (statements["statements"], os.path.getsize(state))
        )
        print("| run (%d each, median) | wall | ratio to psql | above the floor | peak RSS | goal |" % options.runs)
        print("| --- | --- | --- | --- | --- | --- |")
        print("| psql one-liner (runbook) | %.3f s | 1.00 | - | - | - |" % median["psql"])
        print(
            "| floor: python importing AnsibleModule and psycopg | %.3f s | %.2f | - | - | - |"
            % (median["floor"], median["floor"] / median["psql"])
        )
        for name in ("review", "daily"):
            met = "met" if median[name] < 1.0 else "NOT MET"
            print(
                "| pg_health %s | %.3f s | %.2f | %.3f s | %.0f MiB | under 1 s: %s |"
                % (
                    name,
                    median[name],
                    median[name] / median["psql"],
                    median[name] - median["floor"],
                    max(memory[name]),
                    met,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
