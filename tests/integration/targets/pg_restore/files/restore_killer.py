#!/usr/bin/env python
"""Runs stronghold.ops.pg_restore as a process of its own, waits until it has reached a step,
and kills its whole process group (the module, and the pg_dump or psql it runs) with SIGKILL,
as an operator's kill, the OOM killer or a lost controller would.

    restore_killer.py STEP ARGS_JSON CONNINFO WORKDIR [SECOND_ARGS_JSON]

STEP is where the module is killed:
  safety_dump  pg_dump (the stand-in stall.py) has written part of the safety dump
  restore      psql (stall.py) is in the middle of the restore's transaction
  swap         connections to the live database are blocked (sessions=terminate) and the swap's
               transaction has renamed the live database but waits to rename the restored one
               (this script holds a row lock on the restored database's pg_database row)

ARGS_JSON is the module's arguments (pg_bin_dir pointing at the stall.py stand-ins);
CONNINFO a libpq connection string of a superuser on the maintenance database; WORKDIR a
directory for the flag files; SECOND_ARGS_JSON the arguments of a second run started while the
first is held at the step (its result is in the summary under "second"). The module runs from
the collection this file belongs to. Every wait polls an observable state with a generous
deadline; no fixed sleep is a synchronisation.
After the kill it waits until the server has ended the killed sessions, then prints a JSON
summary. Exits non-zero (saying why) when the module ends or does not reach the step in time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psycopg

DEADLINE = 180.0
APPLICATIONS = ("stronghold.ops.pg_restore", "stronghold.ops.restore", "stronghold.ops.pg_backup")


def collection_parent():
    """The directory holding ansible_collections/stronghold/ops (this file is inside it)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    path = here
    while path != os.path.dirname(path):
        candidates.append(path)
        path = os.path.dirname(path)
    for candidate in candidates:
        if os.path.isfile(
            os.path.join(candidate, "ansible_collections", "stronghold", "ops", "plugins", "modules", "pg_restore.py")
        ):
            return candidate
    raise SystemExit("cannot find ansible_collections/stronghold/ops in %s" % candidates)


def wait_for(what, condition, proc):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode("utf-8", "replace")
            raise SystemExit("the module ended (status %s) before %s: %s" % (proc.returncode, what, out[-4000:]))
        time.sleep(0.05)
    raise SystemExit("timed out after %d s waiting until %s" % (DEADLINE, what))


def query(conninfo, text, args=()):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute(text, args).fetchall()


def main():
    step, args_path, conninfo, workdir = sys.argv[1:5]
    # Optional: the arguments of a second run, started (and awaited) while the first is stalled.
    second_path = sys.argv[5] if len(sys.argv) > 5 else None
    if step not in ("safety_dump", "restore", "swap"):
        raise SystemExit("unknown step %r" % step)
    with open(args_path, encoding="utf-8") as handle:
        args = json.load(handle)["ANSIBLE_MODULE_ARGS"]
    database = args["database"]
    flag = os.path.join(workdir, "stalled")
    go = os.path.join(workdir, "go")
    for leftover in (flag, go):
        if os.path.exists(leftover):
            os.unlink(leftover)
    env = dict(os.environ, STALL_FLAG=flag)
    if step == "swap":
        env["STALL_GO"] = go
    parent = collection_parent()
    env["PYTHONPATH"] = parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    module = os.path.join(parent, "ansible_collections", "stronghold", "ops", "plugins", "modules", "pg_restore.py")
    restore_like = database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "\\_restore\\_%"
    # A process group of its own: the kill reaches the module and every program it started.
    proc = subprocess.Popen(
        [sys.executable, module, args_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    locker = None
    try:
        if step == "safety_dump":
            safety_dir = args.get("safety_dump_directory") or args.get("directory") or os.path.dirname(args["backup"])
            wait_for(
                "pg_dump stalls with a partial safety dump file",
                lambda: (
                    os.path.exists(flag)
                    and any(n.startswith(".pre_restore_") and n.endswith(".partial") for n in os.listdir(safety_dir))
                ),
                proc,
            )
        elif step in ("restore", "swap"):
            # The flag says the stand-in passed its bytes on; psql may connect a moment later.
            wait_for(
                "psql stalls in the restore's open transaction",
                lambda: (
                    os.path.exists(flag)
                    and query(
                        conninfo,
                        "SELECT 1 FROM pg_stat_activity WHERE datname LIKE %s AND xact_start IS NOT NULL"
                        " AND application_name = 'stronghold.ops.restore'",
                        (restore_like,),
                    )
                ),
                proc,
            )
        if step == "swap":
            locker = psycopg.connect(conninfo)
            # The restore database psql is restoring into (leftovers of earlier kills may be there too).
            rows = locker.execute(
                "SELECT datname FROM pg_database WHERE datname IN (SELECT datname FROM pg_stat_activity"
                " WHERE application_name = 'stronghold.ops.restore' AND datname LIKE %s) FOR UPDATE",
                (restore_like,),
            ).fetchall()
            if len(rows) != 1:
                raise SystemExit("expected psql in one restore database, found %s" % rows)
            with open(go, "w", encoding="utf-8"):
                pass
            wait_for(
                "the swap waits between its two renames, with connections to %s blocked" % database,
                lambda: query(
                    conninfo,
                    "SELECT 1 FROM pg_stat_activity a, pg_database d WHERE a.application_name = 'stronghold.ops.pg_restore'"
                    " AND a.wait_event_type = 'Lock' AND a.query ILIKE 'ALTER DATABASE%%RENAME%%' AND d.datname = %s AND NOT d.datallowconn",
                    (database,),
                ),
                proc,
            )
        second = None
        if second_path:
            ran = subprocess.run(
                [sys.executable, module, second_path],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                timeout=DEADLINE,
                check=False,
            )
            second = json.loads(ran.stdout.decode("utf-8", "replace"))
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    os.killpg(proc.pid, signal.SIGKILL)
    returncode = proc.wait()
    if locker is not None:
        # The killed swap's server session goes on once the lock is gone, then finds its client
        # gone and rolls its transaction back.
        locker.rollback()
        locker.close()
    wait_for(
        "the server has ended the killed run's sessions",
        lambda: (
            not query(
                conninfo, "SELECT 1 FROM pg_stat_activity WHERE application_name = ANY(%s)", (list(APPLICATIONS),)
            )
        ),
        None,
    )
    print(
        json.dumps({"step": step, "returncode": returncode, "killed": returncode == -signal.SIGKILL, "second": second})
    )


if __name__ == "__main__":
    main()
