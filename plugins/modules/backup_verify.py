#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_verify
short_description: Check that PostgreSQL dump backups are fresh, complete, intact and restorable
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's "Verify Backup Status" (C(ls -la /backups/... | tail)) with checks of
    what is inside the backups, in layers chosen by O(level).
  - Selection. The backups of O(directory) whose names match O(pattern), or the O(files) given.
    The time of a backup is read from its name (O(pattern), O(timezone)), never from its
    modification time. A file modified less than O(settle) ago is still being written; it is
    skipped and reported in RV(settling). O(which) chooses the backups whose contents are
    checked.
  - Freshness and retention, over every backup found. The newest must be younger than
    O(max_age) (the recovery point objective); at least O(min_count) must exist; two
    consecutive backups further apart than O(gap_factor) times O(expected_interval) are a gap.
  - Backups dated in the future. A backup whose name is more than 5 minutes ahead of the
    host's clock (read in O(timezone)) is a C(future) warning of its own (a clock or time zone
    problem) and is left out of freshness, the count of O(min_count), the gaps, the choice of
    the newest (O(which=latest) and O(which=last_n)) and the size median; O(which=all) still
    checks its contents. Up to 5 minutes ahead is clock skew and counts as current. When every
    dated backup is in the future, the C(freshness) and C(count) checks fail (no backup shows
    the last recovery point), with or without O(max_age).
  - Size. A checked backup smaller than O(min_size) fails; one smaller than the median of the
    O(shrink_window) backups dated before it by more than O(max_shrink) percent fails.
  - Integrity by O(level), each level including the ones before. V(stat) - a readable,
    non-empty regular file. V(header) - the magic bytes, the start of the dump and the gzip
    trailer. V(stream) - the file read once with bounded memory, checking in that single pass
    the CRC and length of every gzip member (several members are valid; a cut file is
    detected), the SHA-256 against the C(.sha256) sidecar when there is one, and for a plain
    SQL dump the completion marker where pg_dump writes it (see the next paragraph). A gzip
    error names the member, its compressed offset, what failed (bad header, corrupt deflate
    data and the compressed byte where it fails, CRC32 mismatch, length (ISIZE) mismatch,
    truncation inside a header, the deflate data or the trailer, trailing garbage) and the
    uncompressed bytes inflated, the same with zlib and ISA-L. A custom-format dump (C(pg_dump -Fc)) also goes
    through C(pg_restore --list) (its table of contents) and a full read with
    C(pg_restore -f /dev/null), since C(--list) alone passes a dump cut in half.
    V(restore) - the newest checked backup is restored into a new scratch database
    (C(ON_ERROR_STOP), one transaction), the O(restore_checks) queries run on it, the restore
    time is reported, and the scratch database is dropped, also when something failed.
  - The completion marker of a plain dump. pg_dump ends a complete dump with the line
    C(-- PostgreSQL database dump complete), then C(--), blank lines and, since PostgreSQL
    15.14, 16.10 and 17.6, C(\unrestrict KEY). The same text can be data, so the script is
    read as psql reads it, in the same single pass and constant memory - quoted strings
    (C('...'), C(E'...'), following C(SET standard_conforming_strings)), quoted identifiers,
    dollar quotes, C(--) and C(/* */) comments, statements ending at a C(;) outside
    parentheses, psql backslash commands, and the rows of each C(COPY ... FROM stdin) block,
    which ends at a line that is exactly C(\.). The dump is complete only when the marker is a
    whole line (LF or CRLF line end, nothing before or after it on the line) outside any
    statement, string, comment and COPY block, and only blank lines, C(--) comment lines and
    C(\unrestrict) lines follow it. The marker text inside COPY rows, string literals
    (C(pg_dump --inserts)) or function bodies never counts; a file that ends inside a COPY
    block, a string or a statement, or where SQL, a C(/* */) comment or another psql command
    follows the marker, fails the C(marker) check saying where. A file holding several
    complete dumps one after the other (C(pg_dumpall)) is complete when the last one is.
  - Every check runs and is reported with its status (V(ok), V(failed), V(warning) or
    V(skipped)), detail and duration; nothing stops at the first failure. A failed check is a
    critical finding, a warning a warning finding.
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.backup_files
  - stronghold.ops.fail_on
  - stronghold.ops.durations
  - stronghold.ops.postgres
  - stronghold.ops.findings
attributes:
  check_mode:
    details:
      - Every level but V(restore) only reads files and runs in check mode. The restore test is
        skipped with a note (a C(skipped) check and an info finding).
options:
  directory:
    description:
      - Directory holding the backups, such as C(/var/backups/financial-stronghold). A missing
        or unreadable directory fails the task.
      - One of O(directory) and O(files) is required.
    type: path
    required: false
  files:
    description:
      - Explicit backup files instead of a directory. Their times are still read from their
        names with O(pattern); a file whose name does not match has no time (failed C(name)
        check) and does not count for freshness. A missing file is a failed check.
    type: list
    elements: path
  settle:
    description:
      - A file modified less than this long ago (such as V(2m), or a number of seconds) is
        considered still being written. It is skipped by every check and listed in
        RV(settling). V(0) disables this.
    type: raw
    default: 2m
  which:
    description:
      - Backups whose contents (size and integrity) are checked. V(latest) - the newest.
        V(all) - every one found. V(last_n) - the newest O(count). The newest are chosen among
        the backups not dated in the future.
    type: str
    choices: [latest, all, last_n]
    default: latest
  count:
    description: With O(which=last_n), how many of the newest backups are checked (at least 1).
    type: int
    default: 1
  max_age:
    description:
      - Longest time since the newest backup (by its name), such as V(26h) for a daily backup;
        older fails the C(freshness) check. Unset, the age is reported but not judged.
    type: raw
  workers:
    description:
      - How many of the checked backups (O(which=all) or O(which=last_n)) are read at the same
        time, each by a worker process forked from the module (about 20 MiB each, most of it
        shared with the module). V(1) reads them one after another in the module.
      - A worker that fails or dies makes a failed C(read) check of the backup it was reading;
        the others are still read. The workers end with the module, also when it is
        interrupted or killed.
      - Unset, one per CPU the module may use (its CPU affinity, and the cgroup's C(cpu.max)
        quota when there is one), never more than the backups checked.
      - From 1 to 64. The results are the same whatever the number - each backup's checks and
        findings, in the same order.
    type: int
    version_added: 0.2.0
  min_count:
    description:
      - Fewest backups that must exist (retention); fewer fails the C(count) check. Backups
        dated in the future are not counted.
    type: int
  expected_interval:
    description:
      - Time between two backups, such as V(1d). With it, the C(gaps) check reports (as a
        warning) every pair of consecutive backups more than O(gap_factor) times this apart.
    type: raw
  gap_factor:
    description: How many expected intervals apart two backups must be to count as a gap (a finite number, at least 1).
    type: float
    default: 1.5
  min_size:
    description: Smallest acceptable size of a checked backup on disk, such as V(1M).
    type: str
  max_shrink:
    description:
      - Largest acceptable shrink, in percent, of a checked backup compared with the median
        size of the O(shrink_window) backups before it. Unset, the comparison is reported only.
    type: float
  shrink_window:
    description: How many backups dated before the checked one the median of O(max_shrink) is taken over.
    type: int
    default: 7
  level:
    description:
      - How deep the integrity checks go; each level includes the previous ones. See the
        description.
    type: str
    choices: [stat, header, stream, restore]
    default: stream
  format:
    description:
      - Format of the dumps. V(auto) recognises it from the first bytes; V(plain) (SQL, gzipped
        or not) and V(custom) (C(pg_dump -Fc)) fail the C(format) check of a file of another
        format.
      - It also chooses the default O(pattern) - C(backup_%Y%m%d_%H%M%S.dump) for V(custom),
        C(backup_%Y%m%d_%H%M%S.sql.gz) for V(plain) and V(auto) - the names
        P(stronghold.ops.pg_backup#module) gives its dumps.
    type: str
    choices: [auto, plain, custom]
    default: auto
  sidecar:
    description:
      - Compare the SHA-256 of each checked file with its C(<file>.sha256) sidecar
        (C(sha256sum) format) when the sidecar exists (level V(stream) and above).
    type: bool
    default: true
  require_sidecar:
    description: A missing sidecar fails the C(sha256) check instead of skipping it.
    type: bool
    default: false
  pg_bin_dir:
    description:
      - Directory of C(pg_restore) and C(psql) (such as C(/usr/lib/postgresql/15/bin)). Unset,
        C(PATH) is searched, then the newest C(/usr/lib/postgresql/*/bin).
    type: path
  timeout:
    description:
      - Longest run of each C(pg_restore) check and of the restore test, such as V(30m) or a
        number of seconds. Unset, no limit.
    type: raw
  scratch_db:
    description:
      - Name of the database the restore test creates. It must not exist (the module never
        restores into, nor drops, a database it did not create). Unset, a unique name
        C(backup_verify_<UTC time>_<pid>) is used.
    type: str
  restore_checks:
    description:
      - Sanity queries run on the restored scratch database (level V(restore)). Each query's
        first column of its first row is compared with O(restore_checks[].expect), or must lie
        within O(restore_checks[].min) and O(restore_checks[].max).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the check in the results. Defaults to the query.
        type: str
      query:
        description: The SQL query.
        type: str
        required: true
      expect:
        description: The expected value, compared as text (or as a number when both are numbers).
        type: raw
      min:
        description: Smallest acceptable value (a number).
        type: float
      max:
        description: Largest acceptable value (a number).
        type: float
notes:
  - Failed checks are V(critical) findings, warnings V(warning) ones and skipped checks V(info)
    ones; O(fail_on) compares with them.
  - The connection options are used only by O(level=restore), which needs a role allowed to
    create and drop databases. The other levels need only read access to the files.
  - A file that is not a regular file (a FIFO, a dangling symbolic link, a directory) but has a
    backup's name is reported as a failed backup, never silently ignored.
  - A name whose time cannot be placed in O(timezone) (year 1 or 9999 near the ends of the
    calendar) fails its C(name) check and has no time, as a name that does not match.
  - The restore test runs C(psql) or C(pg_restore) with the collection's restore code (the one
    of P(stronghold.ops.pg_restore#module)), into a database created from C(template0).
seealso:
  - module: stronghold.ops.pg_backup
  - module: stronghold.ops.pg_restore
  - name: pg_restore
    description: The tool used for custom-format dumps.
    link: https://www.postgresql.org/docs/current/app-pgrestore.html
"""

EXAMPLES = r"""
- name: Daily check of the latest backup (runbook RPO of 26 hours)
  stronghold.ops.backup_verify:
    directory: /var/lib/stronghold-lab/backups/financial-stronghold
    max_age: 26h
    min_count: 7
    expected_interval: 1d
    min_size: 1M
    max_shrink: 30
    level: stream
  register: backup_check

- name: Monthly restore test of the newest backup into a scratch database
  stronghold.ops.backup_verify:
    directory: /var/lib/stronghold-lab/backups/financial-stronghold
    level: restore
    login_host: 127.0.0.1
    login_user: postgres
    login_password: "{{ vault_postgres_password }}"
    timeout: 30m
    restore_checks:
      - name: transactions restored
        query: SELECT count(*) FROM core_transaction
        min: 1000
      - name: latest migration
        query: SELECT name FROM django_migrations ORDER BY id DESC LIMIT 1
        expect: 0042_ledger_index

- name: Every backup of the week, custom-format dumps named by the hour, local time
  stronghold.ops.backup_verify:
    directory: /srv/backups
    pattern: app_%Y-%m-%dT%H.dump
    timezone: Europe/Paris
    format: custom
    which: all
    fail_on: warning
"""

RETURN = r"""
status:
  description: V(ok), V(warning) or V(failed) (any check failed).
  returned: always
  type: str
  sample: ok
backups:
  description:
    - The checked backups, newest first, each with its checks. C(time) is ISO 8601 with its
      offset; C(age_seconds) is measured from the start of the run (negative for a backup
      dated ahead). C(future) is true for a backup dated in the future. C(marker_found) is true
      when the completion marker ends the dump where pg_dump writes it, false when not, null
      when it could not be judged (a custom-format dump, a corrupt gzip stream).
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: "Path of the backup.", type: str}
    name: {description: "File name.", type: str}
    time: {description: "The time of its name (ISO 8601 with offset), null when it has none.", type: str}
    age_seconds: {description: "Seconds from that time to the start of the run (negative when dated ahead).", type: float}
    future: {description: "Dated more than 5 minutes ahead of the host's clock.", type: bool}
    size: {description: "Size on disk in bytes, null for an entry that is no regular file.", type: int}
    median_size: {description: "Median size of the O(shrink_window) backups dated before it (never future-dated ones).", type: float}
    shrink_pct: {description: "How much smaller than that median it is, in percent (negative when larger).", type: float}
    format: {description: "V(plain) or V(custom) (null below level V(header)).", type: str}
    compressed: {description: "Whether the file is gzip-compressed.", type: bool}
    gzip_members: {description: "Number of gzip members read (level V(stream)).", type: int}
    uncompressed_bytes: {description: "Bytes of SQL inflated or read (level V(stream)).", type: int}
    marker_found: {description: "The completion marker ends the dump where pg_dump writes it (see the description).", type: bool}
    sha256: {description: "SHA-256 of the file (level V(stream)).", type: str}
    throughput_mbps: {description: "Read speed of the stream pass in MB/s.", type: float}
    inflate_backend: {description: "V(isal) or V(zlib).", type: str}
    toc_entries: {description: "Entries in the table of contents of a custom-format dump.", type: int}
    ok: {description: "No check of this backup failed.", type: bool}
    checks:
      description: Its checks, as in RV(checks) without C(target).
      type: list
      elements: dict
      contains:
        name: {description: "Name of the check (C(name), C(stat), C(size), C(shrink), C(format), C(gzip), C(sha256), ...).", type: str}
        status: {description: "V(ok), V(failed), V(warning) or V(skipped).", type: str}
        detail: {description: "What was found.", type: str}
        duration: {description: "Seconds the check took.", type: float}
  sample:
    - path: /var/backups/backup_20261127_020000.sql.gz
      name: backup_20261127_020000.sql.gz
      time: "2026-11-27T02:00:00+00:00"
      age_seconds: 40210.5
      size: 303112904
      median_size: 301002311.0
      shrink_pct: -0.7
      format: plain
      compressed: true
      gzip_members: 1
      uncompressed_bytes: 1073741824
      marker_found: true
      future: false
      sha256: 9f2c0e0c4f7a3b1d2e5f60718293a4b5c6d7e8f90112233445566778899aabbc
      throughput_mbps: 91.4
      inflate_backend: isal
      ok: true
      checks:
        - {name: stat, status: ok, detail: regular file of 303112904 bytes, duration: 0.0}
        - {name: gzip, status: ok, detail: "1 gzip member, CRC and length verified, 1073741824 uncompressed bytes", duration: 3.3}
latest:
  description:
    - The newest backup found (not only checked) that is not dated in the future, or null when
      there is none.
  returned: always
  type: dict
  contains:
    path: {description: "Path of the backup.", type: str}
    name: {description: "File name.", type: str}
    time: {description: "The time of its name, ISO 8601 with its offset.", type: str}
    age_seconds: {description: "Seconds from that time to the start of the run.", type: float}
    size: {description: "Size on disk in bytes.", type: int}
  sample: {path: /var/backups/backup_20261127_020000.sql.gz, name: backup_20261127_020000.sql.gz,
           time: "2026-11-27T02:00:00+00:00", age_seconds: 40210.5, size: 303112904}
found:
  description: How many backups match the pattern (settling files excluded).
  returned: always
  type: int
  sample: 14
future:
  description:
    - Backups dated more than 5 minutes ahead of the host's clock, each also a C(future)
      warning; C(ahead_seconds) is how far ahead.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the backup.
      type: str
    name:
      description: File name.
      type: str
    time:
      description: The time of its name, ISO 8601 with its offset.
      type: str
    ahead_seconds:
      description: Seconds between the start of the run and that time.
      type: float
  sample: [{path: /var/backups/backup_20261128_020000.sql.gz, name: backup_20261128_020000.sql.gz,
            time: "2026-11-28T02:00:00+00:00", ahead_seconds: 45000.0}]
settling:
  description: Files skipped because they were modified less than O(settle) ago.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: "Path of the file.", type: str}
    name: {description: "File name.", type: str}
    size: {description: "Size on disk in bytes, null for an entry that is no regular file.", type: int}
    modified_seconds_ago: {description: "Seconds since it was last modified.", type: float}
  sample: [{path: /var/backups/backup_20261127_140000.sql.gz, name: backup_20261127_140000.sql.gz,
            modified_seconds_ago: 12.5, size: 1048576}]
checks:
  description:
    - Every check that ran, in order, with C(target) (the file name, or the directory for
      the checks over all backups), C(name), C(status), C(detail) and C(duration) in seconds.
  returned: always
  type: list
  elements: dict
  contains:
    target: {description: "The file name, or the directory (or the files) for the checks over all backups.", type: str}
    name:
      description:
        - Name of the check. Over all backups C(settle), C(future), C(count), C(freshness),
          C(gaps); of each backup C(name), C(stat), C(size), C(shrink), then by O(level)
          C(read), C(format), C(gzip), C(sha256), C(header), C(marker), C(toc), C(data_read).
        - "Of the restore test: C(restore), C(query: <name>) for each O(restore_checks) query,
          C(scratch_drop)."
      type: str
    status: {description: "V(ok), V(failed), V(warning) or V(skipped).", type: str}
    detail: {description: "What was found.", type: str}
    duration: {description: "Seconds the check took.", type: float}
  sample:
    - {target: /var/backups, name: freshness, status: ok, detail: "newest backup 11h10m old (max_age 26h)", duration: 0.0}
    - {target: backup_20261127_020000.sql.gz, name: marker, status: ok,
       detail: "completion marker on line 904211, 96 bytes before the end, after 31 COPY blocks", duration: 0.0}
restore:
  description: The restore test, or null below level V(restore) (and in check mode).
  returned: always
  type: dict
  contains:
    path: {description: "The backup restored.", type: str}
    database: {description: "The scratch database.", type: str}
    ok: {description: "The restore succeeded.", type: bool}
    seconds: {description: "How long the restore took.", type: float}
    created: {description: "The scratch database was created.", type: bool}
    dropped: {description: "The scratch database was dropped.", type: bool}
    command: {description: "The restore command, without secrets.", type: list, elements: str}
    stderr_tail: {description: "The end of the restore's standard error.", type: str}
    queries:
      description: The O(restore_checks) queries, in order.
      type: list
      elements: dict
      contains:
        name: {description: "O(restore_checks[].name), or the query.", type: str}
        value: {description: "First column of the first row, as text (null for NULL or no row).", type: str}
        status: {description: "V(ok), V(failed) or V(skipped) (the restore failed).", type: str}
        detail: {description: "The comparison, or the error.", type: str}
  sample:
    path: /var/backups/backup_20261127_020000.sql.gz
    database: backup_verify_20261127134501_4242
    ok: true
    seconds: 41.2
    created: true
    dropped: true
    command: [/usr/lib/postgresql/15/bin/psql, --no-password, -X, -q, -v, ON_ERROR_STOP=1, --single-transaction, "--dbname=...", -f, "-"]
    stderr_tail: ""
    queries: [{name: transactions restored, value: "1204332", status: ok, detail: "1204332 >= 1000"}]
workers:
  description: How many backups were read at the same time (O(workers), or the number chosen from the CPUs).
  returned: always
  type: int
  sample: 2
workers_peak_rss_kib:
  description:
    - Peak resident memory of the largest worker process (O(workers)), in KiB, pages shared with
      the module included; null when the backups were read in the module itself.
  returned: always
  type: int
  sample: 20100
peak_rss_kib:
  description: Peak resident memory of the module process (Python and Ansible included), in KiB.
  returned: always
  type: int
  sample: 27400
findings:
  description:
    - Findings in the collection's model, one per check that is not ok, after one summary
      finding (C(backup.verify)).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description:
        - C(backup.verify) (the summary), C(backup.retention), C(backup.freshness), C(backup.size),
          C(backup.selection), C(backup.integrity) or C(backup.restore).
      type: str
    target: {description: "The file name, or the directory (or the files) for the summary and the checks over all backups.", type: str}
    severity: {description: "V(ok), V(info), V(warning) or V(critical).", type: str}
    summary: {description: "One line: the check's name and detail, or the summary of the run.", type: str}
    details:
      description:
        - The check's name and status.
        - For the summary C(level), C(checked) (the names), C(newest), C(newest_age_seconds) and
          C(newest_size) (bytes, null when unknown) of the newest backup, C(future), and the
          restore's C(restore_seconds), C(restore_ok) and C(restore_queries).
      type: dict
  sample:
    - {check: backup.integrity, target: backup_20261127_020000.sql.gz, severity: ok, summary: "stream checks passed", details: {}}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import datetime
import os
import resource
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    backup_files,
    find_pg_restore,
    list_backups,
    map_in_processes,
    verify_header,
    verify_stream,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    BACKUP_FILES_SPEC,
    FAIL_ON_SPEC,
    argument_spec,
    duration_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import postgres_argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._verify import (
    FORMATS,
    LEVELS,
    Outcome,
    Settings,
    Survey,
    VerifyError,
    check,
    check_backup,
    choose_workers,
    collection_checks,
    cpu_quota,
    failure_message,
    history,
    judge_queries,
    judge_restore,
    read_error,
    restore_report,
    scratch_name,
    select,
    target_label,
)

APPLICATION = "stronghold.ops.backup_verify"


def path_problems(params):
    """What is wrong on disk with the options (read-only look-ups)."""
    problems = []
    if params["pg_bin_dir"] and not os.path.isdir(params["pg_bin_dir"]):
        problems.append("pg_bin_dir %s is not a directory" % params["pg_bin_dir"])
    if params["directory"] is not None:
        if not os.path.exists(params["directory"]):
            problems.append("backup directory %s does not exist" % params["directory"])
        elif not os.path.isdir(params["directory"]):
            problems.append("%s is not a directory" % params["directory"])
    return problems


def usable_cpus():
    """(CPUs this process may run on, the cgroup v2 quota in CPUs or None)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            quota = cpu_quota(handle.read())
    except (OSError, ValueError):
        quota = None
    return cpus, quota


def elapsed(started):
    return time.monotonic() - started


class Verifier:
    """Observes the backups (listing, stat, reading) and runs the restore test; _verify judges."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.settings = Settings(module.params, path_problems(module.params))
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.target = target_label(self.params["directory"], self.params["files"])
        self.changed = False
        bin_dir = self.params["pg_bin_dir"]
        plain = self.params["format"] == "plain"
        self.pg_restore = os.path.join(bin_dir, "pg_restore") if bin_dir else (None if plain else find_pg_restore())

    def listing(self):
        p = self.params
        if p["directory"] is None:
            return backup_files(p["files"], self.settings.pattern, p["timezone"])
        try:
            return list_backups(p["directory"], self.settings.pattern, p["timezone"])
        except OSError as exc:
            raise VerifyError(
                "cannot read the backup directory %s: %s" % (p["directory"], exc.strerror or exc)
            ) from exc

    def read(self, item):
        """(why it cannot be opened, seconds spent, what reading it showed) of one backup."""
        open_error, started = None, time.monotonic()
        if not item.get("error") and item["size"] != 0:
            try:
                with open(item["path"], "rb"):
                    pass
            except OSError as exc:
                open_error = str(exc.strerror or exc)
        seconds = elapsed(started)
        if item.get("error") or self.settings.level < LEVELS.index("header"):
            return open_error, seconds, None
        fmt, path = self.params["format"], item["path"]
        if self.settings.level == LEVELS.index("header"):
            return open_error, seconds, verify_header(path, fmt=fmt)
        sidecar, timeout = self.params["sidecar"], self.settings.timeout
        return open_error, seconds, verify_stream(path, fmt, sidecar, pg_restore=self.pg_restore, timeout=timeout)

    def restore_test(self, entry):
        """(report, checks) of restoring ``entry`` into a new scratch database, always dropped after."""
        # The PostgreSQL layer is imported for this level only: psycopg alone costs about 14 MiB,
        # which the other levels never need (the module's memory stays under 32 MiB).
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.stronghold.ops.plugins.module_utils._pgdump import (
            admin_db,
            create_database,
            drop_database,
            restore_file,
        )

        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
            PostgresConnectError,
            connect,
            psycopg,
        )

        p = self.params
        database = p["scratch_db"] or scratch_name(self.now, os.getpid())
        report = restore_report(entry["path"], database)
        started = time.monotonic()
        try:
            with connect(p, dbname=admin_db(p), application_name=APPLICATION) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if not exists:
                create_database(p, database)
                report["created"] = self.changed = True
        except (PostgresConnectError, psycopg.Error, RuntimeError, OSError) as exc:
            detail = "cannot create the scratch database %s: %s" % (database, str(exc).strip())
            return report, [check("restore", "failed", detail, elapsed(started))]
        if exists:
            detail = "scratch database %s already exists: refusing to restore into (and drop) a database " % database
            return report, [check("restore", "failed", detail + "this run did not create", elapsed(started))]
        checks, answers, connect_error, error = [], [], None, None
        try:
            started = time.monotonic()
            outcome = restore_file(
                self.module, p, entry["path"], database, fmt=p["format"], timeout=self.settings.timeout
            )
            fields, restored = judge_restore(database, outcome, elapsed(started))
            report.update(fields)
            checks.append(restored)
            if report["ok"] and p["restore_checks"]:
                connect_error = self.ask(database, answers)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Whatever happened, the scratch database is dropped below and the failure reported.
            error = check("restore", "failed", "restore test error: %s" % exc, elapsed(started))
        asked = p["restore_checks"][: len(answers)] if error else p["restore_checks"]
        report["queries"], query_checks = judge_queries(asked, report["ok"], answers, connect_error)
        checks.extend(query_checks + ([error] if error else []))
        started = time.monotonic()
        try:
            drop_database(p, database, force=True)
            report["dropped"] = True
            checks.append(check("scratch_drop", "ok", "scratch database %s dropped" % database, elapsed(started)))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            detail = "cannot drop the scratch database %s: %s (drop it by hand)" % (database, exc)
            checks.append(check("scratch_drop", "failed", detail, elapsed(started)))
        return report, checks

    def ask(self, database, answers):
        """Run the sanity queries on the scratch database, appending to ``answers``; the connection error or None."""
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
            PostgresConnectError,
            connect,
            psycopg,
        )

        try:
            conn = connect(self.params, dbname=database, application_name=APPLICATION)
        except PostgresConnectError as exc:
            return str(exc)
        with conn:
            for item in self.params["restore_checks"]:
                started = time.monotonic()
                try:
                    row = conn.execute(item["query"]).fetchone()
                    answer = {"value": list(row.values())[0] if row else None, "error": None}
                except psycopg.Error as exc:
                    answer = {"value": None, "error": str(exc).strip()}
                answers.append(dict(answer, seconds=elapsed(started)))
        return None

    def run(self):
        p = self.params
        survey = Survey(self.listing(), self.now, time.time(), self.settings.settle)
        checks = collection_checks(survey, p, self.settings, self.target)
        checked = []
        selected = select(survey.backups, p["which"], p["count"])
        workers = choose_workers(p["workers"], len(selected), *usable_cpus())
        # Read in parallel, judged in order: the same checks and findings as one after another.
        for item, (read, error) in zip(selected, map_in_processes(self.read, selected, workers)):
            if error is not None:
                read = None, 0.0, read_error(error, self.settings.level)
            open_error, seconds, verified = read
            previous = history(item, survey.current, p["shrink_window"])
            entry, entry_checks = check_backup(item, p, self.settings, previous, open_error, seconds, verified)
            checked.append(entry)
            checks.extend(entry_checks)
        restore = None
        if p["level"] == "restore" and not checked:
            checks.append(check("restore", "failed", "no backup to restore", target=self.target))
        elif p["level"] == "restore" and self.module.check_mode:
            detail = "check mode: the restore test would create, fill and drop a scratch database"
            checks.append(check("restore", "skipped", detail, target=checked[-1]["name"]))
        elif p["level"] == "restore":
            restore, restore_checks = self.restore_test(checked[-1])
            checks.extend(dict(c, target=checked[-1]["name"]) for c in restore_checks)
        result = Outcome(checks, survey, checked, p["level"], self.target, restore).result()
        result.update(
            workers=workers,
            changed=self.changed,
            peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            workers_peak_rss_kib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else None,
        )
        return result


def main():
    restore_checks = {
        "name": {"type": "str"},
        "query": {"type": "str", "required": True},
        "expect": {"type": "raw"},
        "min": {"type": "float"},
        "max": {"type": "float"},
    }
    spec = argument_spec(
        postgres_argument_spec(),
        BACKUP_FILES_SPEC,
        FAIL_ON_SPEC,
        own={
            "files": {"type": "list", "elements": "path"},
            "settle": duration_spec("2m"),
            "which": {"type": "str", "choices": ["latest", "all", "last_n"], "default": "latest"},
            "count": {"type": "int", "default": 1},
            "workers": {"type": "int"},
            "max_age": duration_spec(),
            "min_count": {"type": "int"},
            "expected_interval": duration_spec(),
            "gap_factor": {"type": "float", "default": 1.5},
            "min_size": {"type": "str"},
            "max_shrink": {"type": "float"},
            "shrink_window": {"type": "int", "default": 7},
            "level": {"type": "str", "choices": list(LEVELS), "default": "stream"},
            "format": {"type": "str", "choices": list(FORMATS), "default": "auto"},
            "sidecar": {"type": "bool", "default": True},
            "require_sidecar": {"type": "bool", "default": False},
            "pg_bin_dir": {"type": "path"},
            "timeout": duration_spec(),
            "scratch_db": {"type": "str"},
            "restore_checks": {"type": "list", "elements": "dict", "default": [], "options": restore_checks},
        },
    )
    # directory or files: the shared directory option is not required here.
    spec["directory"].pop("required")
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
        mutually_exclusive=[("directory", "files")],
        required_one_of=[("directory", "files")],
    )
    failure = None
    try:
        if module.params["level"] == "restore" and not module.check_mode:
            # pylint: disable-next=import-outside-toplevel
            from ansible_collections.stronghold.ops.plugins.module_utils._postgres import psycopg_missing

            missing = psycopg_missing()
            if missing:
                raise VerifyError(missing["msg"], exception=missing["exception"])
        result = Verifier(module).run()
        failure = failure_message(result, module.params["fail_on"])
    except VerifyError as exc:
        result, failure = exc.result, exc.msg
    if failure is not None:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
