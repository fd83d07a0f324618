# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The acting half of pg_restore: what a run observes in the cluster and does to it.

The decisions (names, the plan, what killed runs left and what to do about it, which backup,
the messages and findings) are the pure functions of _restore. ``Restore(module,
options).run()`` returns the module's result or raises _restore.RestoreError carrying the
result so far; it never exits the module itself.
"""

from __future__ import annotations

import datetime
import os
import time
import zlib
from typing import Any, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import list_backups, verify_stream
from ansible_collections.stronghold.ops.plugins.module_utils._findings import worst_severity
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import (
    DumpError,
    create_database,
    drop_database,
    dump_to_file,
    restore_file,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    connect,
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
    RestoreError,
    choose_backup,
    cleanup_text,
    describe_sessions,
    failed_checks_text,
    failure_message,
    find_leftovers,
    make_marker,
    new_result,
    outcome_finding,
    plan_names,
    plan_recovery,
    plan_steps,
    recovery_steps,
    safety_directory,
    safety_dump_name,
    session_refusal,
    sessions_text,
    step_failure,
)

TERMINATE_WAIT = 10.0
# A run that finds the lock taken waits this long: the server session of a run killed a moment
# ago ends (and frees the lock) when the server notices its client is gone.
LOCK_WAIT = "10s"
# First half of the advisory lock key of a run (the second is a checksum of the live database's
# name); any 32-bit constant that other software is unlikely to use.
LOCK_CLASS = 0x53524553
APPLICATION_NAME = "stronghold.ops.pg_restore"

SESSIONS_SQL = """
SELECT pid, usename, application_name, COALESCE(host(client_addr), 'local') AS client, state, backend_start
FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid
"""


class StepFailed(Exception):
    """A step of the rollback failed; the live database is untouched."""


class Restore:
    """One run of pg_restore for ``options`` (as _restore.read_options settled them)."""

    def __init__(self, module: AnsibleModule, options: dict[str, Any]) -> None:
        self.module = module
        self.options = options
        self.check_mode = module.check_mode
        self.database: str = options["database"]
        self.result = new_result(options)
        self.durations: dict[str, float] = self.result["durations"]
        self.began = time.monotonic()
        # Set when a failed swap could not allow connections to the live database again: the
        # restore database then keeps its marker, the only record that this run blocked them.
        self.still_blocking = False

    def error(self, msg: str) -> RestoreError:
        """The RestoreError that ends the run, with the result so far."""
        self.durations["total"] = round(time.monotonic() - self.began, 3)
        self.result["worst_severity"] = worst_severity(self.result["findings"])
        return RestoreError(failure_message(msg, self.result), **self.result)

    def timed(self, step: str, started: float) -> None:
        self.durations[step] = round(time.monotonic() - started, 3)

    def run(self) -> dict[str, Any]:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d_%H%M%S")
        restoring = self.options["state"] == STATE_RESTORED
        restored = before = ""
        if restoring:
            try:
                restored, before = plan_names(self.database, stamp)
            except ValueError as exc:
                raise self.error(str(exc)) from exc
        try:
            conn = connect(self.options, dbname=self.options["maintenance_db"], application_name=APPLICATION_NAME)
        except PostgresConnectError as exc:
            raise self.error("%s; nothing was changed" % exc) from exc
        with conn:
            self.lock(conn)
            recovery = self.recover(conn, safety_directory(self.options))
            if restoring:
                self.roll_back(conn, stamp, restored, before, recovery["reallow"])
        self.durations["total"] = round(time.monotonic() - self.began, 3)
        self.result["worst_severity"] = worst_severity(self.result["findings"])
        return self.result

    # --- one run at a time ----------------------------------------------------------------

    def lock(self, conn: Any) -> None:
        """A session-level advisory lock held until the module's connection ends, so that a run
        never takes another run's work in progress for a leftover. A killed run's lock goes
        with its server session."""
        key = zlib.crc32(self.database.encode("utf-8"))
        key = key - (1 << 32) if key >= (1 << 31) else key
        try:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (LOCK_WAIT,))
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, key))
        except psycopg.errors.LockNotAvailable as exc:
            # pg_locks shows the two halves of the key as oids (unsigned).
            holders = conn.execute(
                "SELECT a.pid, a.application_name, a.state, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = %s"
                " AND l.objid::bigint = %s ORDER BY a.pid",
                (LOCK_CLASS, key & 0xFFFFFFFF),
            ).fetchall()
            raise self.error(
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
            ) from exc
        finally:
            conn.execute("RESET lock_timeout")

    # --- what killed runs left --------------------------------------------------------------

    def recover(self, conn: Any, safety_dir: Optional[str]) -> dict[str, Any]:
        """Find what killed runs left, allow connections again where a run blocked them, and
        (state=cleaned) remove the leftovers. Returns the plan of find_leftovers/plan_recovery."""
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
                raise self.error(
                    "cannot list the safety dump directory %s: %s; nothing was changed"
                    % (safety_dir, exc.strerror or exc)
                ) from exc
        leftovers = find_leftovers(self.database, live, databases, files)
        plan = plan_recovery(
            self.database,
            leftovers,
            clean=self.options["state"] == STATE_CLEANED,
            drop_previous=self.options["drop_previous"],
            check_mode=self.check_mode,
            directory=safety_dir,
        )
        steps = recovery_steps(self.database, plan, safety_dir)
        self.result.update(leftovers=leftovers, findings=plan["findings"], plan=steps, changed=bool(steps))
        if self.check_mode or not steps:
            return plan
        problems = []
        if plan["reallow"]:
            blockers = [d["name"] for d in leftovers["restore_databases"] if d["step"] == STEP_BLOCKING]
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
                plan["drop_databases"] = [name for name in plan["drop_databases"] if name not in blockers]
        for name in plan["drop_databases"]:
            try:
                drop_database(self.options, name, force=True)
                self.result["dropped_databases"].append(name)
            except (PostgresConnectError, psycopg.Error) as exc:
                problems.append("dropping %s failed: %s" % (name, str(exc).strip()))
        for name in plan["remove_files"]:
            path = os.path.join(safety_dir or "", name)
            try:
                os.unlink(path)
                self.result["removed_files"].append(name)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append("removing %s failed: %s" % (path, exc.strerror or exc))
        if problems:
            raise self.error("cleaning up after killed runs of %s: %s" % (self.database, "; ".join(problems)))
        return plan

    # --- observe ------------------------------------------------------------------------

    def choose_backup(self) -> tuple[str, dict[str, Any]]:
        """The backup to restore and its verification (verify_stream)."""
        started = time.monotonic()
        if self.options["backup"]:
            path = os.path.abspath(self.options["backup"])
            if not os.path.isfile(path):
                raise self.error("backup %s does not exist or is not a regular file" % path)
            if not os.access(path, os.R_OK):
                raise self.error("backup %s is not readable" % path)
            verified = verify_stream(path)
            self.timed("verify", started)
            self.result["verification"] = verified["checks"]
            if not verified["ok"]:
                raise self.error(
                    "backup %s failed verification: %s; nothing was changed" % (path, failed_checks_text(verified))
                )
            return path, verified
        directory = self.options["directory"]
        try:
            backups = list_backups(directory, self.options["pattern"], self.options["timezone"])
        except OSError as exc:
            raise self.error("cannot list %s: %s" % (directory, exc.strerror or exc)) from exc
        try:
            path, verified, rejected = choose_backup(
                [b["path"] for b in backups], verify_stream, directory, self.options["pattern"]
            )
        except RestoreError as exc:
            self.timed("verify", started)
            self.result["rejected_backups"] = exc.values.get("rejected_backups", [])
            raise self.error(exc.msg) from exc
        self.timed("verify", started)
        self.result.update(verification=verified["checks"], rejected_backups=rejected)
        return path, verified

    def live_database(self, conn: Any, reallowing: bool = False) -> dict[str, Any]:
        row = conn.execute(
            "SELECT d.oid, pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype,"
            " d.datallowconn, d.datconnlimit, d.datacl IS NOT NULL AS has_acl, shobj_description(d.oid, 'pg_database') AS comment"
            " FROM pg_database d WHERE d.datname = %s",
            (self.database,),
        ).fetchone()
        if row is None:
            raise self.error("database %s does not exist; nothing was changed" % self.database)
        if not row["datallowconn"] and not reallowing:
            raise self.error(
                "database %s does not allow connections (ALLOW_CONNECTIONS false); nothing was changed" % self.database
            )
        return dict(row)

    def sessions(self, conn: Any) -> list[dict[str, Any]]:
        return describe_sessions(conn.execute(SESSIONS_SQL, (self.database,)).fetchall())

    # --- act ----------------------------------------------------------------------------

    def roll_back(self, conn: Any, stamp: str, restored: str, before: str, reallowing: bool) -> None:
        """Verify, dump, create, restore, carry over and swap (in check mode: plan); the outcome
        becomes the ``backup.restore`` finding."""
        options = self.options
        live = self.live_database(conn, reallowing=reallowing and self.check_mode)
        taken = [
            r["datname"]
            for r in conn.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (restored, before))
        ]
        if taken:
            raise self.error("database %s already exists; nothing was changed" % ", ".join(taken))
        backup, verified = self.choose_backup()
        self.result["backup"] = backup
        safety_dir = os.path.abspath(options["safety_dump_directory"] or os.path.dirname(backup))
        if not os.path.isdir(safety_dir) or not os.access(safety_dir, os.W_OK | os.X_OK):
            raise self.error(
                "safety_dump_directory %s does not exist or is not writable; nothing was changed" % safety_dir
            )
        safety_path = os.path.join(safety_dir, safety_dump_name(self.database, stamp))
        steps = plan_steps(
            self.database,
            backup,
            restored,
            before,
            safety_path,
            options["sessions"],
            options["drop_previous"],
            options["analyze"],
        )
        self.result.update(
            restored_database=restored, safety_dump={"path": safety_path}, plan=self.result["plan"] + steps
        )
        connected = self.sessions(conn)
        self.result["sessions"] = connected
        refusal = session_refusal(self.database, connected, options["sessions"], self.check_mode)
        if refusal and self.check_mode:
            self.module.warn(refusal)
        elif refusal:
            raise self.error(refusal)
        if self.check_mode:
            self.result["changed"] = True
            self.result["findings"].append(outcome_finding(self.result, True))
            return

        started = time.monotonic()
        try:
            dumped = dump_to_file(self.module, options, self.database, safety_dir, os.path.basename(safety_path))
        except DumpError as exc:
            self.timed("safety_dump", started)
            raise self.error("the safety dump of %s failed: %s; nothing was changed" % (self.database, exc)) from exc
        self.timed("safety_dump", started)
        self.result["safety_dump"] = {key: dumped[key] for key in ("path", "size", "sha256", "duration")}
        self.result["changed"] = True
        self.restore_and_swap(conn, live, backup, verified, stamp, restored, before)

        self.result["previous_database"] = before
        drop_error = None
        if options["drop_previous"]:
            started = time.monotonic()
            try:
                drop_database(options, before, force=True)
                self.result.update(previous_dropped=True, previous_database=None)
            except (PostgresConnectError, psycopg.Error) as exc:
                drop_error = str(exc).strip()
                self.module.warn("the rollback succeeded, but dropping %s failed: %s" % (before, drop_error))
            self.timed("drop_previous", started)
        for problem in self.result["warnings_detail"]:
            self.module.warn(problem)
        self.result["findings"].append(outcome_finding(self.result, False, before, drop_error))

    def restore_and_swap(
        self,
        conn: Any,
        live: dict[str, Any],
        backup: str,
        verified: dict[str, Any],
        stamp: str,
        restored: str,
        before: str,
    ) -> None:
        """Create ``restored``, restore ``backup`` into it, carry the live settings over and swap
        the names; on failure drop ``restored`` (unless it records a block) and raise."""
        options = self.options
        created = False
        step = "create"
        try:
            create_database(
                options,
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
            outcome = restore_file(
                self.module,
                options,
                backup,
                restored,
                fmt=verified.get("format") or "auto",
                timeout=options["timeout"],
                no_owner=False,
            )
            self.timed("restore", started)
            self.result["restore"] = {key: outcome[key] for key in ("duration", "stderr_tail", "format")}
            if not outcome["ok"]:
                raise StepFailed(outcome["error"])
            step = "finish"
            started = time.monotonic()
            self.carry_over(conn, live, restored)
            if options["analyze"]:
                with connect(options, dbname=restored, application_name=APPLICATION_NAME) as rconn:
                    rconn.execute("ANALYZE")
            self.mark(conn, restored, stamp, STEP_RESTORED)
            self.timed("finish", started)
            step = "swap"
            started = time.monotonic()
            self.result["terminated"] = self.swap(conn, live, restored, before, stamp)
            self.timed("swap", started)
        except (StepFailed, DumpError, PostgresConnectError, psycopg.Error) as exc:
            drop_error = None
            if created and not self.still_blocking:
                try:
                    drop_database(options, restored, force=True)
                except (PostgresConnectError, psycopg.Error) as drop_exc:
                    drop_error = str(drop_exc).strip()
            # Named only when it is left behind.
            left = created and (drop_error is not None or self.still_blocking)
            self.result["restored_database"] = restored if left else None
            cleanup = cleanup_text(restored, self.database, created, self.still_blocking, drop_error)
            raise self.error(
                step_failure(step, str(exc).strip(), self.database, cleanup, self.result["safety_dump"]["path"])
            ) from exc

    def carry_over(self, conn: Any, live: dict[str, Any], restored: str) -> None:
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

    def mark(self, conn: Any, name: str, stamp: str, step: str) -> None:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(make_marker(KIND_RESTORE, self.database, stamp, step))
            )
        )

    def swap(self, conn: Any, live: dict[str, Any], restored: str, before: str, stamp: str) -> list[int]:
        """Rename live -> before and restored -> live in one transaction; returns terminated pids."""
        live_ident = sql.Identifier(self.database)
        terminated = []
        blocked = False
        try:
            if self.options["sessions"] == "terminate":
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
