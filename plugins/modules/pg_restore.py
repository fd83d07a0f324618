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
  - stronghold.ops.attributes
  - stronghold.ops.backup_files
  - stronghold.ops.durations
  - stronghold.ops.findings
  - stronghold.ops.postgres
attributes:
  check_mode:
    details: >-
      Verifies the backup (read-only), lists the sessions and returns the plan with the names it would use; writes nothing.
      Sessions that O(sessions=refuse) would refuse give a warning instead of a failure. Leftovers of killed runs are
      reported with what would be done about them.
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
    required: false
  pattern:
    description:
      - File name pattern of the backups in O(directory), with C(%Y %m %d %H %M %S) for the time
        the dump started (in O(timezone)); everything else is literal text. At least C(%Y), C(%m)
        and C(%d).
      - Defaults to C(backup_%Y%m%d_%H%M%S.sql.gz), the runbook's name (pg_backup's default for
        plain dumps).
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
      - Stop the restore (and roll it back) after this long, a number of seconds or a duration
        such as V(2h), 1 second to 30 days. Unset means no limit.
    type: raw
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
  contains:
    name:
      description: The check (C(read), C(format), C(gzip), C(sha256), C(header), C(marker); C(toc), C(data_read) for custom dumps).
      type: str
      sample: gzip
    status:
      description: V(ok), V(warning), V(failed) or V(skipped).
      type: str
      sample: ok
    detail:
      description: What the check found.
      type: str
      sample: 1 member, 210334551 bytes
    duration:
      description: Seconds the check took.
      type: float
      sample: 0.8
  sample: [{name: gzip, status: ok, detail: "1 member, 210334551 bytes", duration: 0.8}]
rejected_backups:
  description: Newer backups of O(directory) that failed verification, with their failed checks.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The backup rejected.
      type: str
      sample: /var/backups/db/backup_20260128_020000.sql.gz
    failed:
      description: Its failed checks, with the keys of RV(verification).
      type: list
      elements: dict
      sample: [{name: marker, status: failed, detail: "...", duration: 0.1}]
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
restore:
  description: How the restore step went (C(duration), C(stderr_tail) of psql or pg_restore, C(format) restored).
  returned: when the restore step ran
  type: dict
  sample: {duration: 14.0, stderr_tail: "", format: gzip}
sessions:
  description: Sessions that were connected to the live database.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Server process id of the session.
      type: int
      sample: 4711
    user:
      description: The role it is logged in as.
      type: str
      sample: app
    application:
      description: Its C(application_name) (null when unset).
      type: str
      sample: gunicorn
    client:
      description: Its client address, C(local) for a Unix socket.
      type: str
      sample: 10.0.0.5
    state:
      description: Its state in C(pg_stat_activity) (C(idle), C(active), ...).
      type: str
      sample: idle
    since:
      description: When it connected (ISO 8601).
      type: str
      sample: "2026-01-27T10:01:02+00:00"
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
    - With O(state=restored), then C(backup.restore), the outcome of the rollback - V(ok) with the backup restored, the
      previous database and the safety dump (in check mode, what would be restored); V(warning) when settings or
      privileges were not carried over or the previous database could not be dropped.
    - "When the module fails: a V(critical) finding with the failure, C(backup.restore) (summary: the rollback failed and
      the live database is as it was) or, with O(state=cleaned), C(pg_restore.leftovers)."
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
      description:
        - Evidence (C(stamp), C(step), C(complete) for a restore database); for C(backup.restore) C(backup),
          C(previous_database), C(safety_dump), C(durations) and C(warnings) (as RV(warnings_detail)).
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
      description: Restore databases marked by this module.
      type: list
      elements: dict
      contains:
        name:
          description: The database.
          type: str
          sample: financial_stronghold_restore_20260127_101500
        stamp:
          description: The time of its run, C(YYYYmmdd_HHMMSS) in UTC.
          type: str
          sample: 20260127_101500
        step:
          description: How far its run got (V(created), V(restoring), V(restored) or V(blocking)).
          type: str
          sample: restoring
        complete:
          description: Whether the restore into it finished (it is never swapped in either way).
          type: bool
          sample: false
      sample: [{name: financial_stronghold_restore_20260127_101500, stamp: 20260127_101500, step: restoring, complete: false}]
    previous_databases:
      description: Previous databases kept by successful runs.
      type: list
      elements: dict
      contains:
        name:
          description: The database.
          type: str
          sample: financial_stronghold_before_20260120_093000
        stamp:
          description: The time of the rollback that kept it.
          type: str
          sample: 20260120_093000
      sample: [{name: financial_stronghold_before_20260120_093000, stamp: 20260120_093000}]
    unmarked_databases:
      description: Databases with this module's names but not its marker; never touched.
      type: list
      elements: dict
      contains:
        name:
          description: The database.
          type: str
          sample: financial_stronghold_restore_20200101_000000
        kind:
          description: Which of this module's names it has, V(restore) or V(previous).
          type: str
          sample: restore
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    BACKUP_FILES_SPEC,
    argument_spec,
    duration_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import postgres_argument_spec, psycopg_missing
from ansible_collections.stronghold.ops.plugins.module_utils._restore import (
    STATE_CLEANED,
    STATE_RESTORED,
    RestoreError,
    failed_result,
    read_options,
)
from ansible_collections.stronghold.ops.plugins.module_utils._restore_db import Restore


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            postgres_argument_spec(),
            # Here the directory is one of two ways to name the backup (required_if below).
            dict(BACKUP_FILES_SPEC, directory={"type": "path"}),
            own={
                "database": {"type": "str"},
                "state": {"type": "str", "choices": [STATE_RESTORED, STATE_CLEANED], "default": STATE_RESTORED},
                "backup": {"type": "path"},
                "sessions": {"type": "str", "choices": ["refuse", "terminate"], "default": "refuse"},
                "drop_previous": {"type": "bool", "default": False},
                "safety_dump_directory": {"type": "path"},
                "maintenance_db": {"type": "str", "default": "postgres"},
                "analyze": {"type": "bool", "default": True},
                "timeout": duration_spec(),
                "pg_bin_dir": {"type": "path"},
            },
        ),
        supports_check_mode=True,
        mutually_exclusive=[["backup", "directory"]],
        required_if=[["state", STATE_RESTORED, ["backup", "directory"], True]],
    )
    try:
        options = read_options(module.params)
        missing = psycopg_missing()
        if missing:
            raise RestoreError(missing["msg"], exception=missing["exception"])
        result = Restore(module, options).run()
    except RestoreError as exc:
        module.fail_json(msg=exc.msg, **failed_result(module.params, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
