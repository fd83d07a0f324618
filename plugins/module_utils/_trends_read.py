# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The kept per-host reports, read back from disk for the trends of the run report.

run_report keeps ``<report_dir>/<host>/<run>/<stamp>.json`` (stamp ``20261127T101500Z`` or
``20261127T101500Z-1``) beside ``latest.json``. ``read_kept_reports`` gathers, for each host and
across every run (daily, weekly, ...), the stamped documents since a given time, newest first and
bounded per host. It chooses the files from their names before opening any, so a directory of a
hundred thousand reports costs a listing, not a hundred thousand reads. A bad file is a problem
in the list it returns, never an exception: a trend with a gap is better than no page.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._report import SCHEMA, STAMP_FORMAT, STAMPED

# A kept report is a few KiB to a few MiB; anything larger is not one of ours (or is damaged).
MAX_FILE_BYTES = 16 * 1024 * 1024
# Only the names run_report writes: never latest.json, *.json.tmp or a copy named by hand.
# How many problems are listed; beyond that, one line counts the rest.
MAX_PROBLEMS = 50


def stamp_time(name: str) -> Optional[tuple[datetime, int]]:
    """(UTC time, counter) of a stamped report file name, or None for any other name."""
    match = STAMPED.match(name)
    if not match or match.group(4) != "json":
        return None
    try:
        when = datetime.strptime(match.group(2), STAMP_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return when, int(match.group(3) or 0)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _inside(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _candidates(report_dir: str, root: str, host: str, since: datetime, problems: list[str]) -> list[Any]:
    """(time, counter, run, path) of the host's stamped files since ``since``, from names only."""
    host_dir = os.path.join(report_dir, host)
    if not os.path.lexists(host_dir):
        return []
    if not os.path.isdir(host_dir):
        problems.append("%s: not a directory, no report of host %s read" % (host_dir, host))
        return []
    if not _inside(host_dir, root):
        problems.append("%s: leads outside %s, not read" % (host_dir, report_dir))
        return []
    found = []
    try:
        runs = sorted(os.listdir(host_dir))
    except OSError as exc:
        problems.append("%s: cannot list: %s" % (host_dir, exc.strerror or exc))
        return []
    for run in runs:
        run_dir = os.path.join(host_dir, run)
        if not os.path.isdir(run_dir):
            continue
        try:
            names = os.listdir(run_dir)
        except OSError as exc:
            problems.append("%s: cannot list: %s" % (run_dir, exc.strerror or exc))
            continue
        for name in names:
            stamped = stamp_time(name)
            if stamped is not None and stamped[0] >= since:
                found.append((stamped[0], stamped[1], run, os.path.join(run_dir, name)))
    found.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
    return found


def read_report(path: str, root: str, host: str) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """(document, None) or (None, the problem) for one kept report file."""
    try:
        # Whatever leads out (the file, its run directory or host directory a link): not ours.
        if not _inside(path, root):
            return None, "%s: a link that leads outside the report directory, not read" % path
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, "%s: not a regular file" % path
        if info.st_size > MAX_FILE_BYTES:
            return None, "%s: %d bytes, larger than %d: not a kept report" % (path, info.st_size, MAX_FILE_BYTES)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, "%s: cannot read: %s" % (path, exc.strerror or exc)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, "%s: not a JSON report (cut or damaged?): %s" % (path, str(exc)[:200])
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        return None, "%s: not a %s document" % (path, SCHEMA)
    if not isinstance(document.get("findings"), list):
        return None, "%s: no findings list" % path
    if document.get("host") != host:
        return None, "%s: the report is of host %r, not %r" % (path, document.get("host"), host)
    return document, None


def read_kept_reports(
    report_dir: str, hosts: list[str], since: datetime, max_files: int = 500
) -> tuple[list[dict[str, Any]], list[str]]:
    """The kept run reports of ``hosts`` stamped at or after ``since`` (newest first per host, at most
    ``max_files`` per host, every run of the host), and the problems met (each naming its path).

    Only files named as run_report stamps them are read; documents that are not
    ``stronghold.ops/run-report/v1`` with a findings list, that name another host, that are larger
    than MAX_FILE_BYTES, or that are links leading out of ``report_dir`` are problems, not reports.
    A naive ``since`` is taken as UTC. Never raises for what is on disk.
    """
    reports: list[dict[str, Any]] = []
    problems: list[str] = []
    if not os.path.isdir(report_dir):
        return reports, ["%s: not a directory, no kept report read" % report_dir]
    root = os.path.realpath(report_dir)
    since = _utc(since)
    seen: set[str] = set()
    for host in hosts:
        if not isinstance(host, str) or not host.strip() or "/" in host or host in (".", "..") or "\0" in host:
            problems.append("host %r cannot name a report directory, skipped" % (host,))
            continue
        if host in seen:
            continue
        seen.add(host)
        for _when, _counter, _run, path in _candidates(report_dir, root, host, since, problems)[: max(max_files, 0)]:
            document, problem = read_report(path, root, host)
            if problem is not None:
                problems.append(problem)
            elif document is not None:
                reports.append(document)
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + ["%d more problem(s) not listed" % (len(problems) - MAX_PROBLEMS)]
    return reports, problems
