# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_verify run in-process on files written here: selection, freshness, retention, size,
fail_on and bad input. The restore level needs a server and is tested in
tests/integration/targets/backup_verify."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import os
import time

import pytest

from ansible_collections.stronghold.ops.plugins.modules import backup_verify

DUMP = (
    b"--\n-- PostgreSQL database dump\n--\n"
    + b"SELECT 1;\n" * 5000
    + b"--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict k\n"
)
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
HOUR_AGO = time.time() - 3600


def write(directory, when, data=None, fresh=False, sidecar=True):
    data = gzip.compress(DUMP) if data is None else data
    path = directory / when.strftime("backup_%Y%m%d_%H%M%S.sql.gz")
    path.write_bytes(data)
    if sidecar:
        (directory / (path.name + ".sha256")).write_text("%s  %s\n" % (hashlib.sha256(data).hexdigest(), path.name))
    if not fresh:
        os.utime(str(path), (HOUR_AGO, HOUR_AGO))
    return path


def daily(directory, days, skip=()):
    for n in range(days):
        if n not in skip:
            write(directory, NOW - datetime.timedelta(hours=1, days=n))


def by_name(result, name):
    return [c for c in result["checks"] if c["name"] == name]


def test_healthy_week(run_module, tmp_path):
    daily(tmp_path, 7)
    result = run_module(
        backup_verify.main,
        {"directory": str(tmp_path), "max_age": "26h", "min_count": 7, "expected_interval": "1d", "max_shrink": 20},
    ).result
    assert result["status"] == "ok" and not result["changed"]
    assert result["found"] == 7 and len(result["backups"]) == 1
    assert result["backups"][0]["marker_found"]
    assert result["worst_severity"] == "ok"
    assert 3500 < result["latest"]["age_seconds"] < 3700


def test_stale_by_name_even_with_a_fresh_mtime(run_module, tmp_path):
    path = write(tmp_path, NOW - datetime.timedelta(days=3))
    os.utime(str(path), (time.time() - 600, time.time() - 600))
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "26h"})
    assert outcome.failed
    assert "more than max_age 26h" in outcome.result["msg"]
    assert by_name(outcome.result, "freshness")[0]["status"] == "failed"


def test_settle_skips_the_file_being_written(run_module, tmp_path):
    daily(tmp_path, 2)
    write(tmp_path, NOW, data=gzip.compress(DUMP)[:100], fresh=True, sidecar=False)
    result = run_module(backup_verify.main, {"directory": str(tmp_path)}).result
    assert result["status"] == "ok"
    assert len(result["settling"]) == 1 and result["found"] == 2
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "settle": "0"})
    assert outcome.failed and outcome.result["found"] == 3


def test_every_check_runs_and_gaps_warn(run_module, tmp_path):
    daily(tmp_path, 6, skip=(2, 3))
    write(tmp_path, NOW - datetime.timedelta(minutes=30), data=gzip.compress(DUMP[:100]), sidecar=False)
    result = run_module(
        backup_verify.main,
        {"directory": str(tmp_path), "expected_interval": "1d", "min_count": 10, "max_shrink": 50, "fail_on": "never"},
    ).result
    statuses = dict((c["name"], c["status"]) for c in result["checks"])
    assert statuses["count"] == "failed" and statuses["gaps"] == "warning"
    assert statuses["shrink"] == "failed" and statuses["marker"] == "failed"
    assert result["status"] == "failed"
    severities = sorted(f["severity"] for f in result["findings"] if f["check"] != "backup.verify")
    assert severities.count("critical") == 3 and "warning" in severities


def test_fail_on_warning(run_module, tmp_path):
    daily(tmp_path, 4, skip=(1, 2))
    assert not run_module(backup_verify.main, {"directory": str(tmp_path), "expected_interval": "1d"}).failed
    outcome = run_module(
        backup_verify.main, {"directory": str(tmp_path), "expected_interval": "1d", "fail_on": "warning"}
    )
    assert outcome.failed and "1 gap" in outcome.result["msg"]


def test_which(run_module, tmp_path):
    daily(tmp_path, 5)
    assert len(run_module(backup_verify.main, {"directory": str(tmp_path), "which": "all"}).result["backups"]) == 5
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "which": "last_n", "count": 2}).result
    assert [b["name"] for b in result["backups"]] == sorted((b["name"] for b in result["backups"]), reverse=True)
    assert len(result["backups"]) == 2


def test_empty_directory(run_module, tmp_path):
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path)})
    assert outcome.failed and "no backup matching" in outcome.result["msg"]


def test_check_mode_restore_is_skipped(run_module, tmp_path):
    daily(tmp_path, 1)
    result = run_module(
        backup_verify.main,
        {
            "directory": str(tmp_path),
            "level": "restore",
            "_ansible_check_mode": True,
            "restore_checks": [{"query": "SELECT 1", "expect": 1}],
        },
    ).result
    assert not result["changed"] and result["restore"] is None
    assert by_name(result, "restore")[0]["status"] == "skipped"


@pytest.mark.parametrize(
    "args, message",
    [
        ({"directory": "/nonexistent"}, "backup directory /nonexistent does not exist"),
        ({"pattern": "backup.sql.gz"}, "has no time fields"),
        ({"which": "last_n", "count": 0}, "count must be at least 1"),
        ({"count": 3}, "count applies only to which=last_n"),
        ({"min_count": 0}, "min_count must be at least 1"),
        ({"max_age": "soon"}, "max_age: cannot read 'soon'"),
        ({"settle": "-5"}, "settle: a duration cannot be negative"),
        ({"expected_interval": "0"}, "expected_interval must be longer than 0"),
        ({"gap_factor": 0.5}, "gap_factor must be a finite number, at least 1"),
        ({"shrink_window": 0}, "shrink_window must be at least 1"),
        ({"timezone": "Nowhere/City"}, "unknown time zone"),
        ({"level": "restore", "restore_checks": [{"query": "SELECT 1"}]}, "needs expect, min or max"),
        ({"level": "restore", "restore_checks": [{"query": "SELECT 1", "min": 5, "max": 1}]}, "min 5.0 above max 1.0"),
        ({"level": "restore", "scratch_db": "postgres"}, "is not a scratch database"),
    ],
)
def test_bad_input(run_module, tmp_path, args, message):
    daily(tmp_path, 1)
    outcome = run_module(backup_verify.main, dict({"directory": str(tmp_path)}, **args))
    assert outcome.failed and message in outcome.result["msg"]
    assert "checks" not in outcome.result


# --- backups dated in the future -------------------------------------------------------------


def check(result, name, target=None):
    found = [c for c in result["checks"] if c["name"] == name and (target is None or c["target"] == target)]
    assert len(found) == 1, result["checks"]
    return found[0]


def stale_week_and_tomorrow(directory, future_data=None):
    for n in range(3, 10):
        write(directory, NOW - datetime.timedelta(days=n))
    return write(directory, NOW + datetime.timedelta(days=1), data=future_data)


def test_a_future_file_does_not_hide_a_missed_rpo(run_module, tmp_path):
    tomorrow = stale_week_and_tomorrow(tmp_path)
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "26h"})
    result = outcome.result
    assert outcome.failed and "more than max_age 26h" in result["msg"]
    newest_real = (NOW - datetime.timedelta(days=3)).strftime("backup_%Y%m%d_%H%M%S.sql.gz")
    assert check(result, "freshness")["status"] == "failed"
    assert newest_real in check(result, "freshness")["detail"]
    future = check(result, "future", tomorrow.name)
    assert future["status"] == "warning" and "ahead of this host's clock" in future["detail"]
    assert result["latest"]["name"] == newest_real
    assert [f["name"] for f in result["future"]] == [tomorrow.name]
    assert 86000 < result["future"][0]["ahead_seconds"] < 86500
    # which=latest checks the real newest backup, not the future one.
    assert [b["name"] for b in result["backups"]] == [newest_real]
    assert "1 dated in the future" in result["findings"][0]["summary"]


def test_which_latest_skips_and_which_all_checks_the_future_file(run_module, tmp_path):
    tomorrow = stale_week_and_tomorrow(tmp_path, future_data=gzip.compress(DUMP)[:-20])
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "which": "last_n", "count": 2}).result
    assert tomorrow.name not in [b["name"] for b in result["backups"]] and result["status"] == "warning"
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "which": "all", "fail_on": "never"}).result
    by = dict((b["name"], b) for b in result["backups"])
    assert len(by) == 8 and by[tomorrow.name]["future"] and not by[tomorrow.name]["ok"]


def test_future_files_are_left_out_of_gaps_count_and_median(run_module, tmp_path):
    daily(tmp_path, 5)
    # Far ahead (a gap of 30 days if it counted), and much larger (a shrink if it counted).
    write(tmp_path, NOW + datetime.timedelta(days=30), data=gzip.compress(DUMP * 50, 1))
    second = write(tmp_path, NOW + datetime.timedelta(days=31))
    result = run_module(
        backup_verify.main,
        {
            "directory": str(tmp_path),
            "which": "all",
            "expected_interval": "1d",
            "min_count": 6,
            "max_shrink": 20,
            "shrink_window": 1,
            "fail_on": "never",
        },
    ).result
    assert check(result, "gaps")["status"] == "ok" and "over 5 backups" in check(result, "gaps")["detail"]
    assert check(result, "count")["status"] == "failed"
    assert check(result, "count")["detail"] == "5 backups found, min_count 6 (2 dated in the future not counted)"
    assert check(result, "shrink", second.name)["status"] == "ok"
    assert [c["status"] for c in result["checks"] if c["name"] == "future"] == ["warning", "warning"]


def test_every_backup_in_the_future_is_no_backup(run_module, tmp_path):
    write(tmp_path, NOW + datetime.timedelta(days=1))
    write(tmp_path, NOW + datetime.timedelta(days=2))
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path)})
    result = outcome.result
    assert outcome.failed and result["worst_severity"] == "critical"
    assert check(result, "freshness")["status"] == "failed"
    assert "every dated backup (2) is dated in the future" in check(result, "freshness")["detail"]
    assert check(result, "count")["status"] == "failed"
    assert result["latest"] is None and result["backups"] == []


def test_a_little_clock_skew_is_current(run_module, tmp_path):
    daily(tmp_path, 2)
    write(tmp_path, NOW + datetime.timedelta(minutes=2))
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "26h"}).result
    assert result["status"] == "ok" and result["future"] == []
    assert result["backups"][0]["name"] == (NOW + datetime.timedelta(minutes=2)).strftime("backup_%Y%m%d_%H%M%S.sql.gz")


def test_future_depends_on_the_timezone(run_module, tmp_path):
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    write(tmp_path, (NOW - datetime.timedelta(hours=1)).astimezone(tokyo))
    utc = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "2h", "fail_on": "never"}).result
    assert utc["future"] and check(utc, "freshness")["status"] == "failed"
    local = run_module(
        backup_verify.main, {"directory": str(tmp_path), "max_age": "2h", "timezone": "Asia/Tokyo"}
    ).result
    assert local["status"] == "ok" and local["future"] == []


# --- extreme legal values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, timezone",
    [
        ("backup_00010101_000000.sql.gz", "local"),
        ("backup_00010101_000000.sql.gz", "Asia/Tokyo"),
        ("backup_99991231_235959.sql.gz", "America/New_York"),
    ],
)
def test_names_at_the_ends_of_the_calendar(run_module, tmp_path, name, timezone):
    write(tmp_path, NOW - datetime.timedelta(days=2))
    (tmp_path / name).write_bytes(gzip.compress(DUMP))
    os.utime(str(tmp_path / name), (HOUR_AGO, HOUR_AGO))
    result = run_module(
        backup_verify.main, {"directory": str(tmp_path), "timezone": timezone, "which": "all", "fail_on": "never"}
    ).result
    odd = [b for b in result["backups"] if b["name"] == name][0]
    if timezone == "local" and name.startswith("backup_0001") and odd["time"] is not None:
        return  # the host's zone is UTC: year 1 is representable
    assert odd["time"] is None and odd["checks"][0]["name"] == "name"
    assert "cannot be placed in time zone" in odd["checks"][0]["detail"]
    assert result["latest"]["name"] != name


def test_year_9999_is_far_in_the_future(run_module, tmp_path):
    daily(tmp_path, 1)
    write(tmp_path, datetime.datetime(9999, 12, 31, 23, 59, 59))
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "36500d"}).result
    assert result["status"] == "warning" and result["future"][0]["name"] == "backup_99991231_235959.sql.gz"


@pytest.mark.parametrize(
    "args, message",
    [
        ({"max_age": "99999d"}, "max_age"),
        ({"settle": "1e300"}, "settle"),
        ({"timeout": "999999999d"}, "timeout"),
        ({"expected_interval": "inf"}, "expected_interval"),
        ({"max_age": "nan"}, "max_age"),
        ({"min_size": "1e30"}, "min_size"),
        ({"gap_factor": float("nan")}, "gap_factor must be a finite number"),
        ({"gap_factor": float("inf")}, "gap_factor must be a finite number"),
        ({"max_shrink": float("nan")}, "max_shrink is a percentage"),
        (
            {"level": "restore", "restore_checks": [{"query": "SELECT 1", "min": float("nan")}]},
            "must be a finite number",
        ),
        (
            {"level": "restore", "restore_checks": [{"query": "SELECT 1", "max": float("inf")}]},
            "must be a finite number",
        ),
    ],
)
def test_absurd_values_fail_clearly(run_module, tmp_path, args, message):
    daily(tmp_path, 1)
    outcome = run_module(backup_verify.main, dict({"directory": str(tmp_path)}, **args))
    assert outcome.failed and message in outcome.result["msg"], outcome.result["msg"]
    assert "checks" not in outcome.result and "Traceback" not in outcome.result["msg"]


def test_largest_legal_durations_work(run_module, tmp_path):
    daily(tmp_path, 3)
    result = run_module(
        backup_verify.main,
        {"directory": str(tmp_path), "max_age": "36500d", "expected_interval": "36500d", "timeout": "36500d"},
    ).result
    assert result["status"] == "ok"
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "settle": "36500d"}).result
    assert len(result["settling"]) == 3 and result["found"] == 0


# --- shared options: durations in seconds, the default pattern by format --------------------------


def test_durations_may_be_numbers_of_seconds(run_module, tmp_path):
    daily(tmp_path, 3)
    result = run_module(
        backup_verify.main,
        {"directory": str(tmp_path), "max_age": 93600, "expected_interval": 86400.0, "settle": 0, "timeout": 60},
    ).result
    assert result["status"] == "ok" and result["found"] == 3
    assert check(result, "freshness")["detail"].endswith("(max_age 93600)")
    assert check(result, "gaps")["status"] == "ok"
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": 60})
    assert outcome.failed and "more than max_age 60" in outcome.result["msg"]


def test_the_default_pattern_follows_the_format(run_module, tmp_path):
    daily(tmp_path, 1)
    dump = tmp_path / (NOW - datetime.timedelta(hours=2)).strftime("backup_%Y%m%d_%H%M%S.dump")
    dump.write_bytes(b"PGDMP" + b"\0" * 100)
    os.utime(str(dump), (HOUR_AGO, HOUR_AGO))
    custom = run_module(backup_verify.main, {"directory": str(tmp_path), "format": "custom", "level": "stat"}).result
    assert custom["found"] == 1 and custom["latest"]["name"] == dump.name
    for fmt in ("auto", "plain"):
        result = run_module(backup_verify.main, {"directory": str(tmp_path), "format": fmt, "level": "stat"}).result
        assert result["found"] == 1 and result["latest"]["name"].endswith(".sql.gz")


def test_explicit_files_that_are_no_regular_file(run_module, tmp_path):
    os.mkfifo(str(tmp_path / "backup_20261127_020000.sql.gz"))
    result = run_module(
        backup_verify.main,
        {"files": [str(tmp_path / "backup_20261127_020000.sql.gz")], "settle": 0, "fail_on": "never"},
    ).result
    assert check(result, "stat")["detail"] == "not a regular file (FIFO)"
    assert result["status"] == "failed" and result["findings"][0]["target"] == str(
        tmp_path / "backup_20261127_020000.sql.gz"
    )


# --- several backups read at the same time (workers) ------------------------------------------


def week_with_one_corrupt(directory):
    """7 daily backups, each a different dump; the third newest cut in the middle."""
    for n in range(7):
        data = gzip.compress(DUMP.replace(b"SELECT 1;", b"SELECT %d;" % n))
        if n == 2:
            data = data[: len(data) // 2]
        write(directory, NOW - datetime.timedelta(hours=1, days=n), data)


def comparable(result):
    """The result without what depends on the timing: durations, throughput, memory, workers."""
    drop = (
        "duration",
        "throughput_mbps",
        "peak_rss_kib",
        "workers",
        "workers_peak_rss_kib",
        "age_seconds",
        "newest_age_seconds",
    )

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(result)


@pytest.mark.parametrize("which", [{"which": "last_n", "count": 7}, {"which": "all"}])
def test_parallel_reading_gives_the_serial_result(run_module, tmp_path, which):
    week_with_one_corrupt(tmp_path)
    args = dict({"directory": str(tmp_path), "fail_on": "never"}, **which)
    serial = run_module(backup_verify.main, dict(args, workers=1)).result
    parallel = run_module(backup_verify.main, dict(args, workers=4)).result
    assert serial["workers"] == 1 and parallel["workers"] == 4
    assert serial["workers_peak_rss_kib"] is None and parallel["workers_peak_rss_kib"] > 0
    assert comparable(parallel) == comparable(serial)
    assert [f["summary"] for f in parallel["findings"]] == [f["summary"] for f in serial["findings"]]
    failed = [b["name"] for b in parallel["backups"] if not b["ok"]]
    assert failed == [(NOW - datetime.timedelta(hours=1, days=2)).strftime("backup_%Y%m%d_%H%M%S.sql.gz")]


def test_workers_default_to_the_cpus_and_never_exceed_the_files(run_module, tmp_path, monkeypatch):
    week_with_one_corrupt(tmp_path)
    monkeypatch.setattr(backup_verify, "usable_cpus", lambda: (16, 1.5))
    args = {"directory": str(tmp_path), "fail_on": "never", "which": "last_n", "count": 3}
    assert run_module(backup_verify.main, args).result["workers"] == 2
    assert run_module(backup_verify.main, dict(args, workers=64)).result["workers"] == 3
    assert run_module(backup_verify.main, dict(args, which="latest", count=1)).result["workers"] == 1


def test_a_reading_that_raises_is_a_finding_of_that_file(run_module, tmp_path, monkeypatch):
    week_with_one_corrupt(tmp_path)
    real = backup_verify.verify_stream
    victim = (NOW - datetime.timedelta(hours=1, days=4)).strftime("backup_%Y%m%d_%H%M%S.sql.gz")

    def flaky(path, *args, **kwargs):
        if path.endswith(victim):
            raise MemoryError("no room")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(backup_verify, "verify_stream", flaky)
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "which": "all", "workers": 3}).result
    entry = next(b for b in result["backups"] if b["name"] == victim)
    assert not entry["ok"] and entry["sha256"] is None
    read = [c for c in entry["checks"] if c["name"] == "read"]
    assert read == [dict(read[0], status="failed", detail="verification error: MemoryError: no room")]
    # Every other file was still read and judged.
    assert sum(1 for b in result["backups"] if b["ok"]) == 5
    assert any(f["target"] == victim and "MemoryError" in f["summary"] for f in result["findings"])


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "workers must be from 1 to 64 (1 reads the files one after another), got 0"),
        (-3, "workers must be from 1 to 64"),
        (10**12, "workers must be from 1 to 64"),
        ("abc", "argument 'workers' is of type str"),
        ("2.5", "argument 'workers'"),
        (True, "workers must be a whole number from 1 to 64, got True"),
    ],
)
def test_bad_workers(run_module, tmp_path, value, message):
    daily(tmp_path, 2)
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "which": "all", "workers": value})
    assert outcome.failed and message in outcome.result["msg"]
    assert "checks" not in outcome.result
