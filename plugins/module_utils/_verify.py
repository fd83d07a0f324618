# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""What backup_verify decides, as pure functions over what it observed.

The module observes: it lists the backups (``_backup_files.list_backups`` or
``backup_files`` for explicit files), opens and reads them (``verify_stream``,
``verify_header``), and runs the restore test. Everything it then concludes is here, plain data
in and plain data out, so that each rule is unit tested without files or a server:

* ``Settings`` checks and parses the options (one message listing every problem);
* ``Survey`` splits the listing into settling, current and future-dated backups;
* ``collection_checks`` judges them all (settle, future, count, freshness, gaps);
* ``select`` and ``history`` choose the backups checked and the sizes each is compared with;
* ``cpu_quota`` and ``choose_workers`` decide how many files are read at the same time, and
  ``read_error`` is what a reading that raised shows;
* ``check_backup`` judges one backup from its listing entry and what reading it showed;
* ``judge_restore`` and ``judge_queries`` judge the restore test and its sanity queries;
* ``Outcome`` turns the checks into findings and the module's result, and
  ``failure_message`` says whether (and why) the task fails.

A check is ``{target, name, status, detail, duration}`` with status ``ok``, ``failed``,
``warning`` or ``skipped``.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import (
    BackupPattern,
    find_gaps,
    read_backup_files,
    size_vs_median,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    parse_size,
    severity_at_least,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import read_duration
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import check_connection_params

Check = dict[str, Any]
Item = dict[str, Any]

LEVELS = ("stat", "header", "stream", "restore")
FORMATS = ("auto", "plain", "custom")
# A backup dated up to this far ahead of the host's clock is current: clocks of the host that
# names the backups and of this one may differ by a little. Further ahead is a clock or time
# zone problem, and such a backup says nothing about the recovery point.
FUTURE_ALLOWANCE = 300
SEVERITY_OF_STATUS = {"ok": "ok", "skipped": "info", "warning": "warning", "failed": "critical"}
# The finding check of each check name; the sanity queries ("query: ...") are backup.restore,
# every other check of a file backup.integrity.
AREAS = {
    "count": "backup.retention",
    "gaps": "backup.retention",
    "freshness": "backup.freshness",
    "size": "backup.size",
    "shrink": "backup.size",
    "settle": "backup.selection",
    "future": "backup.freshness",
    "restore": "backup.restore",
    "scratch_drop": "backup.restore",
}
# What a backup entry of the result holds before its checks (the keys verify_stream fills in).
STREAM_KEYS = (
    "format",
    "compressed",
    "gzip_members",
    "uncompressed_bytes",
    "marker_found",
    "sha256",
    "throughput_mbps",
    "inflate_backend",
)


# Most files read at the same time (the option ``workers``): each reader holds about 1.5 MiB of
# buffers; more readers than cores only share the same cores.
MAX_WORKERS = 64


class VerifyError(Exception):
    """The run cannot start or go on (bad options, an unreadable directory); ``result`` adds return keys."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


def check(name: str, status: str, detail: str, duration: float = 0.0, target: Optional[str] = None) -> Check:
    """One check; ``target`` (the file name or the directory) is set by whoever records it."""
    entry: Check = {} if target is None else {"target": target}
    entry.update(name=name, status=status, detail=detail, duration=round(duration, 4))
    return entry


def plural(count: int, word: str) -> str:
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def human_duration(seconds: float) -> str:
    """``3d00h``, ``1h02m``, ``5m30s`` or ``59s`` (of the absolute value)."""
    whole = int(round(abs(seconds)))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%dd%02dh" % (days, hours)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    if minutes:
        return "%dm%02ds" % (minutes, secs)
    return "%ds" % secs


def iso(when: Optional[datetime.datetime]) -> Optional[str]:
    return when.isoformat() if when is not None else None


def compare_value(
    value: Any, expect: Any = None, minimum: Optional[float] = None, maximum: Optional[float] = None
) -> tuple[str, str]:
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
    for bound, label in ((minimum, "min"), (maximum, "max")):
        if bound is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append("%s is not a number (%s %s)" % (shown, label, bound))
            continue
        if (number < bound) if label == "min" else (number > bound):
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


def target_label(directory: Optional[str], files: Optional[Sequence[str]]) -> str:
    """The target of the checks over all backups: the directory, or the files (up to three named)."""
    if directory is not None:
        return directory
    paths = list(files or [])
    return ", ".join(paths) if len(paths) <= 3 else "%d files" % len(paths)


class Settings:
    """The options of a run, checked and parsed: durations in seconds, sizes in bytes.

    ``path_problems`` are what the module found wrong on disk (a missing directory), reported
    in the same message. Raises VerifyError listing every problem.
    """

    def __init__(self, params: dict[str, Any], path_problems: Sequence[str] = ()) -> None:
        problems: list[str] = []
        self.params = params
        self.level: int = LEVELS.index(params["level"])
        self.pattern: Optional[BackupPattern] = read_backup_files(params, params["format"], problems)
        self.settle = self.duration("settle", problems)
        self.max_age = self.duration("max_age", problems)
        self.interval = self.duration("expected_interval", problems)
        self.timeout = self.duration("timeout", problems)
        self.min_size: Optional[int] = None
        if params.get("min_size") is not None:
            try:
                self.min_size = parse_size(params["min_size"])
            except FindingError as exc:
                problems.append("min_size: %s" % exc)
        if self.interval is not None and self.interval <= 0:
            problems.append("expected_interval must be longer than 0")
        if self.timeout is not None and self.timeout <= 0:
            problems.append("timeout must be longer than 0")
        problems.extend(self.number_problems(params))
        problems.extend(workers_problems(params.get("workers")))
        problems.extend(self.restore_problems(params))
        problems.extend(path_problems)
        if params.get("files") is not None and not params["files"]:
            problems.append("files is empty")
        if problems:
            raise VerifyError("; ".join(problems))

    def duration(self, name: str, problems: list[str]) -> Optional[float]:
        try:
            return read_duration(self.params, name)
        except FindingError as exc:
            problems.append(str(exc))
            return None

    @staticmethod
    def number_problems(params: dict[str, Any]) -> list[str]:
        problems = []
        if params["count"] < 1:
            problems.append("count must be at least 1, got %d" % params["count"])
        if params["min_count"] is not None and params["min_count"] < 1:
            problems.append("min_count must be at least 1, got %d" % params["min_count"])
        if params["shrink_window"] < 1:
            problems.append("shrink_window must be at least 1, got %d" % params["shrink_window"])
        if not math.isfinite(params["gap_factor"]) or params["gap_factor"] < 1:
            problems.append("gap_factor must be a finite number, at least 1, got %s" % params["gap_factor"])
        if params["max_shrink"] is not None and not 0 <= params["max_shrink"] <= 100:
            problems.append("max_shrink is a percentage between 0 and 100, got %s" % params["max_shrink"])
        if params["which"] != "last_n" and params["count"] != 1:
            problems.append("count applies only to which=last_n")
        return problems

    @staticmethod
    def restore_problems(params: dict[str, Any]) -> list[str]:
        problems = []
        if params["restore_checks"] and params["level"] != "restore":
            problems.append("restore_checks need level=restore")
        for index, item in enumerate(params["restore_checks"]):
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
        if params["level"] == "restore":
            problems.extend(check_connection_params(params))
            scratch = params.get("scratch_db")
            if scratch is not None and not scratch.strip():
                problems.append("scratch_db cannot be empty")
            if scratch and scratch in (params.get("login_db"), "postgres", "template0", "template1"):
                problems.append("scratch_db %s is not a scratch database" % scratch)
        return problems

    @property
    def pattern_text(self) -> str:
        return self.pattern.pattern if self.pattern is not None else ""


class Survey:
    """The listed backups (oldest first, undated first) split by what their names and mtimes say.

    ``settling``: modified less than ``settle`` seconds before ``now_ts`` (still being written),
    as reported in the result; ``backups``: every other one; ``future``: those dated more than
    FUTURE_ALLOWANCE ahead of ``now``; ``current``: the dated ones that are not. Listed items are
    copied, with ``age_seconds`` (and ``future``) added to the dated ones.
    """

    def __init__(
        self, listed: Sequence[Item], now: datetime.datetime, now_ts: float, settle: Optional[float] = None
    ) -> None:
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        # Backups without a usable time first, then by time: "the newest" is always one with a time.
        ordered = sorted(listed, key=lambda item: (item["time"] is not None, item["time"] or epoch, item["name"]))
        self.settling: list[Item] = []
        self.backups: list[Item] = []
        self.current: list[Item] = []
        self.future: list[Item] = []
        for original in ordered:
            item = dict(original)
            if settle and item["mtime"] is not None and now_ts - item["mtime"] < settle:
                self.settling.append(
                    {
                        "path": item["path"],
                        "name": item["name"],
                        "size": item["size"],
                        "modified_seconds_ago": round(now_ts - item["mtime"], 1),
                    }
                )
                continue
            self.backups.append(item)
            if item["time"] is None:
                continue
            age = (now - item["time"]).total_seconds()
            item["age_seconds"] = round(age, 1)
            if age < -FUTURE_ALLOWANCE:
                item["future"] = True
                self.future.append(item)
            else:
                self.current.append(item)

    @property
    def newest(self) -> Optional[Item]:
        return self.current[-1] if self.current else None


def collection_checks(survey: Survey, params: dict[str, Any], settings: Settings, target: str) -> list[Check]:
    """The checks over every backup: settle, future, count, freshness and gaps, in that order."""
    checks = [
        check(
            "settle",
            "skipped",
            "modified %ss ago, less than settle %s: still being written, not checked"
            % (item["modified_seconds_ago"], params["settle"]),
            target=item["name"],
        )
        for item in survey.settling
    ]
    for item in survey.future:
        checks.append(
            check(
                "future",
                "warning",
                "named for %s, %s ahead of this host's clock (timezone %s): a clock or time "
                "zone problem; left out of freshness, the count, gaps, the choice of the newest and the size median"
                % (iso(item["time"]), human_duration(item["age_seconds"]), params["timezone"]),
                target=item["name"],
            )
        )
    checks.append(count_check(survey, params["min_count"], settings.pattern_text, target))
    checks.append(freshness_check(survey, params["max_age"], settings.max_age, target))
    if settings.interval is not None:
        checks.append(gaps_check(survey.current, params, settings.interval, target))
    return checks


def count_check(survey: Survey, min_count: Optional[int], pattern: str, target: str) -> Check:
    count = len(survey.backups) - len(survey.future)
    not_counted = " (%d dated in the future not counted)" % len(survey.future) if survey.future else ""
    if min_count is not None:
        status = "ok" if count >= min_count else "failed"
        return check(
            "count",
            status,
            "%s found, min_count %d%s" % (plural(count, "backup"), min_count, not_counted),
            target=target,
        )
    if count == 0:
        return check("count", "failed", "no backup matching %s found%s" % (pattern, not_counted), target=target)
    return check("count", "ok", "%s found%s" % (plural(count, "backup"), not_counted), target=target)


def freshness_check(survey: Survey, option: Any, max_age: Optional[float], target: str) -> Check:
    """The newest current backup against ``max_age`` seconds (``option``: as the user wrote it)."""
    newest = survey.newest
    if newest is None and survey.future:
        return check(
            "freshness",
            "failed",
            "every dated backup (%d) is dated in the future: no backup shows when the "
            "last recovery point was taken" % len(survey.future),
            target=target,
        )
    if newest is None:
        status = "failed" if max_age is not None else "skipped"
        return check("freshness", status, "no backup with a time in its name", target=target)
    age = newest["age_seconds"]
    if max_age is None:
        detail = "newest backup %s is %s old; no max_age given" % (newest["name"], human_duration(age))
        return check("freshness", "skipped", detail, target=target)
    if age > max_age:
        detail = "newest backup %s is %s old, more than max_age %s" % (
            newest["name"],
            human_duration(age),
            option,
        )
        return check("freshness", "failed", detail, target=target)
    detail = "newest backup %s is %s old (max_age %s)" % (newest["name"], human_duration(age), option)
    return check("freshness", "ok", detail, target=target)


def gaps_check(current: Sequence[Item], params: dict[str, Any], interval: float, target: str) -> Check:
    gaps = find_gaps([b["time"] for b in current], interval, params["gap_factor"])
    if len(current) < 2:
        return check("gaps", "skipped", "fewer than 2 backups to compare", target=target)
    if gaps:
        text = ", ".join(
            "%s between %s and %s" % (human_duration(g["seconds"]), iso(g["after"]), iso(g["before"]))
            for g in gaps[:10]
        )
        return check(
            "gaps",
            "warning",
            "%d gap%s longer than %s x %s: %s"
            % (len(gaps), "" if len(gaps) == 1 else "s", params["gap_factor"], params["expected_interval"], text),
            target=target,
        )
    return check(
        "gaps",
        "ok",
        "no gap longer than %s x %s over %d backups"
        % (params["gap_factor"], params["expected_interval"], len(current)),
        target=target,
    )


def select(backups: Sequence[Item], which: str, count: int = 1) -> list[Item]:
    """The backups whose contents are checked; the newest are chosen among those not dated in the future."""
    if which == "all":
        return list(backups)
    # Undated backups sort first, so the newest is always one with a time.
    eligible = [b for b in backups if not b.get("future")]
    if which == "latest":
        return eligible[-1:]
    return eligible[-count:]


def workers_problems(workers: Any) -> list[str]:
    """What is wrong with the option ``workers`` (None: chosen from the cores)."""
    if workers is None:
        return []
    if isinstance(workers, bool) or not isinstance(workers, int):
        return ["workers must be a whole number from 1 to %d, got %r" % (MAX_WORKERS, workers)]
    if not 1 <= workers <= MAX_WORKERS:
        return ["workers must be from 1 to %d (1 reads the files one after another), got %d" % (MAX_WORKERS, workers)]
    return []


def cpu_quota(cpu_max: Optional[str]) -> Optional[float]:
    """The CPUs a cgroup v2 ``cpu.max`` (``"<quota> <period>"`` or ``"max <period>"``) allows; None: no limit."""
    if not cpu_max:
        return None
    parts = cpu_max.split()
    if not parts or parts[0] == "max":
        return None
    try:
        quota = float(parts[0])
        period = float(parts[1]) if len(parts) > 1 else 100000.0
    except ValueError:
        return None
    if not (math.isfinite(quota) and math.isfinite(period)) or quota <= 0 or period <= 0:
        return None
    return quota / period


def choose_workers(requested: Optional[int], files: int, cpus: Optional[int], quota: Optional[float] = None) -> int:
    """How many files are read at the same time: never more than the files, at least 1.

    ``requested`` is the option ``workers``; unset, one per usable CPU (``cpus``, the CPUs this
    process may run on, and the cgroup's ``quota`` in CPUs, rounded up), at most MAX_WORKERS.
    """
    if requested is not None:
        wanted = requested
    else:
        wanted = max(1, cpus or 1)
        if quota is not None:
            wanted = min(wanted, max(1, math.ceil(quota)))
        wanted = min(wanted, MAX_WORKERS)
    return max(1, min(wanted, files))


def read_error(detail: str, level: int) -> dict[str, Any]:
    """What ``verify_stream`` or ``verify_header`` would return for a file whose reading raised ``detail``.

    The file's ``read`` check fails with the error; nothing else about it is known.
    """
    verified: dict[str, Any] = {"ok": False, "checks": [check("read", "failed", "verification error: %s" % detail)]}
    verified.update(dict.fromkeys(STREAM_KEYS if level >= LEVELS.index("stream") else ("format", "compressed")))
    return verified


def history(item: Item, current: Sequence[Item], window: int) -> list[int]:
    """Sizes of the backups dated before ``item`` for its median: never a future-dated one."""
    if item["time"] is None:
        return []
    return [b["size"] for b in current if b["time"] < item["time"] and b["size"]][-window:]


def stat_check(item: Item, open_error: Optional[str], seconds: float) -> Check:
    """A regular, non-empty file that could be opened (``open_error`` from trying to)."""
    if item.get("error"):
        return check("stat", "failed", item["error"], seconds)
    if item["size"] == 0:
        return check("stat", "failed", "the file is empty (0 bytes)", seconds)
    if open_error:
        return check("stat", "failed", "cannot open: %s" % open_error, seconds)
    return check("stat", "ok", "regular file of %d bytes" % item["size"], seconds)


def size_checks(
    item: Item, previous: Sequence[int], params: dict[str, Any], min_size: Optional[int]
) -> tuple[list[Check], Optional[float], Optional[float]]:
    """The size and shrink checks of a backup of known size: (checks, median size, shrink percent)."""
    checks = []
    size = item["size"]
    if min_size is not None:
        checks.append(
            check(
                "size",
                "ok" if size >= min_size else "failed",
                "%d bytes, min_size %s (%d bytes)" % (size, params["min_size"], int(min_size)),
            )
        )
    mid, shrink = size_vs_median(size, previous)
    max_shrink = params["max_shrink"]
    if mid is None:
        if max_shrink is not None:
            checks.append(check("shrink", "skipped", "no earlier backup to compare the size with"))
        return checks, mid, shrink
    detail = "%d bytes, %s%% %s the median %d of the %s before it" % (
        size,
        abs(shrink) if shrink is not None else "?",
        "below" if (shrink or 0) >= 0 else "above",
        int(mid),
        plural(len(previous), "backup"),
    )
    if max_shrink is None:
        checks.append(check("shrink", "skipped", detail + "; no max_shrink given"))
    elif shrink is not None and shrink > max_shrink:
        checks.append(check("shrink", "failed", detail + ", more than max_shrink %s%%" % max_shrink))
    else:
        checks.append(check("shrink", "ok", detail + " (max_shrink %s%%)" % max_shrink))
    return checks, mid, shrink


def check_backup(
    item: Item,
    params: dict[str, Any],
    settings: Settings,
    previous: Sequence[int] = (),
    open_error: Optional[str] = None,
    open_seconds: float = 0.0,
    verified: Optional[dict[str, Any]] = None,
) -> tuple[Item, list[Check]]:
    """The result entry of one checked backup and its checks (each with the file name as target).

    ``item`` is the Survey's entry; ``previous`` the sizes of ``history``; ``open_error`` why
    the file could not be opened; ``verified`` what ``verify_stream`` (level stream and above) or
    ``verify_header`` (level header) returned, None when the file was not read.
    """
    entry: Item = {
        "path": item["path"],
        "name": item["name"],
        "time": iso(item["time"]),
        "size": item["size"],
        "age_seconds": item.get("age_seconds"),
        "future": bool(item.get("future")),
        "median_size": None,
        "shrink_pct": None,
    }
    entry.update(dict.fromkeys(STREAM_KEYS[:-1]))
    checks = []
    if item.get("time_error"):
        checks.append(check("name", "failed", item["time_error"]))
    elif item["time"] is None:
        checks.append(
            check(
                "name",
                "failed",
                "the name does not match the pattern %s, so the backup's time is unknown" % settings.pattern_text,
            )
        )
    checks.append(stat_check(item, open_error, open_seconds))
    if item["size"] is not None:
        sized, entry["median_size"], entry["shrink_pct"] = size_checks(item, previous, params, settings.min_size)
        checks.extend(sized)
    if verified is not None:
        for found in verified["checks"]:
            if found["name"] == "read" and found["status"] == "ok":
                continue
            if (
                found["name"] == "sha256"
                and found["status"] == "skipped"
                and params["require_sidecar"]
                and params["sidecar"]
            ):
                found = dict(found, status="failed", detail=found["detail"] + " (require_sidecar)")
            checks.append(found)
        if settings.level >= LEVELS.index("stream"):
            entry.update((key, verified.get(key)) for key in STREAM_KEYS)
            if "toc_entries" in verified:
                entry["toc_entries"] = verified["toc_entries"]
        else:
            entry.update(format=verified["format"], compressed=verified["compressed"])
    entry["checks"] = [dict(c) for c in checks]
    entry["ok"] = not any(c["status"] == "failed" for c in checks)
    return entry, [dict(c, target=item["name"]) for c in checks]


def restore_report(path: str, database: str) -> dict[str, Any]:
    """The restore test's report before anything is done."""
    return {
        "path": path,
        "database": database,
        "ok": False,
        "seconds": None,
        "created": False,
        "dropped": False,
        "command": None,
        "stderr_tail": None,
        "queries": [],
    }


def scratch_name(now: datetime.datetime, pid: int) -> str:
    return "backup_verify_%s_%d" % (now.strftime("%Y%m%d%H%M%S"), pid)


def judge_restore(database: str, outcome: dict[str, Any], elapsed: float) -> tuple[dict[str, Any], Check]:
    """(report fields, check) from what ``_pgdump.restore_file`` returned after ``elapsed`` seconds."""
    seconds = round(outcome.get("duration") or elapsed, 3)
    fields = {
        "seconds": seconds,
        "command": outcome.get("command"),
        "stderr_tail": outcome.get("stderr_tail"),
        "ok": bool(outcome.get("ok")),
    }
    if fields["ok"]:
        return fields, check("restore", "ok", "restored into %s in %ss" % (database, seconds), seconds)
    reason = (outcome.get("error") or outcome.get("stderr_tail") or "no message").strip()[-500:]
    return fields, check("restore", "failed", "restore into %s failed: %s" % (database, reason), seconds)


def judge_queries(
    items: Sequence[dict[str, Any]],
    restored: bool,
    answers: Sequence[dict[str, Any]] = (),
    connect_error: Optional[str] = None,
) -> tuple[list[dict[str, Any]], list[Check]]:
    """(the report's queries, their checks) for the ``restore_checks`` items.

    ``answers`` holds, per item asked, ``{value, error, seconds}`` (``error`` the query's
    error, None when it answered). Without a restore every query is skipped; when the scratch
    database could not be reached (``connect_error``), every one failed.
    """
    queries = []
    checks = []
    for index, item in enumerate(items):
        label = item.get("name") or item["query"]
        value = None
        seconds = 0.0
        if not restored:
            status, detail = "skipped", "the restore failed"
        elif connect_error is not None:
            status, detail = "failed", connect_error
        else:
            answer = answers[index]
            value, seconds = answer["value"], answer["seconds"]
            if answer.get("error") is not None:
                status, detail = "failed", "query error: %s" % answer["error"]
            else:
                status, detail = compare_value(value, item.get("expect"), item.get("min"), item.get("max"))
        checks.append(check("query: %s" % label, status, detail, seconds))
        queries.append(
            {"name": label, "value": None if value is None else str(value), "status": status, "detail": detail}
        )
    return queries, checks


class Outcome:
    """What a run found: its checks, the survey, the entries of the backups checked, the restore.

    ``findings()`` and ``result()`` report it; ``target`` is the directory (or the files).
    """

    def __init__(
        self,
        checks: Sequence[Check],
        survey: Survey,
        checked: Sequence[Item],
        level: str,
        target: str,
        restore: Optional[dict[str, Any]] = None,
    ) -> None:
        self.checks = list(checks)
        self.survey = survey
        self.checked = list(checked)
        self.level = level
        self.target = target
        self.restore = restore

    def findings(self) -> list[dict[str, Any]]:
        """A summary finding (backup.verify), then one finding per check that is not ok."""
        findings = [self.summary()]
        for item in self.checks:
            if item["status"] == "ok":
                continue
            area = AREAS.get(item["name"])
            if area is None:
                area = "backup.restore" if item["name"].startswith("query: ") else "backup.integrity"
            findings.append(
                make_finding(
                    area,
                    item["target"],
                    SEVERITY_OF_STATUS[item["status"]],
                    "%s: %s" % (item["name"], item["detail"]),
                    {"check": item["name"], "status": item["status"]},
                )
            )
        return findings

    def summary(self) -> dict[str, Any]:
        """The backup.verify finding: how many backups, checks failed and warnings, the newest, the restore."""
        failed = sum(1 for c in self.checks if c["status"] == "failed")
        warned = sum(1 for c in self.checks if c["status"] == "warning")
        summary = "%s found, %d checked at level %s: %s failed, %s" % (
            plural(len(self.survey.backups), "backup"),
            len(self.checked),
            self.level,
            plural(failed, "check"),
            plural(warned, "warning"),
        )
        severity = "critical" if failed else ("warning" if warned else "ok")
        details: dict[str, Any] = {"level": self.level, "checked": [c["name"] for c in self.checked]}
        newest = self.survey.newest
        if newest is not None:
            # newest_size: the size trend of the run report's charts (None when it could not be read).
            details.update(newest=newest["name"], newest_age_seconds=newest["age_seconds"], newest_size=newest["size"])
            summary += "; newest %s, %s old" % (newest["name"], human_duration(newest["age_seconds"]))
        if self.survey.future:
            details["future"] = [b["name"] for b in self.survey.future]
            summary += "; %d dated in the future" % len(self.survey.future)
        restore = self.restore
        if restore:
            queries = restore.get("queries") or []
            # The restore time is the evidence of the recovery time the backup allows.
            details.update(
                restore_seconds=restore.get("seconds"),
                restore_ok=restore.get("ok"),
                restore_queries=[{k: q.get(k) for k in ("name", "value", "status")} for q in queries],
            )
            if restore.get("ok") and restore.get("seconds") is not None:
                passed = sum(1 for q in queries if q.get("status") == "ok")
                summary += "; restored in %.1f s, %d of %d sanity queries passed" % (
                    restore["seconds"],
                    passed,
                    len(queries),
                )
        return make_finding("backup.verify", self.target, severity, summary, details)

    def result(self) -> dict[str, Any]:
        """The module's result but ``changed`` and ``peak_rss_kib`` (what the run itself knows)."""
        findings = self.findings()
        statuses = {c["status"] for c in self.checks}
        newest = self.survey.newest
        latest = None
        if newest is not None:
            latest = {
                "path": newest["path"],
                "name": newest["name"],
                "time": iso(newest["time"]),
                "age_seconds": newest.get("age_seconds"),
                "size": newest["size"],
            }
        return {
            "status": "failed" if "failed" in statuses else ("warning" if "warning" in statuses else "ok"),
            "backups": list(reversed(self.checked)),
            "latest": latest,
            "found": len(self.survey.backups),
            "settling": self.survey.settling,
            "checks": self.checks,
            "restore": self.restore,
            "future": [
                {"path": b["path"], "name": b["name"], "time": iso(b["time"]), "ahead_seconds": -b["age_seconds"]}
                for b in self.survey.future
            ],
            "findings": findings,
            "worst_severity": worst_severity(findings),
        }


def failure_message(result: dict[str, Any], fail_on: str) -> Optional[str]:
    """Why the task fails (the first five checks of the worst severity), or None when it does not."""
    worst = result["worst_severity"]
    if not severity_at_least(worst, fail_on):
        return None
    bad = [c for c in result["checks"] if SEVERITY_OF_STATUS[c["status"]] == worst]
    return "backup verification %s (%s): %s" % (
        result["status"],
        worst,
        "; ".join("%s %s: %s" % (c["target"], c["name"], c["detail"]) for c in bad[:5]),
    )
