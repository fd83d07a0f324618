# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""pg_backup's decisions: which options are bad, which backups retention deletes, and the
findings of a run (pure functions over the options and what the module observed).

The module observes (the directory, the server), asks these functions, acts through
_pgdump.dump_to_file and exits once; every failure is a BackupError whose message and
return values main() hands to fail_json.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from ansible.module_utils.common.text.formatters import bytes_to_human

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    read_backup_files,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    Finding,
    FindingError,
    make_finding,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import read_timeout
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import check_connection_params

CHECK_TAKE = "backup.take"
CHECK_RETENTION = "backup.retention"
# pg_dump options that would send the dump elsewhere or change its format behind the module.
OUTPUT_OPTIONS = ("-f", "--file", "-F", "--format", "-Z", "--compress", "-d", "--dbname")


class BackupError(Exception):
    """pg_backup cannot take its backup; ``values`` are return values known when it stopped."""

    def __init__(self, msg: str, **values: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.values = values


def refused_dump_option(option: str) -> Optional[str]:
    """The output option of OUTPUT_OPTIONS that ``option`` is (or starts with), or None."""
    for refused in OUTPUT_OPTIONS:
        if (
            option == refused
            or (refused.startswith("--") and option.startswith(refused + "="))
            or (len(refused) == 2 and option.startswith(refused) and not option.startswith("--"))
        ):
            return refused
    return None


def retention_plan(backups: list[dict[str, Any]], keep: Optional[int], new_path: str) -> tuple[list[str], list[str]]:
    """(to delete, to keep) from the backups listed oldest first: the newest ``keep`` stay,
    counting ``new_path`` (which is always kept, whether it is listed yet or not)."""
    others = [b["path"] for b in backups if b["path"] != new_path]
    if keep is None:
        return [], others + [new_path]
    room = keep - 1
    kept_others = others[len(others) - room :] if room > 0 else []
    delete = others[: len(others) - len(kept_others)]
    return delete, kept_others + [new_path]


def read_options(params: dict[str, Any]) -> dict[str, Any]:
    """The options of a run, settled (database, pattern and timeout), or a BackupError listing
    every bad one (``problems``) before anything is touched."""
    problems = check_connection_params(params)
    database = params["database"] or params["login_db"]
    if not database:
        problems.append("database (or login_db) is required: the database to dump")
    directory = params["directory"]
    if not os.path.isdir(directory):
        problems.append("directory %s does not exist or is not a directory" % directory)
    elif not os.access(directory, os.W_OK | os.X_OK):
        problems.append("directory %s is not writable" % directory)
    if params["keep"] is not None and params["keep"] < 1:
        problems.append("keep must be at least 1 (the backup just written is always kept), got %d" % params["keep"])
    if not 0 <= params["compression_level"] <= 9:
        problems.append("compression_level must be between 0 and 9, got %d" % params["compression_level"])
    timeout = None
    try:
        timeout = read_timeout(params["timeout"])
    except FindingError as exc:
        problems.append(str(exc))
    for option in params["dump_options"]:
        refused = refused_dump_option(option)
        if refused:
            problems.append(
                "dump_options may not contain %s (%r): the module sets the output file, format and compression"
                % (refused, option)
            )
    pattern = read_backup_files(params, params["format"], problems)
    if pattern is not None and pattern.pattern.endswith(".sha256"):
        problems.append("pattern %r ends with .sha256, the extension of the sidecars" % pattern.pattern)
    if problems:
        raise BackupError("; ".join(problems), problems=problems)
    return dict(params, database=database, directory=os.path.abspath(directory), pattern=pattern, timeout=timeout)


def take_findings(
    database: str, result: dict[str, Any], check_mode: bool, keep: Optional[int], problems: list[str]
) -> list[Finding]:
    """The findings of a backup taken (or planned, in check mode): ``backup.take`` with the
    file, and ``backup.retention`` when ``keep`` is set (a warning when ``problems`` kept
    retention from deleting what it should)."""
    path = result["path"]
    details = {
        "path": path,
        "size": result["size"],
        "checksum": result["checksum"],
        "duration": result["duration"],
        "deleted": result["deleted"],
    }
    if check_mode:
        summary = "would write a backup of %s to %s" % (database, path)
    else:
        summary = "backup of %s written: %s (%s, sha256 %s)" % (
            database,
            path,
            bytes_to_human(result["size"] or 0),
            result["checksum"],
        )
    findings = [make_finding(CHECK_TAKE, database, "ok", summary, details)]
    if keep is None:
        return findings
    deleted = [os.path.basename(old) for old in result["deleted"]]
    verb = "would delete" if check_mode else "deleted"
    summary = "kept the newest %d backup(s) of %s, %s %s" % (
        keep,
        os.path.dirname(path),
        verb,
        "%d older: %s" % (len(deleted), ", ".join(deleted)) if deleted else "none",
    )
    severity = "ok"
    if problems:
        severity = "warning"
        summary = "the backup was written, but retention did not finish: %s" % "; ".join(problems)
    details = {"keep": keep, "deleted": result["deleted"], "kept": result["kept"], "problems": problems}
    findings.append(make_finding(CHECK_RETENTION, os.path.dirname(path), severity, summary, details))
    return findings


def failed_result(database: Optional[str], directory: Optional[str], error: BackupError) -> dict[str, Any]:
    """What a failed run returns besides its message: the error's values and a critical ``backup.take``."""
    finding = make_finding(
        CHECK_TAKE,
        database or directory or "pg_backup",
        "critical",
        "backup of %s failed, no backup was written: %s" % (database or "(no database)", error.msg),
        {"path": None},
    )
    return dict(error.values, findings=[finding], worst_severity=worst_severity([finding]))
