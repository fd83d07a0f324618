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
  - ansible.builtin.action_common_attributes
  - stronghold.ops.postgres
  - stronghold.ops.findings
attributes:
  check_mode:
    support: full
    details:
      - Every level but V(restore) only reads files and runs in check mode. The restore test is
        skipped with a note (a C(skipped) check and an info finding).
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  directory:
    description:
      - Directory holding the backups, such as C(/var/backups/financial-stronghold). A missing
        or unreadable directory fails the task.
      - One of O(directory) and O(files) is required.
    type: path
  files:
    description:
      - Explicit backup files instead of a directory. Their times are still read from their
        names with O(pattern); a file whose name does not match has no time (failed C(name)
        check) and does not count for freshness. A missing file is a failed check.
    type: list
    elements: path
  pattern:
    description:
      - Name of a backup file with C(strftime)-like fields C(%Y %m %d %H %M %S) (C(%%) for a
        percent sign); everything else is literal. It needs at least C(%Y), C(%m) and C(%d).
        Files that do not match (the C(.sha256) sidecars, temporary files, anything else) are
        ignored.
    type: str
    default: backup_%Y%m%d_%H%M%S.sql.gz
  timezone:
    description:
      - The time zone the times in the file names are written in; V(UTC), V(local) (the host's
        zone) or an IANA name such as V(Europe/Paris).
    type: str
    default: UTC
  settle:
    description:
      - A file modified less than this long ago (such as V(2m)) is considered still being
        written. It is skipped by every check and listed in RV(settling). V(0) disables this.
      - Every duration option (O(settle), O(max_age), O(expected_interval), O(timeout)) is at
        most 100 years; NaN and infinite values are refused.
    type: str
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
    type: str
  min_count:
    description:
      - Fewest backups that must exist (retention); fewer fails the C(count) check. Backups
        dated in the future are not counted.
    type: int
  expected_interval:
    description:
      - Time between two backups, such as V(1d). With it, the C(gaps) check reports (as a
        warning) every pair of consecutive backups more than O(gap_factor) times this apart.
    type: str
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
      - Longest run of each C(pg_restore) check and of the restore test, such as V(30m). Unset,
        no limit.
    type: str
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
  fail_on:
    description:
      - Fail the task when a finding reaches this severity; V(never) only reports. Failed
        checks are V(critical), warnings V(warning).
    type: str
    choices: [critical, warning, info, never]
    default: critical
notes:
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
    checks: {description: 'Its checks, each with C(name), C(status), C(detail) and C(duration).', type: list, elements: dict}
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
  sample: [{path: /var/backups/backup_20261127_140000.sql.gz, modified_seconds_ago: 12.5, size: 1048576}]
checks:
  description:
    - Every check that ran, in order, with C(target) (the file name, or the directory for
      the checks over all backups), C(name), C(status), C(detail) and C(duration) in seconds.
  returned: always
  type: list
  elements: dict
  sample:
    - {target: /var/backups, name: freshness, status: ok, detail: "newest backup 11h10m old (max_age 26h)", duration: 0.0}
    - {target: backup_20261127_020000.sql.gz, name: marker, status: ok,
       detail: "completion marker on line 904211, 96 bytes before the end, after 31 COPY blocks", duration: 0.0}
restore:
  description: The restore test, or null below level V(restore) (and in check mode).
  returned: always
  type: dict
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
peak_rss_kib:
  description: Peak resident memory of the module process (Python and Ansible included), in KiB.
  returned: always
  type: int
  sample: 27400
findings:
  description: Findings in the collection's model, one per check that is not ok (and one summary).
  returned: always
  type: list
  elements: dict
  sample:
    - {check: backup.integrity, target: backup_20261127_020000.sql.gz, severity: ok, summary: "stream checks passed", details: {}}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import datetime
import math
import os
import resource
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    aware_time,
    compile_pattern,
    find_gaps,
    find_pg_restore,
    list_backups,
    resolve_timezone,
    size_vs_median,
    verify_header,
    verify_stream,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    parse_duration,
    parse_size,
    severity_at_least,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import (
    check_connection_params,
    postgres_argument_spec,
)

LEVELS = ("stat", "header", "stream", "restore")
# A backup dated up to this far ahead of the host's clock is current: clocks of the host that
# names the backups and of this one may differ by a little. Further ahead is a clock or time
# zone problem, and such a backup says nothing about the recovery point.
FUTURE_ALLOWANCE = 300
# Longest duration an option may give (a hundred years); longer ones are typing mistakes, and
# the date arithmetic and the waits stay far from the limits of datetime and of time_t.
MAX_DURATION = 100 * 365.25 * 86400
SEVERITY_OF_STATUS = {"ok": "ok", "skipped": "info", "warning": "warning", "failed": "critical"}


def human_duration(seconds):
    seconds = int(round(abs(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%dd%02dh" % (days, hours)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    if minutes:
        return "%dm%02ds" % (minutes, secs)
    return "%ds" % secs


def compare_value(value, expect=None, minimum=None, maximum=None):
    """(status, detail) of one sanity query's value against expect / min / max."""
    problems = []
    shown = "NULL" if value is None else str(value)
    if expect is not None:
        equal = False
        if value is not None:
            try:
                equal = (
                    float(value) == float(expect)
                    if not isinstance(expect, bool)
                    else str(value).lower() == str(expect).lower()
                )
            except (TypeError, ValueError):
                equal = str(value) == str(expect)
        if not equal:
            problems.append("%s is not the expected %s" % (shown, expect))
    for bound, label, worse in ((minimum, "min", lambda v, b: v < b), (maximum, "max", lambda v, b: v > b)):
        if bound is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append("%s is not a number (%s %s)" % (shown, label, bound))
            continue
        if worse(number, bound):
            problems.append("%s is %s %s %s" % (shown, "below" if label == "min" else "above", label, bound))
    if problems:
        return "failed", "; ".join(problems)
    parts = []
    if expect is not None:
        parts.append("= %s" % expect)
    if minimum is not None:
        parts.append(">= %s" % minimum)
    if maximum is not None:
        parts.append("<= %s" % maximum)
    return "ok", "%s %s" % (shown, " and ".join(parts))


class Verifier:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.checks = []
        self.findings = []
        self.changed = False
        self.now = datetime.datetime.now(datetime.timezone.utc)

    # --- input --------------------------------------------------------------------------------

    def read_options(self):
        p = self.p
        problems = []
        try:
            self.pattern = compile_pattern(p["pattern"])
        except ValueError as exc:
            problems.append(str(exc))
        try:
            resolve_timezone(p["timezone"])
        except ValueError as exc:
            problems.append(str(exc))
        self.settle = self.max_age = self.interval = self.min_size = self.timeout = None
        for option, parser, attribute in (
            ("settle", parse_duration, "settle"),
            ("max_age", parse_duration, "max_age"),
            ("expected_interval", parse_duration, "interval"),
            ("min_size", parse_size, "min_size"),
            ("timeout", parse_duration, "timeout"),
        ):
            if p[option] is None:
                continue
            try:
                value = parser(p[option])
            except FindingError as exc:
                problems.append("%s: %s" % (option, exc))
                continue
            if not math.isfinite(value):
                problems.append(
                    "%s must be a finite %s, got %s"
                    % (option, "size" if parser is parse_size else "duration", p[option])
                )
            elif parser is parse_duration and value > MAX_DURATION:
                problems.append("%s %s is longer than 100 years" % (option, p[option]))
            else:
                setattr(self, attribute, value)
        if self.interval is not None and self.interval <= 0:
            problems.append("expected_interval must be longer than 0")
        if self.timeout is not None and self.timeout <= 0:
            problems.append("timeout must be longer than 0")
        if p["count"] < 1:
            problems.append("count must be at least 1, got %d" % p["count"])
        if p["min_count"] is not None and p["min_count"] < 1:
            problems.append("min_count must be at least 1, got %d" % p["min_count"])
        if p["shrink_window"] < 1:
            problems.append("shrink_window must be at least 1, got %d" % p["shrink_window"])
        if not math.isfinite(p["gap_factor"]) or p["gap_factor"] < 1:
            problems.append("gap_factor must be a finite number, at least 1, got %s" % p["gap_factor"])
        if p["max_shrink"] is not None and not 0 <= p["max_shrink"] <= 100:
            problems.append("max_shrink is a percentage between 0 and 100, got %s" % p["max_shrink"])
        if p["which"] != "last_n" and p["count"] != 1:
            problems.append("count applies only to which=last_n")
        if p["pg_bin_dir"] and not os.path.isdir(p["pg_bin_dir"]):
            problems.append("pg_bin_dir %s is not a directory" % p["pg_bin_dir"])
        if p["restore_checks"] and p["level"] != "restore":
            problems.append("restore_checks need level=restore")
        for index, item in enumerate(p["restore_checks"]):
            if not (item.get("query") or "").strip():
                problems.append("restore_checks[%d] has an empty query" % index)
            if item.get("expect") is None and item.get("min") is None and item.get("max") is None:
                problems.append(
                    "restore_checks[%d] (%s) needs expect, min or max" % (index, item.get("name") or item.get("query"))
                )
            for bound in ("min", "max"):
                if item.get(bound) is not None and not math.isfinite(item[bound]):
                    problems.append(
                        "restore_checks[%d] has %s %s: it must be a finite number" % (index, bound, item[bound])
                    )
            if item.get("min") is not None and item.get("max") is not None and item["min"] > item["max"]:
                problems.append("restore_checks[%d] has min %s above max %s" % (index, item["min"], item["max"]))
        if p["level"] == "restore":
            problems.extend(check_connection_params(p))
            if p["scratch_db"] is not None and not p["scratch_db"].strip():
                problems.append("scratch_db cannot be empty")
            if p["scratch_db"] and p["scratch_db"] in (p.get("login_db"), "postgres", "template0", "template1"):
                problems.append("scratch_db %s is not a scratch database" % p["scratch_db"])
        if p["directory"] is not None:
            if not os.path.exists(p["directory"]):
                problems.append("backup directory %s does not exist" % p["directory"])
            elif not os.path.isdir(p["directory"]):
                problems.append("%s is not a directory" % p["directory"])
        if p["files"] is not None and not p["files"]:
            problems.append("files is empty")
        if problems:
            self.module.fail_json(msg="; ".join(problems))

    # --- helpers ------------------------------------------------------------------------------

    def record(self, target, check):
        entry = {"target": target}
        entry.update(check)
        self.checks.append(entry)
        return entry

    def quick(self, target, name, status, detail):
        return self.record(target, {"name": name, "status": status, "detail": detail, "duration": 0.0})

    def iso(self, when):
        return when.isoformat() if when is not None else None

    # --- selection ----------------------------------------------------------------------------

    def gather(self):
        """All backups found (the listing), the ones settling, and the target label."""
        p = self.p
        zone = p["timezone"]
        if p["directory"] is not None:
            self.target = p["directory"]
            try:
                listed = list_backups(p["directory"], self.pattern, zone)
            except OSError as exc:
                self.module.fail_json(
                    msg="cannot read the backup directory %s: %s" % (p["directory"], exc.strerror or exc)
                )
        else:
            self.target = ", ".join(p["files"]) if len(p["files"]) <= 3 else "%d files" % len(p["files"])
            listed = []
            tz = resolve_timezone(zone)
            for path in p["files"]:
                name = os.path.basename(path)
                naive = self.pattern.match(name)
                when = why = None
                if naive is not None:
                    when, why = aware_time(naive, tz)
                item = {"path": path, "name": name, "time": when, "size": None, "mtime": None}
                if why:
                    item["time_error"] = why
                try:
                    info = os.stat(path)
                except OSError as exc:
                    item["error"] = "cannot stat: %s" % (exc.strerror or exc)
                else:
                    item["mtime"] = info.st_mtime
                    if stat.S_ISREG(info.st_mode):
                        item["size"] = info.st_size
                    else:
                        item["error"] = "not a regular file"
                listed.append(item)
        # Backups without a usable time first, then by time: "the newest" is always one with a time.
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        listed.sort(key=lambda item: (item["time"] is not None, item["time"] or epoch, item["name"]))
        now = time.time()
        self.settling = []
        self.backups = []
        for item in listed:
            if self.settle and item["mtime"] is not None and now - item["mtime"] < self.settle:
                self.settling.append(
                    {
                        "path": item["path"],
                        "name": item["name"],
                        "size": item["size"],
                        "modified_seconds_ago": round(now - item["mtime"], 1),
                    }
                )
            else:
                self.backups.append(item)

    # --- checks over all backups --------------------------------------------------------------

    def split_by_time(self):
        """Set each dated backup's age; future-dated ones go to self.future, the others to self.current."""
        self.future = []
        self.current = []
        for item in self.backups:
            if item["time"] is None:
                continue
            age = (self.now - item["time"]).total_seconds()
            item["age_seconds"] = round(age, 1)
            if age < -FUTURE_ALLOWANCE:
                item["future"] = True
                self.future.append(item)
            else:
                self.current.append(item)

    def collection_checks(self):
        p = self.p
        target = self.target
        self.split_by_time()
        timed = self.current
        for item in self.settling:
            self.quick(
                item["name"],
                "settle",
                "skipped",
                "modified %ss ago, less than settle %s: still being written, not checked"
                % (item["modified_seconds_ago"], p["settle"]),
            )
        for item in self.future:
            self.quick(
                item["name"],
                "future",
                "warning",
                "named for %s, %s ahead of this host's clock (timezone %s): a clock or time "
                "zone problem; left out of freshness, the count, gaps, the choice of the newest and the size median"
                % (self.iso(item["time"]), human_duration(item["age_seconds"]), p["timezone"]),
            )
        count = len(self.backups) - len(self.future)
        not_counted = " (%d dated in the future not counted)" % len(self.future) if self.future else ""
        if p["min_count"] is not None:
            status = "ok" if count >= p["min_count"] else "failed"
            self.quick(
                target,
                "count",
                status,
                "%d backup%s found, min_count %d%s" % (count, "" if count == 1 else "s", p["min_count"], not_counted),
            )
        elif count == 0:
            self.quick(target, "count", "failed", "no backup matching %s found%s" % (self.pattern.pattern, not_counted))
        else:
            self.quick(target, "count", "ok", "%d backup%s found%s" % (count, "" if count == 1 else "s", not_counted))

        newest = timed[-1] if timed else None
        if newest is None and self.future:
            self.quick(
                target,
                "freshness",
                "failed",
                "every dated backup (%d) is dated in the future: no backup shows when the "
                "last recovery point was taken" % len(self.future),
            )
        elif newest is None:
            self.quick(
                target, "freshness", "failed" if p["max_age"] else "skipped", "no backup with a time in its name"
            )
        else:
            age = newest["age_seconds"]
            if self.max_age is None:
                self.quick(
                    target,
                    "freshness",
                    "skipped",
                    "newest backup %s is %s old; no max_age given" % (newest["name"], human_duration(age)),
                )
            elif age > self.max_age:
                self.quick(
                    target,
                    "freshness",
                    "failed",
                    "newest backup %s is %s old, more than max_age %s"
                    % (newest["name"], human_duration(age), p["max_age"]),
                )
            else:
                self.quick(
                    target,
                    "freshness",
                    "ok",
                    "newest backup %s is %s old (max_age %s)" % (newest["name"], human_duration(age), p["max_age"]),
                )

        if self.interval is not None:
            gaps = find_gaps([b["time"] for b in timed], self.interval, p["gap_factor"])
            if len(timed) < 2:
                self.quick(target, "gaps", "skipped", "fewer than 2 backups to compare")
            elif gaps:
                text = ", ".join(
                    "%s between %s and %s" % (human_duration(g["seconds"]), self.iso(g["after"]), self.iso(g["before"]))
                    for g in gaps[:10]
                )
                self.quick(
                    target,
                    "gaps",
                    "warning",
                    "%d gap%s longer than %s x %s: %s"
                    % (len(gaps), "" if len(gaps) == 1 else "s", p["gap_factor"], p["expected_interval"], text),
                )
            else:
                self.quick(
                    target,
                    "gaps",
                    "ok",
                    "no gap longer than %s x %s over %d backups"
                    % (p["gap_factor"], p["expected_interval"], len(timed)),
                )

    # --- checks of each selected backup -------------------------------------------------------

    def select(self):
        which = self.p["which"]
        if which == "all":
            return list(self.backups)
        # The newest are chosen among backups not dated in the future (undated ones sort first).
        eligible = [b for b in self.backups if not b.get("future")]
        if which == "latest":
            return eligible[-1:]
        return eligible[-self.p["count"] :]

    def history(self, item):
        """Sizes of the backups dated before ``item`` for its median: never a future-dated one."""
        if item["time"] is None:
            return []
        return [b["size"] for b in self.current if b["time"] < item["time"] and b["size"]][-self.p["shrink_window"] :]

    def check_backup(self, item):
        p = self.p
        name = item["name"]
        entry = {
            "path": item["path"],
            "name": name,
            "time": self.iso(item["time"]),
            "size": item["size"],
            "age_seconds": item.get("age_seconds"),
            "future": bool(item.get("future")),
            "median_size": None,
            "shrink_pct": None,
            "format": None,
            "compressed": None,
            "gzip_members": None,
            "uncompressed_bytes": None,
            "marker_found": None,
            "sha256": None,
            "throughput_mbps": None,
        }
        first = len(self.checks)
        if item.get("time_error"):
            self.quick(name, "name", "failed", item["time_error"])
        elif item["time"] is None:
            self.quick(
                name,
                "name",
                "failed",
                "the name does not match the pattern %s, so the backup's time is unknown" % self.pattern.pattern,
            )
        # stat: a regular, non-empty file that can be opened
        started = time.monotonic()
        if item.get("error"):
            status, detail = "failed", item["error"]
        elif item["size"] == 0:
            status, detail = "failed", "the file is empty (0 bytes)"
        else:
            try:
                with open(item["path"], "rb"):
                    pass
            except OSError as exc:
                status, detail = "failed", "cannot open: %s" % (exc.strerror or exc)
            else:
                status, detail = "ok", "regular file of %d bytes" % item["size"]
        self.record(
            name, {"name": "stat", "status": status, "detail": detail, "duration": round(time.monotonic() - started, 4)}
        )

        if self.min_size is not None and item["size"] is not None:
            ok = item["size"] >= self.min_size
            self.quick(
                name,
                "size",
                "ok" if ok else "failed",
                "%d bytes, min_size %s (%d bytes)" % (item["size"], p["min_size"], int(self.min_size)),
            )
        if item["size"] is not None:
            previous = self.history(item)
            mid, shrink = size_vs_median(item["size"], previous)
            entry["median_size"] = mid
            entry["shrink_pct"] = shrink
            if mid is None:
                if p["max_shrink"] is not None:
                    self.quick(name, "shrink", "skipped", "no earlier backup to compare the size with")
            else:
                detail = "%d bytes, %s%% %s the median %d of the %d backup%s before it" % (
                    item["size"],
                    abs(shrink) if shrink is not None else "?",
                    "below" if (shrink or 0) >= 0 else "above",
                    int(mid),
                    len(previous),
                    "" if len(previous) == 1 else "s",
                )
                if p["max_shrink"] is None:
                    self.quick(name, "shrink", "skipped", detail + "; no max_shrink given")
                elif shrink is not None and shrink > p["max_shrink"]:
                    self.quick(name, "shrink", "failed", detail + ", more than max_shrink %s%%" % p["max_shrink"])
                else:
                    self.quick(name, "shrink", "ok", detail + " (max_shrink %s%%)" % p["max_shrink"])

        level = LEVELS.index(p["level"])
        readable = not item.get("error")
        if level >= 2 and readable:
            result = verify_stream(
                item["path"], fmt=p["format"], sidecar=p["sidecar"], pg_restore=self.pg_restore, timeout=self.timeout
            )
            for check in result["checks"]:
                if check["name"] == "read" and check["status"] == "ok":
                    continue
                if check["name"] == "sha256" and check["status"] == "skipped" and p["require_sidecar"] and p["sidecar"]:
                    check = dict(check, status="failed", detail=check["detail"] + " (require_sidecar)")
                self.record(name, check)
            for key in (
                "format",
                "compressed",
                "gzip_members",
                "uncompressed_bytes",
                "marker_found",
                "sha256",
                "throughput_mbps",
                "inflate_backend",
            ):
                entry[key] = result.get(key)
            if "toc_entries" in result:
                entry["toc_entries"] = result["toc_entries"]
        elif level >= 1 and readable:
            result = verify_header(item["path"], fmt=p["format"])
            for check in result["checks"]:
                if check["name"] == "read" and check["status"] == "ok":
                    continue
                self.record(name, check)
            entry["format"] = result["format"]
            entry["compressed"] = result["compressed"]
        mine = self.checks[first:]
        entry["checks"] = [dict((k, v) for k, v in c.items() if k != "target") for c in mine]
        entry["ok"] = not any(c["status"] == "failed" for c in mine)
        return entry

    # --- restore test -------------------------------------------------------------------------

    def restore_test(self, entry):
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

        p = self.p
        name = entry["name"]
        if self.module.check_mode:
            self.quick(
                name,
                "restore",
                "skipped",
                "check mode: the restore test would create, fill and drop a scratch database",
            )
            return None
        database = p["scratch_db"] or "backup_verify_%s_%d" % (self.now.strftime("%Y%m%d%H%M%S"), os.getpid())
        report = {
            "path": entry["path"],
            "database": database,
            "ok": False,
            "seconds": None,
            "created": False,
            "dropped": False,
            "command": None,
            "stderr_tail": None,
            "queries": [],
        }
        started = time.monotonic()
        try:
            conn = connect(self.p, dbname=admin_db(self.p), application_name="stronghold.ops.backup_verify")
            try:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            finally:
                conn.close()
            if exists:
                self.record(
                    name,
                    {
                        "name": "restore",
                        "status": "failed",
                        "duration": round(time.monotonic() - started, 4),
                        "detail": "scratch database %s already exists: refusing to restore into (and drop) a database "
                        "this run did not create" % database,
                    },
                )
                return report
            create_database(self.p, database)
            report["created"] = True
            self.changed = True
        except (PostgresConnectError, psycopg.Error, RuntimeError, OSError) as exc:
            self.record(
                name,
                {
                    "name": "restore",
                    "status": "failed",
                    "duration": round(time.monotonic() - started, 4),
                    "detail": "cannot create the scratch database %s: %s" % (database, str(exc).strip()),
                },
            )
            return report
        try:
            started = time.monotonic()
            outcome = restore_file(self.module, self.p, entry["path"], database, fmt=p["format"], timeout=self.timeout)
            report["seconds"] = round(outcome.get("duration") or (time.monotonic() - started), 3)
            report["command"] = outcome.get("command")
            report["stderr_tail"] = outcome.get("stderr_tail")
            report["ok"] = bool(outcome.get("ok"))
            if report["ok"]:
                self.record(
                    name,
                    {
                        "name": "restore",
                        "status": "ok",
                        "duration": report["seconds"],
                        "detail": "restored into %s in %ss" % (database, report["seconds"]),
                    },
                )
            else:
                self.record(
                    name,
                    {
                        "name": "restore",
                        "status": "failed",
                        "duration": report["seconds"],
                        "detail": "restore into %s failed: %s"
                        % (
                            database,
                            (outcome.get("error") or outcome.get("stderr_tail") or "no message").strip()[-500:],
                        ),
                    },
                )
            self.run_queries(name, database, report)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Whatever happened, the scratch database is dropped below and the failure reported.
            self.record(
                name,
                {
                    "name": "restore",
                    "status": "failed",
                    "duration": round(time.monotonic() - started, 4),
                    "detail": "restore test error: %s" % exc,
                },
            )
        finally:
            started = time.monotonic()
            try:
                drop_database(self.p, database, force=True)
                report["dropped"] = True
                self.record(
                    name,
                    {
                        "name": "scratch_drop",
                        "status": "ok",
                        "duration": round(time.monotonic() - started, 4),
                        "detail": "scratch database %s dropped" % database,
                    },
                )
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self.record(
                    name,
                    {
                        "name": "scratch_drop",
                        "status": "failed",
                        "duration": round(time.monotonic() - started, 4),
                        "detail": "cannot drop the scratch database %s: %s (drop it by hand)" % (database, exc),
                    },
                )
        return report

    def run_queries(self, name, database, report):
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
            PostgresConnectError,
            connect,
            psycopg,
        )

        checks = self.p["restore_checks"]
        if not checks:
            return
        if not report["ok"]:
            for item in checks:
                label = item.get("name") or item["query"]
                self.quick(name, "query: %s" % label, "skipped", "the restore failed")
                report["queries"].append(
                    {"name": label, "value": None, "status": "skipped", "detail": "the restore failed"}
                )
            return
        try:
            conn = connect(self.p, dbname=database, application_name="stronghold.ops.backup_verify")
        except PostgresConnectError as exc:
            for item in checks:
                label = item.get("name") or item["query"]
                self.quick(name, "query: %s" % label, "failed", str(exc))
                report["queries"].append({"name": label, "value": None, "status": "failed", "detail": str(exc)})
            return
        try:
            for item in checks:
                label = item.get("name") or item["query"]
                started = time.monotonic()
                value = None
                try:
                    row = conn.execute(item["query"]).fetchone()
                    value = list(row.values())[0] if row else None
                except psycopg.Error as exc:
                    status, detail = "failed", "query error: %s" % str(exc).strip()
                else:
                    status, detail = compare_value(value, item.get("expect"), item.get("min"), item.get("max"))
                self.record(
                    name,
                    {
                        "name": "query: %s" % label,
                        "status": status,
                        "detail": detail,
                        "duration": round(time.monotonic() - started, 4),
                    },
                )
                report["queries"].append(
                    {"name": label, "value": None if value is None else str(value), "status": status, "detail": detail}
                )
        finally:
            conn.close()

    # --- findings and result ------------------------------------------------------------------

    def build_findings(self, checked, restore=None):
        for check in self.checks:
            if check["status"] == "ok":
                continue
            area = {
                "count": "backup.retention",
                "gaps": "backup.retention",
                "freshness": "backup.freshness",
                "size": "backup.size",
                "shrink": "backup.size",
                "settle": "backup.selection",
                "future": "backup.freshness",
                "restore": "backup.restore",
                "scratch_drop": "backup.restore",
            }.get(check["name"])
            if area is None:
                area = "backup.restore" if check["name"].startswith("query: ") else "backup.integrity"
            self.findings.append(
                make_finding(
                    area,
                    check["target"],
                    SEVERITY_OF_STATUS[check["status"]],
                    "%s: %s" % (check["name"], check["detail"]),
                    {"check": check["name"], "status": check["status"]},
                )
            )
        failed = [c for c in self.checks if c["status"] == "failed"]
        warned = [c for c in self.checks if c["status"] == "warning"]
        summary = "%d backup%s found, %d checked at level %s: %d check%s failed, %d warning%s" % (
            len(self.backups),
            "" if len(self.backups) == 1 else "s",
            len(checked),
            self.p["level"],
            len(failed),
            "" if len(failed) == 1 else "s",
            len(warned),
            "" if len(warned) == 1 else "s",
        )
        severity = "critical" if failed else ("warning" if warned else "ok")
        details = {"level": self.p["level"], "checked": [c["name"] for c in checked]}
        timed = self.current
        if timed:
            details.update(newest=timed[-1]["name"], newest_age_seconds=timed[-1]["age_seconds"])
            summary += "; newest %s, %s old" % (timed[-1]["name"], human_duration(timed[-1]["age_seconds"]))
        if self.future:
            details["future"] = [b["name"] for b in self.future]
            summary += "; %d dated in the future" % len(self.future)
        if restore:
            # The restore time is the evidence of the recovery time the backup allows.
            details.update(
                restore_seconds=restore.get("seconds"),
                restore_ok=restore.get("ok"),
                restore_queries=[
                    dict((k, q.get(k)) for k in ("name", "value", "status")) for q in restore.get("queries") or []
                ],
            )
            if restore.get("ok") and restore.get("seconds") is not None:
                passed = sum(1 for q in restore.get("queries") or [] if q.get("status") == "ok")
                summary += "; restored in %.1f s, %d of %d sanity queries passed" % (
                    restore["seconds"],
                    passed,
                    len(restore.get("queries") or []),
                )
        self.findings.insert(0, make_finding("backup.verify", self.target, severity, summary, details))

    def run(self):
        self.read_options()
        self.pg_restore = None
        if self.p["pg_bin_dir"]:
            self.pg_restore = os.path.join(self.p["pg_bin_dir"], "pg_restore")
        elif self.p["format"] != "plain":
            self.pg_restore = find_pg_restore()
        self.gather()
        self.collection_checks()
        checked = []
        selected = self.select()
        for item in selected:
            checked.append(self.check_backup(item))
        restore = None
        if self.p["level"] == "restore":
            if checked:
                restore = self.restore_test(checked[-1])
            else:
                self.quick(self.target, "restore", "failed", "no backup to restore")
        self.build_findings(checked, restore)
        latest = None
        timed = self.current
        if timed:
            newest = timed[-1]
            latest = {
                "path": newest["path"],
                "name": newest["name"],
                "time": self.iso(newest["time"]),
                "age_seconds": newest.get("age_seconds"),
                "size": newest["size"],
            }
        statuses = set(c["status"] for c in self.checks)
        status = "failed" if "failed" in statuses else ("warning" if "warning" in statuses else "ok")
        worst = worst_severity(self.findings)
        result = {
            "changed": self.changed,
            "status": status,
            "backups": list(reversed(checked)),
            "latest": latest,
            "found": len(self.backups),
            "settling": self.settling,
            "checks": self.checks,
            "restore": restore,
            "future": [
                {"path": b["path"], "name": b["name"], "time": self.iso(b["time"]), "ahead_seconds": -b["age_seconds"]}
                for b in self.future
            ],
            "findings": self.findings,
            "worst_severity": worst,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
        if severity_at_least(worst, self.p["fail_on"]):
            bad = [c for c in self.checks if SEVERITY_OF_STATUS[c["status"]] == worst]
            self.module.fail_json(
                msg="backup verification %s (%s): %s"
                % (status, worst, "; ".join("%s %s: %s" % (c["target"], c["name"], c["detail"]) for c in bad[:5])),
                **result,
            )
        self.module.exit_json(**result)


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        {
            "directory": {"type": "path"},
            "files": {"type": "list", "elements": "path"},
            "pattern": {"type": "str", "default": "backup_%Y%m%d_%H%M%S.sql.gz"},
            "timezone": {"type": "str", "default": "UTC"},
            "settle": {"type": "str", "default": "2m"},
            "which": {"type": "str", "choices": ["latest", "all", "last_n"], "default": "latest"},
            "count": {"type": "int", "default": 1},
            "max_age": {"type": "str"},
            "min_count": {"type": "int"},
            "expected_interval": {"type": "str"},
            "gap_factor": {"type": "float", "default": 1.5},
            "min_size": {"type": "str"},
            "max_shrink": {"type": "float"},
            "shrink_window": {"type": "int", "default": 7},
            "level": {"type": "str", "choices": list(LEVELS), "default": "stream"},
            "format": {"type": "str", "choices": ["auto", "plain", "custom"], "default": "auto"},
            "sidecar": {"type": "bool", "default": True},
            "require_sidecar": {"type": "bool", "default": False},
            "pg_bin_dir": {"type": "path"},
            "timeout": {"type": "str"},
            "scratch_db": {"type": "str"},
            "restore_checks": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str"},
                    "query": {"type": "str", "required": True},
                    "expect": {"type": "raw"},
                    "min": {"type": "float"},
                    "max": {"type": "float"},
                },
            },
            "fail_on": {"type": "str", "choices": ["critical", "warning", "info", "never"], "default": "critical"},
        }
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("directory", "files")],
        required_one_of=[("directory", "files")],
    )
    if module.params["level"] == "restore" and not module.check_mode:
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.stronghold.ops.plugins.module_utils._postgres import ensure_psycopg

        ensure_psycopg(module)
    Verifier(module).run()


if __name__ == "__main__":
    main()
