#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: log_scan
short_description: Count log records matching named patterns in a time window, with rates and access-log metrics
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - The runbook's C(grep ERROR | tail) with a sense of time. For each log file in O(paths) and
    its rotated siblings (C(.1), C(.2.gz), dated suffixes such as C(-20261204) or
    C(.2026-12-04); plain or gzip, recognised by content), counts the B(records) that match each
    named pattern in O(patterns) within a time window and keeps the last O(patterns[].last) of
    them.
  - A record is a timestamped line with the untimestamped lines that follow it, so a Django
    traceback under one C(ERROR) line is one record, and a pattern that matches its
    C(Traceback) line counts that record once. O(patterns[].mode=lines) counts matching lines
    instead, as C(grep -c) would within the window.
  - The window ends at O(until) (now by default) and starts O(since) before it, or where the
    previous run's window ended when O(state_path) holds one (never more than O(since) back).
  - Reads only what the window needs. A plain file is bisected on its timestamps (seek,
    realign to a line, step over untimestamped continuation lines) and read from the first
    record of the window; a file last modified before the window starts is not opened; a gzip
    file is decompressed from its start and left soon after the window's end (at the first block
    of records more than a minute past it). Files are read in blocks, never whole. RV(files)
    reports the bytes read against the bytes on disk.
  - Thresholds per pattern are counts (O(patterns[].warning_count), O(patterns[].critical_count))
    and rates over B(any) sliding window (O(patterns[].rate), the runbook's failed logins above 10
    per hour), optionally per value of a named capture group (O(patterns[].group_by), a user or a
    client address); the worst window is reported with its start, end, count and group.
  - O(access_log) adds the application's access-log metrics in the same window, namely request count,
    5xx error rate (runbook warning above 5 %, target below 1 %) and response-time percentiles
    p50, p95 and p99 (runbook p95 below 200 ms). The gunicorn format with the request time in
    microseconds (C(%(D\)s)) as last field is built in.
  - Every file is opened before any is read, and each is followed by its descriptor, so a file
    renamed by logrotate during the scan is read once, as it was; a file truncated while it is
    read (its size drops below the read position) is left at that point and reported. Two files
    of one log's family with the same first line (C(copytruncate) caught between its copy and its
    truncation) are counted once, and so is one file reached under two names.
  - A path that does not exist is a finding (O(missing_severity)), not a failure. The module
    fails only on bad input (unknown option, bad regular expression, bad time format, threshold
    out of range) or when O(fail_on) is reached.
options:
  paths:
    description:
      - The live log files, such as C(/var/lib/stronghold-lab/app/logs/django.log). Their rotated
        siblings are added when O(rotated) is true. At most 100; O(paths) or O(access_log) is needed.
    type: list
    elements: path
    default: []
  rotated:
    description:
      - Also read the rotated siblings of each path in the same directory, the path followed by
        C(.N), C(-N), a date (C(.2026-12-04), C(-20261204), C(.2026-12-04_09-00-00)) and optionally
        C(.gz). Files modified before the window starts are listed but not opened.
    type: bool
    default: true
  since:
    description:
      - Length of the window, a duration (V(24h), V(1h30m)); more than 0, at most 366 days.
      - With O(state_path), the longest the window may be when the previous run is older.
    type: raw
    default: 24h
  until:
    description:
      - End of the window, an ISO 8601 time (V(2026-12-05T09:00:00Z), V(2026-12-05 09:00:00));
        without an offset it is read in O(timezone). Now by default.
      - Records after it are not counted; a gzip file is left at the first block of records more
        than a minute after it (the minute absorbs records written a little out of order).
    type: str
  state_path:
    description:
      - A file that keeps the end of this run's window (module_utils C(_state), mode 0600), so the
        next run counts from there, as C(check_logfiles) does, instead of O(since) back. A missing
        or unreadable state file gives an V(info) finding and the O(since) window. Never written
        in check mode. Use one file per host and set of O(paths).
    type: path
  timestamp_format:
    description:
      - How a record's first line carries its time.
      - V(auto) recognises the next three in each file, from its first lines.
      - V(iso8601) and V(python) (the same parser) read a time at the start of the line, such as
        C(2026-12-05T09:21:10.177Z), C(2026-12-05 09:21:10+00:00), and the Django/Python logging
        default C(2026-12-05 09:21:10,177).
      - V(gunicorn) reads the first C([05/Dec/2026:09:21:10 +0000]) of the line (access logs).
      - Anything else is a C(strptime) format matched at the start of the line, such as
        V(%d.%m.%Y %H:%M:%S) or V(%b %d %H:%M:%S) (a format without a year takes the year of the
        window's end).
    type: str
    default: auto
  timezone:
    description:
      - IANA time zone of timestamps without an offset (and of O(until) without one), such as
        V(UTC) or V(Europe/Berlin). At a DST fall-back the repeated hour is read as its first
        occurrence.
    type: str
    default: UTC
  patterns:
    description:
      - The named patterns to count. Each name once. May be empty when only O(access_log) is wanted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the pattern in RV(patterns) and in its finding (letters, digits, C(_), C(-), C(.)).
        type: str
        required: true
      regex:
        description:
          - A Python regular expression searched from each line (not anchored; C(^) and C($) are
            line anchors), such as V(\\bERROR\\b) or V(security_event=failed_login). A record
            matches when any of its lines does. A pattern that can match a line end (C(\\s)) may
            run into the record's next line.
          - May be left out for a built-in O(patterns[].name), which then also brings its defaults
            (given options win). V(errors) (C(ERROR) or C(CRITICAL) records of the Django/Python
            format), V(warnings), V(tracebacks), V(failed_logins) (the lab's
            C(security_event=failed_login username="..." client_ip=...), grouped by C(client_ip), rate
            above 10 per 1h a warning as in the runbook) and V(security_events) (grouped by C(event)).
            Any other name without a regex is an error.
        type: str
      mode:
        description:
          - V(records) counts records (a timestamped line and its continuation lines) that match;
            V(lines) counts matching lines, as C(grep -c) does, within the window.
        type: str
        choices: [records, lines]
        default: records
      last:
        description: How many of the last matching records to return (0 to 1000); each is cut at 8 KiB.
        type: int
        default: 10
      warning_count:
        description: A count above this (in the whole window) is a warning; none by default.
        type: int
      critical_count:
        description: A count above this is critical; none by default. At least O(patterns[].warning_count).
        type: int
      rate:
        description:
          - A rate threshold over any sliding window of the scan window, for example count V(10), per
            V(1h) and severity V(warning) for the runbook's "failed login attempts > 10/hour".
        type: dict
        suboptions:
          count:
            description: More than this many records within O(patterns[].rate.per) reaches the threshold (0 to 10^9).
            type: int
            required: true
          per:
            description: Width of the sliding window, a duration (V(1h), V(10m)); more than 0, at most O(since).
            type: raw
            default: 1h
          severity:
            description: Severity of the finding when the threshold is reached.
            type: str
            choices: [info, warning, critical]
            default: warning
      group_by:
        description:
          - Name of a named capture group of O(patterns[].regex), such as V(client_ip) in
            V(failed_login username="(?P<user>[^"]*)" client_ip=(?P<client_ip>\\S+)). The rate is
            then counted per value of the group, and RV(patterns) gives the count per group.
        type: str
  access_log:
    description:
      - Request count, 5xx error rate and response-time percentiles from an access log in the
        same window.
    type: dict
    suboptions:
      path:
        description: The live access log, such as C(/var/lib/stronghold-lab/app/logs/access.log).
        type: path
        required: true
      rotated:
        description: Also read its rotated siblings, as O(rotated).
        type: bool
        default: true
      format:
        description:
          - V(gunicorn) is gunicorn's C(access_log_format)
            C(%(h\)s %(l\)s %(u\)s %(t\)s "%(r\)s" %(s\)s %(b\)s "%(f\)s" "%(a\)s" %(D\)s), the combined
            format with the request time (in O(access_log.time_unit)) as last field.
          - V(regex) uses O(access_log.regex).
        type: str
        choices: [gunicorn, regex]
        default: gunicorn
      regex:
        description:
          - With O(access_log.format=regex), a regular expression searched in each line with the
            named groups C(status) (the HTTP status) and C(time) (the request time, a number in
            O(access_log.time_unit)); C(time) may be left out, then no percentiles.
        type: str
      time_unit:
        description: Unit of the request time field (gunicorn's C(%(D\)s) is microseconds).
        type: str
        choices: [us, ms, s]
        default: us
      timestamp_format:
        description: As O(timestamp_format), for the access log.
        type: str
        default: gunicorn
      error_rate_target:
        description:
          - The runbook's key metric (error rate below 1 %); a 5xx rate above it but not above
            O(access_log.error_rate_warning) is an V(info) finding. A percentage from 0 to 100.
        type: float
        default: 1
      error_rate_warning:
        description: A 5xx share of the requests above this percentage is a warning (runbook, 5 %).
        type: float
        default: 5
      error_rate_critical:
        description: A 5xx share above this percentage is critical; none by default.
        type: float
      p95_warning_ms:
        description: A 95th percentile response time above this many milliseconds is a warning (runbook, 200 ms).
        type: float
        default: 200
      p95_critical_ms:
        description: A 95th percentile above this many milliseconds is critical; none by default.
        type: float
      min_requests:
        description:
          - Fewer requests than this in the window give an V(info) finding instead of judging the
            error rate and percentiles on too few samples (0 to 10^9).
        type: int
        default: 20
  missing_severity:
    description: Severity of the finding for a path in O(paths) (or O(access_log.path)) that does not exist.
    type: str
    choices: [info, warning, critical]
    default: warning
  fail_on:
    description:
      - Fail the task when a finding reaches this severity. V(never), the default, only reports;
        the C(logs) role and the report decide.
    default: never
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.durations
  - stronghold.ops.fail_on
  - stronghold.ops.findings
attributes:
  check_mode:
    details: The scan is read-only and runs in check mode too; O(state_path) is not written.
notes:
  - Timestamps must be mostly ascending within a file (the order a logger writes them). Records
    up to a minute out of order, as several workers writing one file produce, are still counted
    exactly at the window's edges; time going back further is reported (RV(files[].time_went_back)).
    Rotated files are ordered by their modification time.
  - Lines that are not valid UTF-8 are read with replacement characters; patterns match the text.
  - The module reports C(changed=false) even when it writes O(state_path); the state is its own
    bookkeeping, not a change of the host.
seealso:
  - name: dategrep (bisection on timestamps, multi-line records)
    description: The window model this module follows.
    link: https://github.com/mdom/dategrep
  - name: fail2ban filter (findtime, per-host counts, seekToTime)
    description: The sliding-window rate per group that O(patterns[].rate) generalises.
    link: https://github.com/fail2ban/fail2ban/blob/master/fail2ban/server/filter.py
"""

EXAMPLES = r"""
- name: Errors, tracebacks and failed logins of the last 24 hours (runbook "Review Error Logs")
  stronghold.ops.log_scan:
    paths:
      - /var/lib/stronghold-lab/app/logs/django.log
    since: 24h
    patterns:
      # Built-in names: their regex (and, for failed_logins, the runbook's rate per client address).
      - name: errors
        last: 5
        warning_count: 0
      - name: tracebacks
      - name: failed_logins
  register: app_logs

- name: The same with explicit regular expressions, grouped by user instead
  stronghold.ops.log_scan:
    paths:
      - /var/lib/stronghold-lab/app/logs/django_errors.log
      - /var/lib/stronghold-lab/app/logs/security.log
    since: 24h
    patterns:
      - name: server_errors
        regex: '^\S+ \S+ ERROR django\.request '
      - name: failed_logins_by_user
        regex: 'security_event=failed_login username="(?P<user>[^"]*)" client_ip=(?P<client_ip>\S+)'
        rate: {count: 10, per: 1h, severity: warning}
        group_by: user

- name: Access-log metrics against the runbook (5xx share above 5 %, p95 above 200 ms)
  stronghold.ops.log_scan:
    paths: []
    access_log:
      path: /var/lib/stronghold-lab/app/logs/access.log
    since: 1h

- name: Security events since the previous run (the state file keeps where it ended)
  stronghold.ops.log_scan:
    paths: [/var/lib/stronghold-lab/app/logs/security.log]
    state_path: /var/lib/stronghold-ops/log_scan.security.json
    since: 7d
    patterns:
      - name: security_events
        regex: 'security_event=(?P<event>\w+)'
        group_by: event

- name: An incident window, as evidence (absolute end, a syslog-style format without year)
  stronghold.ops.log_scan:
    paths: [/var/log/auth.log]
    until: '2026-12-05T10:00:00Z'
    since: 2h
    timestamp_format: '%b %d %H:%M:%S'
    timezone: Europe/Berlin
    patterns:
      - name: sshd_failures
        regex: 'sshd\[\d+\]: Failed password for (?:invalid user )?(?P<user>\S+) from (?P<ip>\S+)'
        group_by: ip
        rate: {count: 20, per: 10m, severity: critical}
"""

RETURN = r"""
window:
  description: The window that was scanned, in UTC ISO 8601, and whether its start came from O(state_path).
  returned: always
  type: dict
  contains:
    start:
      description: Start of the window (records strictly after it count).
      type: str
      sample: '2026-12-04T15:20:00+00:00'
    end:
      description: End of the window (records at or before it count).
      type: str
      sample: '2026-12-05T15:20:00+00:00'
    from_state:
      description: True when the start is the end of the previous run's window.
      type: bool
      sample: false
  sample: {start: '2026-12-04T15:20:00+00:00', end: '2026-12-05T15:20:00+00:00', from_state: false}
patterns:
  description: Per pattern name, what matched in the window.
  returned: always
  type: dict
  contains:
    count:
      description: Matching records (or lines, with O(patterns[].mode=lines)) in the window.
      type: int
      sample: 14
    mode:
      description: O(patterns[].mode), what RV(patterns.count) counts.
      type: str
      sample: records
    last:
      description: The last O(patterns[].last) matching records, oldest first.
      type: list
      elements: dict
      contains:
        timestamp:
          description: Time of the record, UTC ISO 8601.
          type: str
          sample: '2026-12-05T09:21:30.589000+00:00'
        path:
          description: The file it was read from.
          type: str
          sample: /var/lib/stronghold-lab/app/logs/django_errors.log
        text:
          description: The record, its continuation lines included, cut at 8 KiB (then ending with C([...])).
          type: str
          sample: "2026-12-05 09:21:30,589 ERROR django.request [pid 18] Internal Server Error: /api/v1/x/\nTraceback ..."
        group:
          description: Value of the O(patterns[].group_by) group; null without it.
          type: str
          sample: 127.0.0.1
    groups:
      description: With O(patterns[].group_by), the count per group value (the 100 largest).
      type: dict
      sample: {127.0.0.1: 12, 10.0.0.7: 2}
    worst_window:
      description:
        - The sliding window of width O(patterns[].rate.per) with the most records (per group with
          O(patterns[].group_by)); null without O(patterns[].rate) or without matches.
      type: dict
      contains:
        start:
          description: Time of the first record of that window, UTC ISO 8601.
          type: str
          sample: '2026-12-05T09:21:26.075000+00:00'
        end:
          description: Time of the last record of that window.
          type: str
          sample: '2026-12-05T09:21:30.167000+00:00'
        count:
          description: Records in that window.
          type: int
          sample: 12
        group:
          description: The group value it belongs to; null without O(patterns[].group_by).
          type: str
          sample: 127.0.0.1
  sample:
    failed_logins:
      count: 14
      last: []
      groups: {127.0.0.1: 14}
      worst_window: {start: '2026-12-05T09:21:26.075000+00:00', end: '2026-12-05T09:21:30.167000+00:00',
                     count: 14, group: 127.0.0.1}
files:
  description: Every file considered, in reading order, with what reading it cost.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /var/lib/stronghold-lab/app/logs/django.log.2.gz
    role:
      description: V(live), V(rotated) or V(access).
      type: str
      sample: rotated
    compressed:
      description: True for a gzip file.
      type: bool
      sample: true
    size:
      description: Bytes on disk when it was opened (compressed size for gzip).
      type: int
      sample: 1048576
    bytes_read:
      description: Bytes read from disk (compressed bytes for gzip), bisection probes included.
      type: int
      sample: 65536
    first_timestamp:
      description: Time of the first record read in the window, UTC ISO 8601; null when none.
      type: str
      sample: '2026-12-04T15:20:00.103000+00:00'
    last_timestamp:
      description: Time of the last record read in the window; null when none.
      type: str
      sample: '2026-12-05T15:19:59.194000+00:00'
    skipped_reason:
      description:
        - Why the file was not read or not read to its end; null when it was read as planned.
          C(missing), C(modified before the window), C(same content as ...), C(unreadable) with the reason,
          C(rotated during the scan) (read whole, as it was), C(truncated during the scan).
      type: str
      sample: modified before the window
    time_went_back:
      description:
        - The first time, UTC ISO 8601, at which a block of the file starts more than a minute
          before the previous block ended (a DST fall-back read in local time, interleaved
          sources); null when the times kept ascending. It also gives an V(info) finding.
      type: str
      sample: null
  sample:
    - {path: /var/log/app/django.log, role: live, compressed: false, size: 2147483648, bytes_read: 71303168,
       first_timestamp: '2026-12-04T15:20:00.103000+00:00', last_timestamp: '2026-12-05T15:19:59.194000+00:00',
       skipped_reason: null, time_went_back: null}
access:
  description: Access-log metrics in the window; null without O(access_log).
  returned: always
  type: dict
  contains:
    requests:
      description: Requests (lines with a status) in the window.
      type: int
      sample: 1520
    errors_5xx:
      description: Requests answered with a 5xx status.
      type: int
      sample: 3
    error_rate:
      description: Percentage of 5xx answers; null without requests.
      type: float
      sample: 0.2
    p50_ms:
      description: Median response time in milliseconds (nearest rank); null without times.
      type: float
      sample: 12.4
    p95_ms:
      description: 95th percentile response time in milliseconds (nearest rank).
      type: float
      sample: 88.0
    p99_ms:
      description: 99th percentile response time in milliseconds (nearest rank).
      type: float
      sample: 240.5
    unparsed:
      description: Lines in the window that did not match the access format.
      type: int
      sample: 0
  sample: {requests: 1520, errors_5xx: 3, error_rate: 0.2, p50_ms: 12.4, p95_ms: 88.0, p99_ms: 240.5, unparsed: 0}
findings:
  description:
    - C(logs.pattern) per pattern (target the pattern name), C(logs.file) per missing or
      unreadable file or one without a recognised timestamp, C(logs.access.errors) and
      C(logs.access.latency) with O(access_log), C(logs.state) when the state file could not be
      used or written.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check, as listed above.
      type: str
      sample: logs.pattern
    target:
      description: The pattern name, the file, or the access log.
      type: str
      sample: failed_logins
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
      sample: warning
    summary:
      description: One line for the on-call person.
      type: str
      sample: 'failed_logins: 14 in the window; 12 within 1h (127.0.0.1, 09:21:26 to 09:21:30), above 10 per 1h'
    details:
      description: count, thresholds, worst_window and the files read.
      type: dict
      sample: {count: 14, rate: {count: 10, per_seconds: 3600, severity: warning}}
  sample:
    - check: logs.pattern
      target: failed_logins
      severity: warning
      summary: 'failed_logins: 14 in the window; 12 within 1h (127.0.0.1, 09:21:26 to 09:21:30), above 10 per 1h'
      details: {count: 14}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: warning
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._logscan import (
    ARGUMENT_SPEC,
    STATE_KIND,
    STATE_VERSION,
    LogScanError,
    build_result,
    check_options,
    choose_window,
    state_data,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_read import scan
from ansible_collections.stronghold.ops.plugins.module_utils._state import StateError, load_state, save_state


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        settings = check_options(module.params)
        state, problem = load_state(settings["state_path"], STATE_KIND, STATE_VERSION)
        window = choose_window(settings, state)
        observed = scan(settings, window)
        saved = None
        if settings["state_path"] and not module.check_mode:
            try:
                save_state(settings["state_path"], STATE_KIND, STATE_VERSION, state_data(window, settings))
            except StateError as exc:
                saved = str(exc)
        result = build_result(settings, window, observed, state_problem=problem, save_problem=saved)
    except LogScanError as exc:
        result = {"msg": str(exc)}
    if "msg" in result:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
