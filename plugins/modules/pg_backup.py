#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_backup
short_description: Take a PostgreSQL backup with pg_dump that is complete or absent, never half written
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's monthly C(./scripts/backup_database.sh) (C(pg_dump | gzip) without
    C(pipefail)). Here a dump that fails or is killed midway never leaves a file that looks
    like a backup.
  - pg_dump writes plain SQL, gzipped by the module as it streams (the default), or its custom
    format (O(format=custom)) into a hidden temporary file in O(directory). Only when pg_dump
    exited 0 (and a plain dump ends with pg_dump's completion marker) is the file fsynced, its
    C(.sha256) sidecar written (C(sha256sum -c) format), and the file given its final name from
    O(pattern) (never over an existing file), mode C(0600), and the directory fsynced.
  - A full disk, a timeout or any other error removes the temporary file and fails with the
    reason; older backups are never touched then.
  - With O(keep), after a successful backup only the newest O(keep) backups (by the time in
    their names) stay; older ones are deleted with their sidecars. The backup just written is
    never deleted, nor any file whose name does not match O(pattern).
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.backup_files
  - stronghold.ops.durations
  - stronghold.ops.findings
  - stronghold.ops.postgres
attributes:
  check_mode:
    details: Connects to the database to prove it is reachable, and returns the file it would write and the backups it would delete.
options:
  database:
    description:
      - The database to dump. Defaults to O(login_db).
    type: str
  format:
    description:
      - V(plain) is SQL compressed with gzip (C(.sql.gz), restorable with C(gunzip | psql)),
        V(custom) is pg_dump's custom archive (C(pg_dump -Fc), restored with C(pg_restore)).
    type: str
    choices: [plain, custom]
    default: plain
  keep:
    description:
      - Keep the newest O(keep) backups matching O(pattern) (the new one included) and delete
        the older ones with their C(.sha256) sidecars. At least 1. Unset keeps everything.
    type: int
  compression_level:
    description: gzip level for V(plain), pg_dump's C(--compress) level for V(custom); 0 to 9.
    type: int
    default: 6
  dump_options:
    description:
      - Further pg_dump options, one per element, such as C(--exclude-table-data=audit_log)
        or C(--no-owner). Options that set the output (C(-f), C(-F), C(-Z) and their long forms)
        are refused.
    type: list
    elements: str
    default: []
  pg_bin_dir:
    description:
      - Directory holding pg_dump (for example C(/usr/lib/postgresql/16/bin) when the server is
        newer than the default client). Default is pg_dump on PATH.
    type: path
  timeout:
    description:
      - Stop pg_dump after this long (no backup is written then), a number of seconds or a duration
        such as V(30m), 1 second to 30 days. Unset means no limit.
    type: raw
notes:
  - pg_dump must be at least the major version of the server.
  - The sidecar is written before the backup gets its final name, so a backup never appears
    without its checksum; a crash between the two leaves a sidecar without a backup, which no
    pattern matches.
seealso:
  - module: stronghold.ops.backup_verify
  - module: stronghold.ops.pg_restore
"""

EXAMPLES = r"""
- name: Monthly full backup, keep the newest 12
  stronghold.ops.pg_backup:
    login_host: 127.0.0.1
    login_password: "{{ vault_postgres_password }}"
    database: financial_stronghold
    directory: /var/backups/financial-stronghold
    keep: 12

- name: Custom-format backup without the audit data
  stronghold.ops.pg_backup:
    login_unix_socket: /run/postgresql
    database: financial_stronghold
    directory: /var/backups/financial-stronghold
    format: custom
    dump_options:
      - --exclude-table-data=audit_log
  register: backup

- name: Show where it went
  ansible.builtin.debug:
    msg: "{{ backup.path }} ({{ backup.size }} bytes, sha256 {{ backup.checksum }})"
"""

RETURN = r"""
path:
  description: The backup written (in check mode, the one that would be written).
  returned: always
  type: str
  sample: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz
size:
  description: Size of the backup file in bytes (null in check mode).
  returned: always
  type: int
  sample: 48213377
uncompressed_size:
  description: Bytes of SQL pg_dump wrote, for V(plain) (null otherwise and in check mode).
  returned: always
  type: int
  sample: 210334551
checksum:
  description: SHA-256 of the backup file, as in its sidecar (null in check mode).
  returned: always
  type: str
  sample: 5d41402abc4b2a76b9719d911017c592ae5a8a7d1d3ac6d27f1f9d2ec4f1a1b2
sidecar:
  description: The C(.sha256) file next to the backup.
  returned: always
  type: str
  sample: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz.sha256
format:
  description: V(plain) (gzipped SQL) or V(custom).
  returned: always
  type: str
  sample: plain
duration:
  description: Seconds the dump took, from starting pg_dump to the fsync of the directory.
  returned: always
  type: float
  sample: 12.408
deleted:
  description: Backups deleted by retention (in check mode, those that would be), oldest first; their sidecars went with them.
  returned: always
  type: list
  elements: str
  sample: [/var/backups/financial-stronghold/backup_20250127_020000.sql.gz]
kept:
  description: Backups matching the pattern that remain, oldest first, the new one included.
  returned: always
  type: list
  elements: str
  sample: [/var/backups/financial-stronghold/backup_20260127_020000.sql.gz]
findings:
  description:
    - C(backup.take) for the backup written (V(ok), with its path, size, checksum and duration; in check mode the file
      it would write) or the failure (V(critical), also returned when the module fails).
    - With O(keep), C(backup.retention) for what retention deleted (V(ok)), or V(warning) when it could not list the
      directory or delete an old backup.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: C(backup.take) or C(backup.retention).
      type: str
      sample: backup.take
    target:
      description: The database (C(backup.take)) or the backup directory (C(backup.retention)).
      type: str
      sample: financial_stronghold
    severity:
      description: V(ok), V(warning) or V(critical).
      type: str
      sample: ok
    summary:
      description: One line for the on-call person.
      type: str
      sample: "backup of financial_stronghold written: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz
        (45.98 MB, sha256 5d41402abc4b2a76b9719d911017c592ae5a8a7d1d3ac6d27f1f9d2ec4f1a1b2)"
    details:
      description:
        - C(backup.take) has C(path), C(size), C(checksum), C(duration) and C(deleted) (as the return values of the same
          names); C(backup.retention) has C(keep), C(deleted), C(kept) and C(problems).
      type: dict
      sample: {path: /var/backups/financial-stronghold/backup_20260127_020000.sql.gz, size: 48213377, checksum: 5d41...,
               duration: 12.408, deleted: []}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import datetime
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import list_backups, resolve_timezone
from ansible_collections.stronghold.ops.plugins.module_utils._findings import worst_severity
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    BACKUP_FILES_SPEC,
    argument_spec,
    duration_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pgbackup import (
    BackupError,
    failed_result,
    read_options,
    retention_plan,
    take_findings,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import DumpError, dump_to_file, sidecar_path
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    connect,
    postgres_argument_spec,
    psycopg_missing,
)


def now_in(tz: str) -> datetime.datetime:
    zone = resolve_timezone(tz)
    if zone is None:
        return datetime.datetime.now().astimezone()
    return datetime.datetime.now(zone)


def unlink(path: str) -> None:
    """Delete ``path``, which may be gone already."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def apply_retention(options: dict[str, Any], path: str) -> tuple[list[str], list[str], list[str]]:
    """(deleted, kept, problems) of retention after ``path`` was written; a problem never fails the run."""
    directory = options["directory"]
    try:
        backups = list_backups(directory, options["pattern"], options["timezone"])
    except OSError as exc:
        return [], [path], ["cannot list %s: %s" % (directory, exc.strerror or exc)]
    delete, kept = retention_plan(backups, options["keep"], path)
    deleted: list[str] = []
    problems: list[str] = []
    for old in delete:
        try:
            unlink(old)
            deleted.append(old)
            unlink(sidecar_path(old))
        except OSError as exc:
            problems.append("could not delete %s: %s" % (exc.filename or old, exc.strerror or exc))
            if old not in deleted:
                kept.insert(0, old)
    return deleted, kept, problems


def take(module: AnsibleModule, options: dict[str, Any]) -> dict[str, Any]:
    """Take the backup (in check mode, plan it) and apply retention; the module's result."""
    directory, pattern = options["directory"], options["pattern"]
    # Reachable and allowed to connect, before any file is created.
    try:
        connect(options, dbname=options["database"], application_name="stronghold.ops.pg_backup").close()
    except PostgresConnectError as exc:
        raise BackupError("%s; nothing was written" % exc) from exc
    name = pattern.format(now_in(options["timezone"]))
    if pattern.match(name) is None:
        raise BackupError("pattern %r gives the name %r, which it does not match back" % (pattern.pattern, name))
    path = os.path.join(directory, name)
    if os.path.lexists(path):
        raise BackupError(
            "%s already exists (a backup was taken in the same second?); a backup is never overwritten" % path
        )
    try:
        existing = list_backups(directory, pattern, options["timezone"])
    except OSError as exc:
        raise BackupError("cannot list %s: %s" % (directory, exc.strerror or exc)) from exc
    result: dict[str, Any] = {
        "changed": True,
        "path": path,
        "sidecar": sidecar_path(path),
        "format": options["format"],
        "size": None,
        "uncompressed_size": None,
        "checksum": None,
        "duration": None,
    }
    problems: list[str] = []
    if module.check_mode:
        result["deleted"], result["kept"] = retention_plan(existing, options["keep"], path)
    else:
        try:
            written = dump_to_file(
                module,
                options,
                options["database"],
                directory,
                name,
                fmt=options["format"],
                compression_level=options["compression_level"],
                dump_options=options["dump_options"],
                timeout=options["timeout"],
            )
        except DumpError as exc:
            raise BackupError(str(exc), path=None, deleted=[]) from exc
        result.update(
            size=written["size"],
            uncompressed_size=written["uncompressed_size"],
            checksum=written["sha256"],
            duration=written["duration"],
        )
        result["deleted"], result["kept"], problems = apply_retention(options, path)
        for problem in problems:
            module.warn("retention: %s" % problem)
    findings = take_findings(options["database"], result, module.check_mode, options["keep"], problems)
    return dict(result, findings=findings, worst_severity=worst_severity(findings))


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            postgres_argument_spec(),
            BACKUP_FILES_SPEC,
            own={
                "database": {"type": "str"},
                "format": {"type": "str", "choices": ["plain", "custom"], "default": "plain"},
                "keep": {"type": "int"},
                "compression_level": {"type": "int", "default": 6},
                "dump_options": {"type": "list", "elements": "str", "default": []},
                "pg_bin_dir": {"type": "path"},
                "timeout": duration_spec(),
            },
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        options = read_options(params)
        missing = psycopg_missing()
        if missing:
            raise BackupError(missing["msg"], exception=missing["exception"])
        result = take(module, options)
    except BackupError as exc:
        database = params["database"] or params["login_db"]
        module.fail_json(msg=exc.msg, **failed_result(database, params["directory"], exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
