# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""pg_restore's names, and what the leftovers of a killed run mean (pure functions).

A run of pg_restore can be killed (SIGKILL, OOM killer, a lost controller) at any step. What it
leaves, and how the next run tells it from a user's databases and files:

- killed during the safety dump: a hidden temporary file ``.pre_restore_<db>_<stamp>.sql.gz.
  XXXX.partial`` (and maybe the sidecar's own ``.partial`` file, or a sidecar whose dump was
  not linked yet) in the safety dump directory. The names are pg_backup's temporary names for
  that exact file, so only a run for ``<db>`` makes them.
- killed during the restore: the database ``<db>_restore_<stamp>``. Its comment is a marker
  (``stronghold.ops.pg_restore {json}``) written right after CREATE DATABASE, whose ``step``
  says how far the run got. A database of that name without a marker counts as this module's
  only when the finished safety dump of the same stamp (written before CREATE DATABASE) is
  in the safety dump directory: a run killed during CREATE DATABASE, which the server
  completes without its client. Any other database is a user's and never touched.
- killed while new connections to the live database were blocked (sessions=terminate): the
  marker's step was set to ``blocking`` BEFORE ``ALTER DATABASE ... ALLOW_CONNECTIONS false``,
  so a live database that refuses connections is allowed again only when such a marker says
  this module did it; a database an administrator closed on purpose is left alone.
- the swap (both renames, the comments and ALLOW_CONNECTIONS) is one transaction: a kill
  between the two renames rolls both back on the server.
- after a swap the previous database ``<db>_before_<stamp>`` carries a marker of kind
  ``previous`` (with the comment it had); it is kept until the user asks to drop it.

A leftover restore database is never swapped in, whatever its step: a killed restore may even
have been committed by psql after it lost its input, so its data cannot be trusted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import read_backup_files
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    Finding,
    FindingError,
    make_finding,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import read_timeout
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import check_connection_params

MARKER_PREFIX = "stronghold.ops.pg_restore "
SUFFIX_RESTORE = "_restore_"
SUFFIX_BEFORE = "_before_"
# Longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes); longer names are truncated.
MAX_IDENTIFIER_BYTES = 63
STAMP = r"\d{8}_\d{6}"

# Steps recorded in the marker of a restore database, in the order a run reaches them.
STEP_RESTORING = "restoring"  # created; the backup is being restored (incomplete)
STEP_RESTORED = "restored"  # restore, settings and ANALYZE done; not swapped in
STEP_BLOCKING = "blocking"  # about to block (or blocking) new connections to the live database
STEPS = (STEP_RESTORING, STEP_RESTORED, STEP_BLOCKING)
# Not a marker: a restore database without one, next to the finished safety dump of its run.
STEP_CREATED = "created"
KIND_RESTORE = "restore"
KIND_PREVIOUS = "previous"

STATE_RESTORED = "restored"
STATE_CLEANED = "cleaned"


def plan_names(database: str, stamp: str) -> tuple[str, str]:
    """(restored name, previous name) for ``database`` at ``stamp`` (YYYYmmdd_HHMMSS), or a
    ValueError when PostgreSQL would truncate them (identifiers keep 63 bytes)."""
    restored = database + SUFFIX_RESTORE + stamp
    before = database + SUFFIX_BEFORE + stamp
    longest = max(len(restored.encode("utf-8")), len(before.encode("utf-8")))
    if longest > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            "database name %r is too long: %r would exceed PostgreSQL's %d bytes; at most %d bytes"
            % (
                database,
                restored if len(restored) >= len(before) else before,
                MAX_IDENTIFIER_BYTES,
                MAX_IDENTIFIER_BYTES - (longest - len(database.encode("utf-8"))),
            )
        )
    return restored, before


def safety_dump_name(database: str, stamp: str) -> str:
    return "pre_restore_%s_%s.sql.gz" % (database.replace("/", "_"), stamp)


def make_marker(kind: str, database: str, stamp: str, step: Optional[str] = None, comment: Optional[str] = None) -> str:
    """The comment that marks a database as made by pg_restore (restore) or replaced by it (previous)."""
    if kind not in (KIND_RESTORE, KIND_PREVIOUS):
        raise ValueError("unknown marker kind %r" % (kind,))
    data: dict[str, Any] = {"kind": kind, "database": database, "stamp": stamp}
    if kind == KIND_RESTORE:
        if step not in STEPS:
            raise ValueError("unknown restore step %r" % (step,))
        data["step"] = step
    else:
        # The previous database's own comment, so that nothing of it is lost.
        data["comment"] = comment
    return MARKER_PREFIX + json.dumps(data, sort_keys=True, ensure_ascii=False)


def parse_marker(comment: Any) -> Optional[dict[str, Any]]:
    """The marker's data, or None when ``comment`` is no well-formed marker."""
    if not isinstance(comment, str) or not comment.startswith(MARKER_PREFIX):
        return None
    try:
        data = json.loads(comment[len(MARKER_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in (KIND_RESTORE, KIND_PREVIOUS):
        return None
    if not isinstance(data.get("database"), str) or not isinstance(data.get("stamp"), str):
        return None
    if data["kind"] == KIND_RESTORE and data.get("step") not in STEPS:
        return None
    return data


def _name_pattern(database: str) -> re.Pattern[str]:
    return re.compile("^%s(%s|%s)(%s)$" % (re.escape(database), SUFFIX_RESTORE, SUFFIX_BEFORE, STAMP))


def _file_patterns(database: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(temporary files of a safety dump and of its sidecar, a finished sidecar) of ``database``."""
    base = re.escape("pre_restore_%s_" % database.replace("/", "_")) + STAMP + r"\.sql\.gz"
    # tempfile.mkstemp(prefix=".NAME.", suffix=".partial") as in _pgdump.dump_to_file.
    partial = re.compile(r"^\.%s(\.sha256)?\.[A-Za-z0-9_]+\.partial$" % base)
    sidecar = re.compile(r"^%s\.sha256$" % base)
    return partial, sidecar


def find_leftovers(
    database: str,
    live: Optional[dict[str, Any]],
    databases: list[dict[str, Any]],
    files: Optional[list[str]],
) -> dict[str, Any]:
    """What killed runs of pg_restore for ``database`` left behind.

    ``live``: ``{"allow_connections": bool}`` of the live database, or None when it does not
    exist. ``databases``: every database of the cluster as ``{"name", "comment"}``. ``files``:
    the names in the safety dump directory, or None when it is not known.

    Returns ``{restore_databases: [{name, stamp, step, complete}], previous_databases:
    [{name, stamp}], unmarked_databases: [{name, kind}], partial_files: [name], reallow: bool,
    live_disallowed: bool, files_checked: bool}``. ``reallow`` is True only when the live
    database refuses connections AND a marker of this module says it blocked them.
    """
    pattern = _name_pattern(database)
    found: dict[str, Any] = {
        "restore_databases": [],
        "previous_databases": [],
        "unmarked_databases": [],
        "partial_files": [],
        "reallow": False,
        "live_disallowed": bool(live is not None and not live["allow_connections"]),
        "files_checked": files is not None,
    }
    blocking = False
    for item in sorted(databases, key=lambda d: d["name"]):
        match = pattern.match(item["name"])
        if not match:
            continue
        kind = KIND_RESTORE if match.group(1) == SUFFIX_RESTORE else KIND_PREVIOUS
        stamp = match.group(2)
        marker = parse_marker(item.get("comment"))
        if marker is None or marker["kind"] != kind or marker["database"] != database or marker["stamp"] != stamp:
            if (
                kind == KIND_RESTORE
                and item.get("comment") is None
                and safety_dump_name(database, stamp) in set(files or ())
            ):
                # Killed during CREATE DATABASE (which the server finishes without its client) or
                # before the marker: the finished safety dump of the same run, written just
                # before, is the record. Nothing was restored into it yet.
                found["restore_databases"].append(
                    {"name": item["name"], "stamp": stamp, "step": STEP_CREATED, "complete": False}
                )
            else:
                found["unmarked_databases"].append({"name": item["name"], "kind": kind})
        elif kind == KIND_RESTORE:
            found["restore_databases"].append(
                {
                    "name": item["name"],
                    "stamp": stamp,
                    "step": marker["step"],
                    "complete": marker["step"] != STEP_RESTORING,
                }
            )
            blocking = blocking or marker["step"] == STEP_BLOCKING
        else:
            found["previous_databases"].append({"name": item["name"], "stamp": stamp})
    found["reallow"] = found["live_disallowed"] and blocking
    if files is not None:
        partial, sidecar = _file_patterns(database)
        names = set(files)
        for name in sorted(names):
            if partial.match(name):
                found["partial_files"].append(name)
            elif sidecar.match(name) and name[: -len(".sha256")] not in names:
                # A sidecar is linked before its dump: alone, it is the trace of a kill in between.
                found["partial_files"].append(name)
    return found


def _action(check_mode: bool, acting: bool, verb_done: str, verb_would: str, hint: str) -> str:
    if not acting:
        return hint
    return verb_would if check_mode else verb_done


def plan_recovery(
    database: str,
    leftovers: dict[str, Any],
    clean: bool = False,
    drop_previous: bool = False,
    check_mode: bool = False,
    directory: Optional[str] = None,
) -> dict[str, Any]:
    """What to do about ``leftovers`` (from find_leftovers) and the findings that report it.

    Connections blocked by a killed run are always allowed again (the live database must
    serve). Restore databases and partial files are removed only when ``clean``; previous
    databases only when ``clean`` and ``drop_previous``. Unmarked databases are never touched.

    Returns ``{reallow: bool, drop_databases: [name], remove_files: [name], findings: [...]}``;
    ``remove_files`` are names in ``directory``.
    """
    plan: dict[str, Any] = {"reallow": leftovers["reallow"], "drop_databases": [], "remove_files": [], "findings": []}
    findings = plan["findings"]
    blockers = [d["name"] for d in leftovers["restore_databases"] if d["step"] == STEP_BLOCKING]
    if leftovers["reallow"]:
        findings.append(
            make_finding(
                "pg_restore.connections",
                database,
                "warning",
                "%s refused new connections since a pg_restore run was killed while it blocked them (%s); %s"
                % (
                    database,
                    ", ".join(blockers),
                    "they would be allowed again" if check_mode else "they are allowed again",
                ),
                {"restore_databases": blockers},
            )
        )
    elif leftovers["live_disallowed"]:
        findings.append(
            make_finding(
                "pg_restore.connections",
                database,
                "warning",
                "%s does not allow connections (ALLOW_CONNECTIONS false) and no pg_restore run recorded blocking them: "
                "left as it is" % database,
                {},
            )
        )
    for item in leftovers["restore_databases"]:
        what = {
            STEP_CREATED: "before restoring into it (empty, not marked yet; its run's safety dump is there)",
            STEP_RESTORING: "while restoring (incomplete)",
            STEP_RESTORED: "after restoring, before the swap",
            STEP_BLOCKING: "while blocking connections to %s, before the swap" % database,
        }[item["step"]]
        if clean:
            plan["drop_databases"].append(item["name"])
        findings.append(
            make_finding(
                "pg_restore.leftover_database",
                item["name"],
                "warning",
                "%s was left by a pg_restore run of %s killed %s; it is never swapped in; %s"
                % (
                    item["name"],
                    database,
                    what,
                    _action(check_mode, clean, "dropped", "it would be dropped", "state=cleaned drops it"),
                ),
                {"stamp": item["stamp"], "step": item["step"], "complete": item["complete"]},
            )
        )
    for item in leftovers["previous_databases"]:
        dropping = clean and drop_previous
        if dropping:
            plan["drop_databases"].append(item["name"])
        findings.append(
            make_finding(
                "pg_restore.previous_database",
                item["name"],
                "info",
                "%s holds the data %s had before the rollback of %s; %s"
                % (
                    item["name"],
                    database,
                    item["stamp"],
                    _action(
                        check_mode,
                        dropping,
                        "dropped",
                        "it would be dropped",
                        "kept until state=cleaned with drop_previous=true drops it",
                    ),
                ),
                {"stamp": item["stamp"]},
            )
        )
    for item in leftovers["unmarked_databases"]:
        findings.append(
            make_finding(
                "pg_restore.unmarked_database",
                item["name"],
                "warning" if item["kind"] == KIND_RESTORE else "info",
                "%s has the name of a pg_restore %s database of %s but no marker of this module: not touched, "
                "drop it by hand if nothing needs it"
                % (item["name"], "restore" if item["kind"] == KIND_RESTORE else "previous", database),
                {},
            )
        )
    for name in leftovers["partial_files"]:
        if clean:
            plan["remove_files"].append(name)
        findings.append(
            make_finding(
                "pg_restore.partial_file",
                name,
                "warning",
                "%s in %s is part of a safety dump of %s that a killed run did not finish (it is no backup); %s"
                % (
                    name,
                    directory,
                    database,
                    _action(check_mode, clean, "removed", "it would be removed", "state=cleaned removes it"),
                ),
                {"directory": directory},
            )
        )
    if not leftovers["files_checked"]:
        findings.append(
            make_finding(
                "pg_restore.partial_file",
                database,
                "info",
                "partial safety dumps were not looked for: give safety_dump_directory (or directory or backup)",
                {},
            )
        )
    if not findings:
        findings.append(
            make_finding(
                "pg_restore.leftovers", database, "ok", "no leftovers of killed pg_restore runs of %s" % database, {}
            )
        )
    return plan


# --- a run of pg_restore: its options, plan, choice of backup and report ----------------------

CHECK_RESTORE = "backup.restore"
CHECK_LEFTOVERS = "pg_restore.leftovers"


class RestoreError(Exception):
    """pg_restore stops; ``values`` are the return values known then (the result so far)."""

    def __init__(self, msg: str, **values: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.values = values


def read_options(params: dict[str, Any]) -> dict[str, Any]:
    """The options of a run, settled (database, pattern, timeout in seconds), or a RestoreError
    listing every bad one (``problems``) before anything is touched. What the argument spec
    states (backup or directory, one of them) it has checked already."""
    problems = check_connection_params(params)
    database = params["database"] or params["login_db"]
    if not database:
        problems.append("database (or login_db) is required: the live database to roll back")
    elif database == params["maintenance_db"]:
        problems.append(
            "database and maintenance_db are both %s: the live database cannot be renamed from a session connected to it"
            % database
        )
    if params["directory"] is not None:
        if not os.path.isdir(params["directory"]):
            problems.append("directory %s does not exist or is not a directory" % params["directory"])
        pattern = read_backup_files(params, "plain", problems)
    else:
        # Without a directory the pattern is unused (and not judged); the time zone still is.
        pattern = read_backup_files(dict(params, pattern=None), "plain", problems)
    timeout = None
    try:
        timeout = read_timeout(params["timeout"])
    except FindingError as exc:
        problems.append(str(exc))
    if params["safety_dump_directory"] is not None and not os.path.isdir(params["safety_dump_directory"]):
        problems.append(
            "safety_dump_directory %s does not exist or is not a directory" % params["safety_dump_directory"]
        )
    if problems:
        raise RestoreError("; ".join(problems), problems=problems)
    return dict(params, database=database, pattern=pattern.pattern if pattern else None, timeout=timeout)


def safety_directory(options: dict[str, Any]) -> Optional[str]:
    """Where safety dumps of the database go, known before any backup is verified."""
    if options["safety_dump_directory"]:
        return os.path.abspath(options["safety_dump_directory"])
    if options["directory"]:
        return os.path.abspath(options["directory"])
    if options["backup"]:
        return os.path.dirname(os.path.abspath(options["backup"]))
    return None


def new_result(options: dict[str, Any]) -> dict[str, Any]:
    """Every return value of a run, as it is before anything was done."""
    return {
        "changed": False,
        "state": options["state"],
        "database": options["database"],
        "backup": None,
        "verification": [],
        "rejected_backups": [],
        "restored_database": None,
        "previous_database": None,
        "previous_dropped": False,
        "safety_dump": None,
        "sessions": [],
        "terminated": [],
        "durations": {},
        "plan": [],
        "warnings_detail": [],
        "findings": [],
        "worst_severity": "ok",
        "leftovers": None,
        "reallowed": False,
        "dropped_databases": [],
        "removed_files": [],
    }


def plan_steps(
    database: str,
    backup: str,
    restored: str,
    before: str,
    safety_path: str,
    sessions_mode: str,
    drop_previous: bool,
    analyze: bool,
) -> list[str]:
    """The steps of a rollback, in order, with the names and files they use."""
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


def recovery_steps(database: str, plan: dict[str, Any], directory: Optional[str]) -> list[str]:
    """The steps of plan_recovery's ``plan``, as RV(plan) shows them."""
    steps = []
    if plan["reallow"]:
        steps.append("allow connections to %s again (blocked by a killed run)" % database)
    steps += ["drop database %s" % name for name in plan["drop_databases"]]
    steps += ["remove %s" % os.path.join(directory or "", name) for name in plan["remove_files"]]
    return steps


def describe_sessions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RV(sessions) from rows of pg_stat_activity (SESSIONS_SQL)."""
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


def sessions_text(sessions: list[dict[str, Any]]) -> str:
    return ", ".join(
        "pid %s (%s, %s from %s, %s)"
        % (s["pid"], s["user"], s["application"] or "no application_name", s["client"], s["state"])
        for s in sessions
    )


def failed_checks_text(verified: dict[str, Any]) -> str:
    return "; ".join("%s: %s" % (c["name"], c["detail"]) for c in verified["checks"] if c["status"] == "failed")


def choose_backup(
    candidates: list[str], verify: Callable[[str], dict[str, Any]], directory: str, pattern: str
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """(path, verification, rejected) of the newest of ``candidates`` (oldest first) that
    ``verify`` passes; the newer ones that failed are ``rejected`` with their failed checks.
    RestoreError (``rejected_backups`` with it) when none passes."""
    rejected: list[dict[str, Any]] = []
    for path in reversed(candidates):
        verified = verify(path)
        if verified["ok"]:
            return path, verified, rejected
        rejected.append({"path": path, "failed": [c for c in verified["checks"] if c["status"] == "failed"]})
    if not candidates:
        raise RestoreError("no backup in %s matches %s; nothing was changed" % (directory, pattern))
    raise RestoreError(
        "none of the %d backups in %s passed verification; nothing was changed" % (len(candidates), directory),
        rejected_backups=rejected,
    )


def session_refusal(
    database: str, connected: list[dict[str, Any]], sessions_mode: str, check_mode: bool
) -> Optional[str]:
    """What to say about the sessions ``connected`` to the live database, or None: with
    sessions=refuse, the failure of a real run, or the warning of check mode (whose plan still
    shows: a playbook in check mode has not stopped the application)."""
    if not connected or sessions_mode != "refuse":
        return None
    if check_mode:
        return "%d session(s) connected to %s; a real run would refuse them: %s" % (
            len(connected),
            database,
            sessions_text(connected),
        )
    return (
        "%d session(s) connected to %s; stop the application first or set sessions=terminate; nothing was changed: %s"
        % (
            len(connected),
            database,
            sessions_text(connected),
        )
    )


def step_failure(step: str, reason: str, database: str, cleanup: str, safety_dump: Optional[str]) -> str:
    """The message of a rollback that failed at ``step``, after the restore database was dealt
    with as ``cleanup`` says (empty when none was created)."""
    return "%s step failed: %s; %s is unchanged%s; the safety dump is %s" % (
        step,
        reason,
        database,
        cleanup,
        safety_dump,
    )


def cleanup_text(restored: str, database: str, created: bool, still_blocking: bool, drop_error: Optional[str]) -> str:
    """What became of the restore database ``restored`` after a failed step (``drop_error``:
    why dropping it failed, None when it was dropped or kept)."""
    if not created:
        return ""
    if still_blocking:
        return "; %s stays: it records that connections to %s are blocked, and the next run allows them again" % (
            restored,
            database,
        )
    if drop_error is not None:
        return "; dropping %s failed too (%s), drop it by hand" % (restored, drop_error)
    return "; %s was dropped" % restored


def failure_message(msg: str, result: dict[str, Any]) -> str:
    """``msg`` corrected when the run dealt with leftovers of killed runs before it failed."""
    if result["reallowed"] or result["dropped_databases"] or result["removed_files"]:
        return msg.replace(
            "nothing was changed",
            "nothing else was changed (only the leftovers of a killed run were dealt with, see findings)",
        )
    return msg


def outcome_finding(
    result: dict[str, Any], check_mode: bool, before: Optional[str] = None, drop_error: Optional[str] = None
) -> Finding:
    """``backup.restore`` for a rollback done (in check mode, planned): what was restored from
    which backup, where the previous data (``before``) and the safety dump are. A warning when
    settings were not carried over or dropping the previous database failed (``drop_error``)."""
    database = result["database"]
    details = {
        "backup": result["backup"],
        "previous_database": result["previous_database"],
        "safety_dump": result["safety_dump"],
        "durations": result["durations"],
        "warnings": list(result["warnings_detail"]),
    }
    if check_mode:
        return make_finding(
            CHECK_RESTORE, database, "ok", "would restore %s from %s" % (database, result["backup"]), details
        )
    if result["previous_dropped"]:
        previous = "the previous database %s was dropped" % before
    elif drop_error is not None:
        previous = "dropping the previous database %s failed (%s), drop it by hand" % (before, drop_error)
    else:
        previous = "the previous database is kept as %s" % result["previous_database"]
    summary = "restored %s from %s; %s; safety dump %s" % (
        database,
        result["backup"],
        previous,
        (result["safety_dump"] or {}).get("path"),
    )
    if result["warnings_detail"]:
        summary += "; not carried over: %s" % "; ".join(result["warnings_detail"])
    severity = "warning" if result["warnings_detail"] or drop_error is not None else "ok"
    return make_finding(CHECK_RESTORE, database, severity, summary, details)


def failed_result(params: dict[str, Any], error: RestoreError) -> dict[str, Any]:
    """What a failed run returns besides its message: the result so far and a critical finding
    (``backup.restore`` for a rollback, ``pg_restore.leftovers`` for a cleanup)."""
    database = params["database"] or params["login_db"]
    if params["state"] == STATE_CLEANED:
        check = CHECK_LEFTOVERS
        summary = "cleanup of the leftovers of killed pg_restore runs of %s failed: %s" % (database, error.msg)
    else:
        check = CHECK_RESTORE
        summary = "database rollback of %s failed and changed nothing, the live database is as it was: %s" % (
            database,
            error.msg,
        )
    finding = make_finding(check, database or "pg_restore", "critical", summary, {})
    findings = list(error.values.get("findings") or []) + [finding]
    return dict(error.values, findings=findings, worst_severity=worst_severity(findings))
