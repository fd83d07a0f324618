#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_restore
short_description: Roll a PostgreSQL database back to a verified backup without ever destroying the only copy of its data
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's Database Rollback (C(gunzip -c backup.sql.gz | psql), which exits 0
    while statements fail, into the live database).
  - "The steps, each only when the previous one succeeded:"
  - 1. The backup is verified (gzip CRC and length, C(.sha256) sidecar, completion marker;
    table of contents and a full read for custom dumps). With O(directory), the newest backup
    matching O(pattern) that passes is chosen.
  - 2. Connected sessions of the live database are listed; with O(sessions=refuse) (the default)
    the module fails listing them and changes nothing.
  - 3. A safety dump of the live database is written (plain SQL gzipped, with its sidecar)
    through pg_backup's code.
  - 4. A new database C(<database>_restore_<YYYYmmdd_HHMMSS>) is created (owner, encoding and
    locale of the live one), marked as this module's (its comment, see below), and the backup
    restored into it with C(ON_ERROR_STOP) in a single transaction; the live database's settings
    (C(ALTER DATABASE ... SET)), privileges and connection limit are carried over, and it is
    analyzed.
  - 5. In one transaction, the live database is renamed C(<database>_before_<YYYYmmdd_HHMMSS>),
    the restored one takes the live name and the live comment, and the previous one is marked.
    With O(sessions=terminate), new connections to the live database are blocked and its
    sessions terminated just before.
  - 6. With O(drop_previous=true), the previous database is dropped. Otherwise it stays until
    you drop it.
  - A failure at any step leaves the live database exactly as it was, under its name, and
    removes the half-restored database.
  - "A run that is killed (SIGKILL, the OOM killer, a lost controller) cannot clean up. Every run
    therefore first looks for what killed runs of the same database left: restore databases
    (kept, never swapped in), connections to the live database that a killed run blocked, and
    unfinished safety dump files. It reports them as findings and allows connections again
    where this module blocked them. O(state=cleaned) also removes the leftovers."
  - Runs for the same database wait for each other (an advisory lock in O(maintenance_db), for
    up to 10 seconds, then fail) so that no run takes another's work in progress for a leftover.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stronghold.ops.postgres
  - stronghold.ops.findings
attributes:
  check_mode:
    support: full
    details: >-
      Verifies the backup (read-only), lists the sessions and returns the plan with the names it would use; writes nothing.
      Sessions that O(sessions=refuse) would refuse give a warning instead of a failure. Leftovers of killed runs are
      reported with what would be done about them.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  database:
    description: The live database to roll back. Defaults to O(login_db).
    type: str
  state:
    description:
      - V(restored) rolls the live database back to a backup (after dealing with the leftovers of
        killed runs as described above).
      - V(cleaned) restores nothing. It reports the leftovers of killed runs of O(database), allows
        connections to it again where a killed run of this module blocked them, drops the restore
        databases such runs left (only those marked as this module's) and removes their
        unfinished safety dump files. The previous databases kept after successful runs are
        dropped only with O(drop_previous=true). Databases with this module's names but without
        its marker are reported and never touched.
    type: str
    choices: [restored, cleaned]
    default: restored
  backup:
    description:
      - The backup file to restore (plain SQL, gzipped or not, or a custom-format dump).
      - With O(state=restored), exactly one of O(backup) and O(directory). With O(state=cleaned),
        optional; it only tells where safety dumps are (see O(safety_dump_directory)).
    type: path
  directory:
    description:
      - Restore the newest backup in this directory whose name matches O(pattern) and that
        passes verification (older ones are tried in turn when the newest fails; each failure is
        reported).
    type: path
  pattern:
    description:
      - File name pattern of the backups in O(directory), with C(%Y %m %d %H %M %S); the time of
        a backup is read from its name in O(timezone).
    type: str
    default: backup_%Y%m%d_%H%M%S.sql.gz
  timezone:
    description: Time zone of the times in the backup names (V(UTC), V(local) or an IANA name).
    type: str
    default: UTC
  sessions:
    description:
      - What to do with sessions connected to the live database. V(refuse) fails, listing them,
        and changes nothing (stop the application first). V(terminate) blocks new connections
        and terminates them just before the names are swapped.
    type: str
    choices: [refuse, terminate]
    default: refuse
  drop_previous:
    description:
      - Drop the previous database after a successful swap. The safety dump stays either way.
      - With O(state=cleaned), drop every previous database kept by earlier runs of this module
        for O(database) (those named C(<database>_before_<YYYYmmdd_HHMMSS>) and marked by it).
    type: bool
    default: false
  safety_dump_directory:
    description:
      - Where the safety dump of the live database goes. Defaults to the directory of the
        restored backup. Its name (C(pre_restore_<database>_<YYYYmmdd_HHMMSS>.sql.gz)) matches
        no backup pattern, so retention never deletes it and O(directory) never chooses it.
      - Unfinished safety dumps of killed runs are looked for here (with O(state=cleaned), here or
        else in O(directory) or the directory of O(backup); with none of them, not at all).
    type: path
  maintenance_db:
    description: Database to connect to for CREATE, ALTER and DROP DATABASE (never the live one).
    type: str
    default: postgres
  analyze:
    description: Run ANALYZE in the restored database before it goes live, so the planner has statistics.
    type: bool
    default: true
  timeout:
    description:
      - Stop the restore (and roll it back) after this many seconds, 1 to 2592000 (30 days).
        Unset means no limit.
    type: int
  pg_bin_dir:
    description: Directory holding pg_dump, psql and pg_restore. Default is the ones on PATH.
    type: path
notes:
  - The database names get a 24-byte suffix (C(_restore_YYYYmmdd_HHMMSS)), so the live name may have at most 39 bytes.
  - The restored database keeps the owners of the dump's objects (no C(--no-owner)); the roles
    must exist.
  - Needs a role that may create databases and rename the live one (its owner with CREATEDB,
    or a superuser); terminating sessions needs superuser or C(pg_signal_backend).
  - "The restore database's comment, until the swap, is a marker
    C(stronghold.ops.pg_restore {\"kind\": \"restore\", \"database\": ..., \"stamp\": ..., \"step\": ...}) whose step says
    how far the run got (V(restoring), V(restored), V(blocking)). V(blocking) is written before new connections to the live
    database are blocked, so a later run allows them again only when this module blocked them. After the swap the previous
    database's comment is a marker of kind V(previous) holding the comment it had; the live name gets the live comment."
  - A restore database left by a killed run is never swapped in, whatever its step (psql may even commit a restore whose
    input was cut by the kill).
seealso:
  - module: stronghold.ops.pg_backup
  - module: stronghold.ops.backup_verify
"""

EXAMPLES = r"""
- name: Roll back to the newest verified backup (the application is stopped)
  stronghold.ops.pg_restore:
    login_host: 127.0.0.1
    login_password: "{{ vault_postgres_password }}"
    database: financial_stronghold
    directory: /var/backups/financial-stronghold
  register: rollback

- name: Roll back to a chosen backup, ending the sessions still open
  stronghold.ops.pg_restore:
    login_unix_socket: /run/postgresql
    database: financial_stronghold
    backup: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz
    sessions: terminate

- name: After a run was killed, allow connections again and drop what it left (check mode first to see it)
  stronghold.ops.pg_restore:
    login_unix_socket: /run/postgresql
    database: financial_stronghold
    state: cleaned
    safety_dump_directory: /var/backups/financial-stronghold

- name: Show what happened
  ansible.builtin.debug:
    msg: "restored {{ rollback.backup }}; the previous database is {{ rollback.previous_database }}"
"""

RETURN = r"""
database:
  description: The live database (after success, the restored data under its name).
  returned: always
  type: str
  sample: financial_stronghold
backup:
  description: The backup restored (in check mode, the one that would be).
  returned: always
  type: str
  sample: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz
verification:
  description: The checks of the chosen backup, as backup_verify reports them.
  returned: always
  type: list
  elements: dict
  sample: [{name: gzip, status: ok, detail: "1 member, 210334551 bytes", duration: 0.8}]
rejected_backups:
  description: Newer backups of O(directory) that failed verification, with their failed checks.
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/backups/db/backup_20260128_020000.sql.gz, failed: [{name: marker, status: failed, detail: "..."}]}]
restored_database:
  description: The temporary name the backup was restored under.
  returned: always
  type: str
  sample: financial_stronghold_restore_20260127_101500
previous_database:
  description: The name the previous live database now has (null if dropped or in check mode; the planned name is in RV(plan)).
  returned: always
  type: str
  sample: financial_stronghold_before_20260127_101500
previous_dropped:
  description: Whether the previous database was dropped (O(drop_previous)).
  returned: always
  type: bool
  sample: false
safety_dump:
  description: The safety dump of the live database taken before anything changed (path, size, sha256, duration).
  returned: always
  type: dict
  sample: {path: /var/backups/db/pre_restore_financial_stronghold_20260127_101500.sql.gz, size: 48213377, sha256: 5d41..., duration: 11.2}
sessions:
  description: Sessions that were connected to the live database (pid, user, application, client, state, since).
  returned: always
  type: list
  elements: dict
  sample: [{pid: 4711, user: app, application: gunicorn, client: 10.0.0.5, state: idle, since: "2026-01-27T10:01:02+00:00"}]
terminated:
  description: Process ids of the sessions terminated (O(sessions=terminate)).
  returned: always
  type: list
  elements: int
  sample: [4711]
durations:
  description: Seconds per step (verify, safety_dump, restore, finish, swap, drop_previous) and total.
  returned: always
  type: dict
  sample: {verify: 0.9, safety_dump: 11.2, restore: 14.0, finish: 0.4, swap: 0.05, total: 26.6}
plan:
  description: The steps in order, with the names and files they use (first what is done about the leftovers of killed runs).
  returned: always
  type: list
  elements: str
  sample: ["verify /var/backups/db/backup_20260127_020000.sql.gz", "safety dump of financial_stronghold to /var/backups/db/pre_restore_..."]
warnings_detail:
  description: Settings or privileges of the live database that could not be carried over to the restored one.
  returned: always
  type: list
  elements: str
  sample: []
state:
  description: The O(state) of the run.
  returned: always
  type: str
  sample: restored
findings:
  description:
    - What killed runs of O(database) left and what was done about it (C(pg_restore.connections),
      C(pg_restore.leftover_database), C(pg_restore.previous_database), C(pg_restore.unmarked_database),
      C(pg_restore.partial_file)), or one C(pg_restore.leftovers) finding of severity V(ok).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: What was checked.
      type: str
      sample: pg_restore.leftover_database
    target:
      description: The database or file concerned.
      type: str
      sample: financial_stronghold_restore_20260127_101500
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
      sample: warning
    summary:
      description: One line for the on-call person.
      type: str
      sample: "financial_stronghold_restore_20260127_101500 was left by a pg_restore run of financial_stronghold killed while
        restoring (incomplete); it is never swapped in; state=cleaned drops it"
    details:
      description: Evidence (C(stamp), C(step), C(complete) for a restore database).
      type: dict
      sample: {stamp: 20260127_101500, step: restoring, complete: false}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: warning
leftovers:
  description: What killed runs left, as found before anything was done about it.
  returned: always
  type: dict
  contains:
    restore_databases:
      description: Restore databases marked by this module, with their C(name), C(stamp), C(step) and C(complete).
      type: list
      elements: dict
      sample: [{name: financial_stronghold_restore_20260127_101500, stamp: 20260127_101500, step: restoring, complete: false}]
    previous_databases:
      description: Previous databases kept by successful runs (C(name), C(stamp)).
      type: list
      elements: dict
      sample: [{name: financial_stronghold_before_20260120_093000, stamp: 20260120_093000}]
    unmarked_databases:
      description: Databases with this module's names but not its marker (C(name), C(kind) V(restore) or V(previous)); never touched.
      type: list
      elements: dict
      sample: []
    partial_files:
      description: Names of unfinished safety dump files (hidden C(.partial) files, a sidecar without its dump) in the safety dump directory.
      type: list
      elements: str
      sample: [.pre_restore_financial_stronghold_20260127_101500.sql.gz.k2j4_x.partial]
    reallow:
      description: Whether the live database refused connections because a killed run of this module blocked them.
      type: bool
      sample: false
    live_disallowed:
      description: Whether the live database refused connections when the run began.
      type: bool
      sample: false
    files_checked:
      description: Whether a safety dump directory was known and looked at.
      type: bool
      sample: true
  sample: {restore_databases: [], previous_databases: [], unmarked_databases: [], partial_files: [], reallow: false,
           live_disallowed: false, files_checked: true}
reallowed:
  description: Whether connections to the live database were allowed again (they had been blocked by a killed run).
  returned: always
  type: bool
  sample: false
dropped_databases:
  description: Leftover databases dropped by this run (O(state=cleaned)).
  returned: always
  type: list
  elements: str
  sample: [financial_stronghold_restore_20260127_101500]
removed_files:
  description: Unfinished safety dump files removed from the safety dump directory by this run (O(state=cleaned)).
  returned: always
  type: list
  elements: str
  sample: [.pre_restore_financial_stronghold_20260127_101500.sql.gz.k2j4_x.partial]
"""

import datetime
import os
import time
import zlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    compile_pattern,
    list_backups,
    resolve_timezone,
    verify_stream,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import worst_severity
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import (
    DumpError,
    create_database,
    drop_database,
    dump_to_file,
    restore_file,
    timeout_problem,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    check_connection_params,
    connect,
    ensure_psycopg,
    postgres_argument_spec,
    psycopg,
    sql,
)
from ansible_collections.stronghold.ops.plugins.module_utils._restore import (
    KIND_PREVIOUS,
    KIND_RESTORE,
    STATE_CLEANED,
    STATE_RESTORED,
    STEP_BLOCKING,
    STEP_RESTORED,
    STEP_RESTORING,
    find_leftovers,
    make_marker,
    plan_names,
    plan_recovery,
    safety_dump_name,
)

TERMINATE_WAIT = 10.0
# A run that finds the lock taken waits this long: the server session of a run killed a moment
# ago ends (and frees the lock) when the server notices its client is gone.
LOCK_WAIT = "10s"
# First half of the advisory lock key of a run (the second is a checksum of the live database's
# name); any 32-bit constant that other software is unlikely to use.
LOCK_CLASS = 0x53524553
APPLICATION_NAME = "stronghold.ops.pg_restore"


class StepFailed(Exception):
    pass


def plan_steps(database, backup, restored, before, safety_path, sessions_mode, drop_previous, analyze):
    steps = [
        "verify %s" % backup,
        "%s sessions connected to %s"
        % ("refuse if there are" if sessions_mode == "refuse" else "block new connections and terminate", database),
        "safety dump of %s to %s" % (database, safety_path),
        "create database %s (owner, encoding, locale of %s)" % (restored, database),
        "restore %s into %s (ON_ERROR_STOP, single transaction)" % (backup, restored),
        "carry over database settings, privileges, connection limit and comment",
    ]
    if analyze:
        steps.append("ANALYZE %s" % restored)
    steps.append("in one transaction: rename %s to %s, rename %s to %s" % (database, before, restored, database))
    steps.append("drop %s" % before if drop_previous else "keep %s until you drop it" % before)
    return steps


def describe_sessions(rows):
    return [
        {
            "pid": r["pid"],
            "user": r["usename"],
            "application": r["application_name"],
            "client": r["client"],
            "state": r["state"],
            "since": r["backend_start"].isoformat() if r["backend_start"] else None,
        }
        for r in rows
    ]


SESSIONS_SQL = """
SELECT pid, usename, application_name, COALESCE(host(client_addr), 'local') AS client, state, backend_start
FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid
"""


class Restore:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.database = self.params["database"]
        self.durations = {}
        self.result = {
            "changed": False,
            "state": self.params["state"],
            "database": self.database,
            "backup": None,
            "verification": [],
            "rejected_backups": [],
            "restored_database": None,
            "previous_database": None,
            "previous_dropped": False,
            "safety_dump": None,
            "sessions": [],
            "terminated": [],
            "durations": self.durations,
            "plan": [],
            "warnings_detail": [],
            "findings": [],
            "worst_severity": "ok",
            "leftovers": None,
            "reallowed": False,
            "dropped_databases": [],
            "removed_files": [],
        }
        self.began = time.monotonic()
        # Set when a failed swap could not allow connections to the live database again: the
        # restore database then keeps its marker, the only record that this run blocked them.
        self.still_blocking = False

    def fail(self, msg, **extra):
        self.durations["total"] = round(time.monotonic() - self.began, 3)
        if self.result["reallowed"] or self.result["dropped_databases"] or self.result["removed_files"]:
            msg = msg.replace(
                "nothing was changed",
                "nothing else was changed (only the leftovers of a killed run were dealt with, see findings)",
            )
        self.result.update(extra)
        self.module.fail_json(msg=msg, **self.result)

    def timed(self, step, started):
        self.durations[step] = round(time.monotonic() - started, 3)

    def safety_directory(self):
        """Where safety dumps of this database go, known before any backup is verified."""
        params = self.params
        if params["safety_dump_directory"]:
            return os.path.abspath(params["safety_dump_directory"])
        if params["directory"]:
            return os.path.abspath(params["directory"])
        if params["backup"]:
            return os.path.dirname(os.path.abspath(params["backup"]))
        return None

    # --- one run at a time ----------------------------------------------------------------

    def lock(self, conn):
        """A session-level advisory lock held until the module's connection ends, so that a run
        never takes another run's work in progress for a leftover. A killed run's lock goes
        with its server session."""
        key = zlib.crc32(self.database.encode("utf-8"))
        key = key - (1 << 32) if key >= (1 << 31) else key
        try:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (LOCK_WAIT,))
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, key))
        except psycopg.errors.LockNotAvailable:
            # pg_locks shows the two halves of the key as oids (unsigned).
            holders = conn.execute(
                "SELECT a.pid, a.application_name, a.state, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = %s"
                " AND l.objid::bigint = %s ORDER BY a.pid",
                (LOCK_CLASS, key & 0xFFFFFFFF),
            ).fetchall()
            self.fail(
                "another pg_restore run of %s holds its lock (%s): it is still running, or the server session of a killed run has "
                "not ended yet; nothing was changed"
                % (
                    self.database,
                    ", ".join(
                        "server session pid %s, application %s, %s since %s"
                        % (r["pid"], r["application_name"] or "(none)", r["state"], r["backend_start"])
                        for r in holders
                    )
                    or "its holder is no longer visible",
                )
            )
        finally:
            conn.execute("RESET lock_timeout")

    # --- what killed runs left --------------------------------------------------------------

    def recover(self, conn, safety_dir):
        """Find what killed runs left, allow connections again where a run blocked them, and
        (state=cleaned) remove the leftovers. Returns the plan of find_leftovers/plan_recovery."""
        params = self.params
        rows = conn.execute(
            "SELECT datname, datallowconn, shobj_description(oid, 'pg_database') AS comment FROM pg_database"
        ).fetchall()
        databases = [{"name": r["datname"], "comment": r["comment"]} for r in rows]
        live = next(({"allow_connections": r["datallowconn"]} for r in rows if r["datname"] == self.database), None)
        files = None
        if safety_dir is not None and os.path.isdir(safety_dir):
            try:
                files = os.listdir(safety_dir)
            except OSError as exc:
                self.fail(
                    "cannot list the safety dump directory %s: %s; nothing was changed"
                    % (safety_dir, exc.strerror or exc)
                )
        leftovers = find_leftovers(self.database, live, databases, files)
        clean = params["state"] == STATE_CLEANED
        plan = plan_recovery(
            self.database,
            leftovers,
            clean=clean,
            drop_previous=params["drop_previous"],
            check_mode=self.module.check_mode,
            directory=safety_dir,
        )
        self.result["leftovers"] = leftovers
        self.result["findings"] = plan["findings"]
        self.result["worst_severity"] = worst_severity(plan["findings"])
        steps = []
        if plan["reallow"]:
            steps.append("allow connections to %s again (blocked by a killed run)" % self.database)
        steps += ["drop database %s" % name for name in plan["drop_databases"]]
        steps += ["remove %s" % os.path.join(safety_dir, name) for name in plan["remove_files"]]
        self.result["plan"] = steps
        if self.module.check_mode or not steps:
            self.result["changed"] = bool(steps)
            return plan
        self.result["changed"] = True
        problems = []
        if plan["reallow"]:
            try:
                with conn.transaction():
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(self.database))
                    )
                    # The markers no longer claim the block, so a later run never undoes one an
                    # administrator sets.
                    for item in leftovers["restore_databases"]:
                        if item["step"] == STEP_BLOCKING:
                            conn.execute(
                                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                                    sql.Identifier(item["name"]),
                                    sql.Literal(make_marker(KIND_RESTORE, self.database, item["stamp"], STEP_RESTORED)),
                                )
                            )
                self.result["reallowed"] = True
            except psycopg.Error as exc:
                # The leftovers that record the block must stay for the next run.
                problems.append("allowing connections to %s again failed: %s" % (self.database, str(exc).strip()))
                plan["drop_databases"] = [
                    name
                    for name in plan["drop_databases"]
                    if name not in [d["name"] for d in leftovers["restore_databases"] if d["step"] == STEP_BLOCKING]
                ]
        for name in plan["drop_databases"]:
            try:
                drop_database(params, name, force=True)
                self.result["dropped_databases"].append(name)
            except (PostgresConnectError, psycopg.Error) as exc:
                problems.append("dropping %s failed: %s" % (name, str(exc).strip()))
        for name in plan["remove_files"]:
            try:
                os.unlink(os.path.join(safety_dir, name))
                self.result["removed_files"].append(name)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append("removing %s failed: %s" % (os.path.join(safety_dir, name), exc.strerror or exc))
        if problems:
            self.fail("cleaning up after killed runs of %s: %s" % (self.database, "; ".join(problems)))
        return plan

    # --- observe ------------------------------------------------------------------------

    def choose_backup(self):
        started = time.monotonic()
        if self.params["backup"]:
            path = os.path.abspath(self.params["backup"])
            if not os.path.isfile(path):
                self.fail("backup %s does not exist or is not a regular file" % path)
            if not os.access(path, os.R_OK):
                self.fail("backup %s is not readable" % path)
            verified = verify_stream(path)
            self.timed("verify", started)
            self.result["verification"] = verified["checks"]
            if not verified["ok"]:
                self.fail(
                    "backup %s failed verification: %s; nothing was changed" % (path, failed_checks_text(verified))
                )
            return path, verified
        directory = self.params["directory"]
        try:
            backups = list_backups(directory, self.params["pattern"], self.params["timezone"])
        except OSError as exc:
            self.fail("cannot list %s: %s" % (directory, exc.strerror or exc))
        for candidate in reversed(backups):
            verified = verify_stream(candidate["path"])
            if verified["ok"]:
                self.timed("verify", started)
                self.result["verification"] = verified["checks"]
                return candidate["path"], verified
            self.result["rejected_backups"].append(
                {"path": candidate["path"], "failed": [c for c in verified["checks"] if c["status"] == "failed"]}
            )
        self.timed("verify", started)
        if not backups:
            self.fail("no backup in %s matches %s; nothing was changed" % (directory, self.params["pattern"]))
        self.fail("none of the %d backups in %s passed verification; nothing was changed" % (len(backups), directory))
        return None, None

    def live_database(self, conn, reallowing=False):
        row = conn.execute(
            "SELECT d.oid, pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype,"
            " d.datallowconn, d.datconnlimit, d.datacl IS NOT NULL AS has_acl, shobj_description(d.oid, 'pg_database') AS comment"
            " FROM pg_database d WHERE d.datname = %s",
            (self.database,),
        ).fetchone()
        if row is None:
            self.fail("database %s does not exist; nothing was changed" % self.database)
        if not row["datallowconn"] and not reallowing:
            self.fail(
                "database %s does not allow connections (ALLOW_CONNECTIONS false); nothing was changed" % self.database
            )
        return row

    def sessions(self, conn):
        return describe_sessions(conn.execute(SESSIONS_SQL, (self.database,)).fetchall())

    # --- act ----------------------------------------------------------------------------

    def carry_over(self, conn, live, restored):
        """Database-level state that pg_dump without --create does not dump (the comment is set
        in the swap: until then the restored database's comment is this module's marker)."""
        problems = self.result["warnings_detail"]
        ident = sql.Identifier(restored)
        if live["datconnlimit"] != -1:
            conn.execute(
                sql.SQL("ALTER DATABASE {} CONNECTION LIMIT {}").format(ident, sql.Literal(live["datconnlimit"]))
            )
        settings = conn.execute(
            "SELECT CASE WHEN setrole = 0 THEN NULL ELSE pg_get_userbyid(setrole) END AS role, unnest(setconfig) AS item"
            " FROM pg_db_role_setting WHERE setdatabase = %s",
            (live["oid"],),
        ).fetchall()
        for row in settings:
            name, value = row["item"].split("=", 1)
            target = (
                sql.SQL("ALTER DATABASE {}").format(ident)
                if row["role"] is None
                else sql.SQL("ALTER ROLE {} IN DATABASE {}").format(sql.Identifier(row["role"]), ident)
            )
            try:
                with conn.transaction():
                    # set_config parses the stored text as SET would (lists such as search_path
                    # included); FROM CURRENT then records exactly that value.
                    conn.execute("SELECT set_config(%s, %s, true)", (name, value))
                    conn.execute(sql.SQL("{} SET {} FROM CURRENT").format(target, sql.Identifier(name)))
            except psycopg.Error as exc:
                whose = "" if row["role"] is None else " for role " + row["role"]
                problems.append(
                    "setting %s=%s%s not carried over: %s" % (name, value, whose, str(exc).strip().splitlines()[0])
                )
        if live["has_acl"]:
            grants = conn.execute(
                "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type, a.is_grantable"
                " FROM pg_database d, aclexplode(d.datacl) a WHERE d.oid = %s",
                (live["oid"],),
            ).fetchall()
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
                    for grant in grants:
                        grantee = sql.SQL("PUBLIC") if grant["grantee"] is None else sql.Identifier(grant["grantee"])
                        conn.execute(
                            sql.SQL("GRANT {} ON DATABASE {} TO {}{}").format(
                                sql.SQL(grant["privilege_type"]),
                                ident,
                                grantee,
                                sql.SQL(" WITH GRANT OPTION" if grant["is_grantable"] else ""),
                            )
                        )
            except psycopg.Error as exc:
                problems.append(
                    "privileges of %s not carried over: %s" % (self.database, str(exc).strip().splitlines()[0])
                )

    def mark(self, conn, name, stamp, step):
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(make_marker(KIND_RESTORE, self.database, stamp, step))
            )
        )

    def swap(self, conn, live, restored, before, stamp):
        """Rename live -> before and restored -> live in one transaction; returns terminated pids."""
        live_ident = sql.Identifier(self.database)
        terminated = []
        blocked = False
        try:
            if self.params["sessions"] == "terminate":
                # Recorded before it is done: a run killed from here on leaves this marker, and the
                # next run allows connections again only because of it.
                self.mark(conn, restored, stamp, STEP_BLOCKING)
                conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(live_ident))
                blocked = True
                rows = conn.execute(
                    "SELECT pid, pg_terminate_backend(pid) AS done FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                terminated = [r["pid"] for r in rows if r["done"]]
                deadline = time.monotonic() + TERMINATE_WAIT
                while self.sessions(conn) and time.monotonic() < deadline:
                    time.sleep(0.1)
            left = self.sessions(conn)
            if left:
                raise StepFailed("%d session(s) connected to %s: %s" % (len(left), self.database, sessions_text(left)))
            # One transaction: a run killed anywhere in it (even between the renames) is rolled
            # back by the server when the connection drops.
            with conn.transaction():
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(live_ident, sql.Identifier(before)))
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(restored), live_ident))
                conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(live_ident, sql.Literal(live["comment"])))
                conn.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(before),
                        sql.Literal(make_marker(KIND_PREVIOUS, self.database, stamp, comment=live["comment"])),
                    )
                )
                if blocked:
                    # The previous database keeps the setting it had.
                    conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(before)))
            blocked = False
        finally:
            if blocked:
                try:
                    conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(live_ident))
                except psycopg.Error as exc:
                    self.still_blocking = True
                    self.module.warn(
                        "could not allow connections to %s again: %s; run ALTER DATABASE %s ALLOW_CONNECTIONS true, "
                        "or run pg_restore again: %s records the block" % (self.database, exc, self.database, restored)
                    )
        return terminated

    def run(self):
        params = self.params
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d_%H%M%S")
        restoring = params["state"] == STATE_RESTORED
        if restoring:
            try:
                restored, before = plan_names(self.database, stamp)
            except ValueError as exc:
                self.fail(str(exc))
        try:
            conn = connect(params, dbname=params["maintenance_db"], application_name=APPLICATION_NAME)
        except PostgresConnectError as exc:
            self.fail("%s; nothing was changed" % exc)
        with conn:
            self.lock(conn)
            recovery = self.recover(conn, self.safety_directory())
            if not restoring:
                self.finish()
            live = self.live_database(conn, reallowing=recovery["reallow"] and self.module.check_mode)
            taken = [
                r["datname"]
                for r in conn.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (restored, before))
            ]
            if taken:
                self.fail("database %s already exists; nothing was changed" % ", ".join(taken))
            backup, verified = self.choose_backup()
            self.result["backup"] = backup
            safety_dir = os.path.abspath(params["safety_dump_directory"] or os.path.dirname(backup))
            if not os.path.isdir(safety_dir) or not os.access(safety_dir, os.W_OK | os.X_OK):
                self.fail(
                    "safety_dump_directory %s does not exist or is not writable; nothing was changed" % safety_dir
                )
            safety_path = os.path.join(safety_dir, safety_dump_name(self.database, stamp))
            self.result.update(
                restored_database=restored,
                safety_dump={"path": safety_path},
                plan=self.result["plan"]
                + plan_steps(
                    self.database,
                    backup,
                    restored,
                    before,
                    safety_path,
                    params["sessions"],
                    params["drop_previous"],
                    params["analyze"],
                ),
            )
            connected = self.sessions(conn)
            self.result["sessions"] = connected
            if connected and params["sessions"] == "refuse" and self.module.check_mode:
                # The plan still shows: a playbook in check mode has not stopped the application.
                self.module.warn(
                    "%d session(s) connected to %s; a real run would refuse them: %s"
                    % (len(connected), self.database, sessions_text(connected))
                )
            elif connected and params["sessions"] == "refuse":
                self.fail(
                    "%d session(s) connected to %s; stop the application first or set sessions=terminate; nothing was changed: %s"
                    % (len(connected), self.database, sessions_text(connected))
                )
            if self.module.check_mode:
                self.result["changed"] = True
                self.finish()

            started = time.monotonic()
            try:
                dumped = dump_to_file(
                    self.module, params, self.database, safety_dir, os.path.basename(safety_path), fmt="plain"
                )
            except DumpError as exc:
                self.timed("safety_dump", started)
                self.fail("the safety dump of %s failed: %s; nothing was changed" % (self.database, exc))
            self.timed("safety_dump", started)
            self.result["safety_dump"] = {
                "path": dumped["path"],
                "size": dumped["size"],
                "sha256": dumped["sha256"],
                "duration": dumped["duration"],
            }
            self.result["changed"] = True

            created = False
            step = "create"
            try:
                create_database(
                    params,
                    restored,
                    owner=live["owner"],
                    encoding=live["encoding"],
                    lc_collate=live["datcollate"],
                    lc_ctype=live["datctype"],
                )
                created = True
                self.mark(conn, restored, stamp, STEP_RESTORING)
                step = "restore"
                started = time.monotonic()
                restored_result = restore_file(
                    self.module,
                    params,
                    backup,
                    restored,
                    fmt=verified.get("format") or "auto",
                    timeout=params["timeout"],
                    no_owner=False,
                )
                self.timed("restore", started)
                self.result["restore"] = {
                    "duration": restored_result["duration"],
                    "stderr_tail": restored_result["stderr_tail"],
                    "format": restored_result["format"],
                }
                if not restored_result["ok"]:
                    raise StepFailed(restored_result["error"])
                step = "finish"
                started = time.monotonic()
                self.carry_over(conn, live, restored)
                if params["analyze"]:
                    with connect(params, dbname=restored, application_name=APPLICATION_NAME) as rconn:
                        rconn.execute("ANALYZE")
                self.mark(conn, restored, stamp, STEP_RESTORED)
                self.timed("finish", started)
                step = "swap"
                started = time.monotonic()
                self.result["terminated"] = self.swap(conn, live, restored, before, stamp)
                self.timed("swap", started)
            except (StepFailed, DumpError, PostgresConnectError, psycopg.Error) as exc:
                reason = str(exc).strip()
                cleanup = ""
                if created and self.still_blocking:
                    cleanup = (
                        "; %s stays: it records that connections to %s are blocked, and the next run allows them again"
                        % (restored, self.database)
                    )
                elif created:
                    try:
                        drop_database(params, restored, force=True)
                        cleanup = "; %s was dropped" % restored
                    except (PostgresConnectError, psycopg.Error) as drop_exc:
                        cleanup = "; dropping %s failed too (%s), drop it by hand" % (restored, str(drop_exc).strip())
                # Named only when it is left behind.
                self.result["restored_database"] = (
                    restored if created and ("by hand" in cleanup or self.still_blocking) else None
                )
                self.fail(
                    "%s step failed: %s; %s is unchanged%s; the safety dump is %s"
                    % (step, reason, self.database, cleanup, self.result["safety_dump"]["path"])
                )

            self.result["previous_database"] = before
            if params["drop_previous"]:
                started = time.monotonic()
                try:
                    drop_database(params, before, force=True)
                    self.result["previous_dropped"] = True
                    self.result["previous_database"] = None
                except (PostgresConnectError, psycopg.Error) as exc:
                    self.module.warn("the rollback succeeded, but dropping %s failed: %s" % (before, str(exc).strip()))
                self.timed("drop_previous", started)
        self.finish()

    def finish(self):
        self.durations["total"] = round(time.monotonic() - self.began, 3)
        for problem in self.result["warnings_detail"]:
            self.module.warn(problem)
        self.module.exit_json(**self.result)


def sessions_text(sessions):
    return ", ".join(
        "pid %s (%s, %s from %s, %s)"
        % (s["pid"], s["user"], s["application"] or "no application_name", s["client"], s["state"])
        for s in sessions
    )


def failed_checks_text(verified):
    return "; ".join("%s: %s" % (c["name"], c["detail"]) for c in verified["checks"] if c["status"] == "failed")


def validate(params):
    problems = check_connection_params(params)
    if not params["database"]:
        problems.append("database (or login_db) is required: the live database to roll back")
    elif params["database"] == params["maintenance_db"]:
        problems.append(
            "database and maintenance_db are both %s: the live database cannot be renamed from a session connected to it"
            % params["database"]
        )
    if params["directory"] is not None:
        if not os.path.isdir(params["directory"]):
            problems.append("directory %s does not exist or is not a directory" % params["directory"])
        try:
            compile_pattern(params["pattern"])
        except ValueError as exc:
            problems.append(str(exc))
    try:
        resolve_timezone(params["timezone"])
    except ValueError as exc:
        problems.append(str(exc))
    problem = timeout_problem(params["timeout"])
    if problem:
        problems.append(problem)
    if params["safety_dump_directory"] is not None and not os.path.isdir(params["safety_dump_directory"]):
        problems.append(
            "safety_dump_directory %s does not exist or is not a directory" % params["safety_dump_directory"]
        )
    return problems


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        {
            "database": {"type": "str"},
            "state": {"type": "str", "choices": [STATE_RESTORED, STATE_CLEANED], "default": STATE_RESTORED},
            "backup": {"type": "path"},
            "directory": {"type": "path"},
            "pattern": {"type": "str", "default": "backup_%Y%m%d_%H%M%S.sql.gz"},
            "timezone": {"type": "str", "default": "UTC"},
            "sessions": {"type": "str", "choices": ["refuse", "terminate"], "default": "refuse"},
            "drop_previous": {"type": "bool", "default": False},
            "safety_dump_directory": {"type": "path"},
            "maintenance_db": {"type": "str", "default": "postgres"},
            "analyze": {"type": "bool", "default": True},
            "timeout": {"type": "int"},
            "pg_bin_dir": {"type": "path"},
        }
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["backup", "directory"]],
        required_if=[["state", STATE_RESTORED, ["backup", "directory"], True]],
    )
    module.params["database"] = module.params["database"] or module.params["login_db"]
    problems = validate(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems), problems=problems)
    ensure_psycopg(module)
    Restore(module).run()


if __name__ == "__main__":
    main()
