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
  - ansible.builtin.action_common_attributes
  - stronghold.ops.postgres
attributes:
  check_mode:
    support: full
    details: Connects to the database to prove it is reachable, and returns the file it would write and the backups it would delete.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  database:
    description:
      - The database to dump. Defaults to O(login_db).
    type: str
  directory:
    description:
      - Directory of the backups. It must exist; the module never creates it, so that a typo
        does not scatter backups.
    type: path
    required: true
  format:
    description:
      - V(plain) is SQL compressed with gzip (C(.sql.gz), restorable with C(gunzip | psql)),
        V(custom) is pg_dump's custom archive (C(pg_dump -Fc), restored with C(pg_restore)).
    type: str
    choices: [plain, custom]
    default: plain
  pattern:
    description:
      - File name of a backup, with C(%Y %m %d %H %M %S) for the time the dump started (in
        O(timezone)); everything else is literal text. At least C(%Y), C(%m) and C(%d).
      - Defaults to C(backup_%Y%m%d_%H%M%S.sql.gz) (the runbook's name) for V(plain) and
        C(backup_%Y%m%d_%H%M%S.dump) for V(custom).
      - Retention (O(keep)) considers only files matching this pattern.
    type: str
  timezone:
    description:
      - Time zone of the time in the file name. V(UTC), V(local) (the host's zone) or an IANA
        name such as V(Europe/Paris) (needs Python 3.9 on the target).
    type: str
    default: UTC
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
      - Stop pg_dump after this many seconds (no backup is written then), 1 to 2592000 (30 days).
        Unset means no limit.
    type: int
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
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    compile_pattern,
    list_backups,
    resolve_timezone,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import (
    DumpError,
    dump_to_file,
    sidecar_path,
    timeout_problem,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    check_connection_params,
    connect,
    ensure_psycopg,
    postgres_argument_spec,
)

DEFAULT_PATTERNS = {"plain": "backup_%Y%m%d_%H%M%S.sql.gz", "custom": "backup_%Y%m%d_%H%M%S.dump"}
# pg_dump options that would send the dump elsewhere or change its format behind the module.
OUTPUT_OPTIONS = ("-f", "--file", "-F", "--format", "-Z", "--compress", "-d", "--dbname")


def refused_dump_option(option):
    for refused in OUTPUT_OPTIONS:
        if (
            option == refused
            or (refused.startswith("--") and option.startswith(refused + "="))
            or (len(refused) == 2 and option.startswith(refused) and not option.startswith("--"))
        ):
            return refused
    return None


def retention_plan(backups, keep, new_path):
    """(to delete, to keep) from the backups listed oldest first: the newest ``keep`` stay,
    counting ``new_path`` (which is always kept, whether it is listed yet or not)."""
    others = [b["path"] for b in backups if b["path"] != new_path]
    if keep is None:
        return [], others + [new_path]
    room = keep - 1
    kept_others = others[len(others) - room :] if room > 0 else []
    delete = others[: len(others) - len(kept_others)]
    return delete, kept_others + [new_path]


def validate(module):
    """Messages for every bad option, before anything is touched."""
    params = module.params
    problems = check_connection_params(params)
    if not params["database"]:
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
    problem = timeout_problem(params["timeout"])
    if problem:
        problems.append(problem)
    for option in params["dump_options"]:
        refused = refused_dump_option(option)
        if refused:
            problems.append(
                "dump_options may not contain %s (%r): the module sets the output file, format and compression"
                % (refused, option)
            )
    pattern = None
    try:
        pattern = compile_pattern(params["pattern"])
    except ValueError as exc:
        problems.append(str(exc))
    try:
        resolve_timezone(params["timezone"])
    except ValueError as exc:
        problems.append(str(exc))
    if pattern is not None and pattern.pattern.endswith(".sha256"):
        problems.append("pattern %r ends with .sha256, the extension of the sidecars" % pattern.pattern)
    return problems, pattern


def now_in(tz):
    zone = resolve_timezone(tz)
    if zone is None:
        return datetime.datetime.now().astimezone()
    return datetime.datetime.now(zone)


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        {
            "database": {"type": "str"},
            "directory": {"type": "path", "required": True},
            "format": {"type": "str", "choices": ["plain", "custom"], "default": "plain"},
            "pattern": {"type": "str"},
            "timezone": {"type": "str", "default": "UTC"},
            "keep": {"type": "int"},
            "compression_level": {"type": "int", "default": 6},
            "dump_options": {"type": "list", "elements": "str", "default": []},
            "pg_bin_dir": {"type": "path"},
            "timeout": {"type": "int"},
        }
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    params["database"] = params["database"] or params["login_db"]
    params["pattern"] = params["pattern"] or DEFAULT_PATTERNS[params["format"]]
    problems, pattern = validate(module)
    if problems:
        module.fail_json(msg="; ".join(problems), problems=problems)
    ensure_psycopg(module)
    directory = os.path.abspath(params["directory"])

    # Reachable and allowed to connect, before any file is created.
    try:
        conn = connect(params, dbname=params["database"], application_name="stronghold.ops.pg_backup")
        conn.close()
    except PostgresConnectError as exc:
        module.fail_json(msg="%s; nothing was written" % exc)

    started_at = now_in(params["timezone"])
    name = pattern.format(started_at)
    if pattern.match(name) is None:
        module.fail_json(msg="pattern %r gives the name %r, which it does not match back" % (pattern.pattern, name))
    path = os.path.join(directory, name)
    if os.path.lexists(path):
        module.fail_json(
            msg="%s already exists (a backup was taken in the same second?); a backup is never overwritten" % path
        )
    try:
        existing = list_backups(directory, pattern, params["timezone"])
    except OSError as exc:
        module.fail_json(msg="cannot list %s: %s" % (directory, exc.strerror or exc))

    result = {
        "changed": True,
        "path": path,
        "sidecar": sidecar_path(path),
        "format": params["format"],
        "size": None,
        "uncompressed_size": None,
        "checksum": None,
        "duration": None,
    }
    if module.check_mode:
        delete, kept = retention_plan(existing, params["keep"], path)
        result.update(deleted=delete, kept=kept)
        module.exit_json(**result)

    try:
        written = dump_to_file(
            module,
            params,
            params["database"],
            directory,
            name,
            fmt=params["format"],
            compression_level=params["compression_level"],
            dump_options=params["dump_options"],
            timeout=params["timeout"],
        )
    except DumpError as exc:
        module.fail_json(msg=str(exc), path=None, deleted=[])
    result.update(
        size=written["size"],
        uncompressed_size=written["uncompressed_size"],
        checksum=written["sha256"],
        duration=written["duration"],
    )

    deleted = []
    try:
        backups = list_backups(directory, pattern, params["timezone"])
    except OSError as exc:
        module.warn("the backup was written, but retention could not list %s: %s" % (directory, exc.strerror or exc))
        backups = None
        result["kept"] = [path]
    if backups is not None:
        delete, kept = retention_plan(backups, params["keep"], path)
        for old in delete:
            try:
                os.unlink(old)
            except FileNotFoundError:
                pass
            except OSError as exc:
                module.warn("retention could not delete %s: %s" % (old, exc.strerror or exc))
                kept.insert(0, old)
                continue
            deleted.append(old)
            try:
                os.unlink(sidecar_path(old))
            except FileNotFoundError:
                pass
            except OSError as exc:
                module.warn("retention could not delete %s: %s" % (sidecar_path(old), exc.strerror or exc))
        result["kept"] = kept
    result["deleted"] = deleted
    module.exit_json(**result)


if __name__ == "__main__":
    main()
