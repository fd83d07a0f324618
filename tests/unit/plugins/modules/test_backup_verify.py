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
from ansible_collections.stronghold.ops.plugins.modules.backup_verify import compare_value, human_duration

DUMP = (b"--\n-- PostgreSQL database dump\n--\n" + b"SELECT 1;\n" * 5000
        + b"--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict k\n")
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
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "max_age": "26h", "min_count": 7,
                                             "expected_interval": "1d", "max_shrink": 20}).result
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
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "expected_interval": "1d", "min_count": 10,
                                             "max_shrink": 50, "fail_on": "never"}).result
    statuses = dict((c["name"], c["status"]) for c in result["checks"])
    assert statuses["count"] == "failed" and statuses["gaps"] == "warning"
    assert statuses["shrink"] == "failed" and statuses["marker"] == "failed"
    assert result["status"] == "failed"
    severities = sorted(f["severity"] for f in result["findings"] if f["check"] != "backup.verify")
    assert severities.count("critical") == 3 and "warning" in severities


def test_fail_on_warning(run_module, tmp_path):
    daily(tmp_path, 4, skip=(1, 2))
    assert not run_module(backup_verify.main, {"directory": str(tmp_path), "expected_interval": "1d"}).failed
    outcome = run_module(backup_verify.main, {"directory": str(tmp_path), "expected_interval": "1d", "fail_on": "warning"})
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
    result = run_module(backup_verify.main, {"directory": str(tmp_path), "level": "restore", "_ansible_check_mode": True,
                                             "restore_checks": [{"query": "SELECT 1", "expect": 1}]}).result
    assert not result["changed"] and result["restore"] is None
    assert by_name(result, "restore")[0]["status"] == "skipped"


@pytest.mark.parametrize("args, message", [
    ({"directory": "/nonexistent"}, "backup directory /nonexistent does not exist"),
    ({"pattern": "backup.sql.gz"}, "has no time fields"),
    ({"which": "last_n", "count": 0}, "count must be at least 1"),
    ({"count": 3}, "count applies only to which=last_n"),
    ({"min_count": 0}, "min_count must be at least 1"),
    ({"max_age": "soon"}, "max_age: cannot read 'soon'"),
    ({"settle": "-5"}, "settle: a duration cannot be negative"),
    ({"expected_interval": "0"}, "expected_interval must be longer than 0"),
    ({"gap_factor": 0.5}, "gap_factor must be at least 1"),
    ({"shrink_window": 0}, "shrink_window must be at least 1"),
    ({"timezone": "Nowhere/City"}, "unknown time zone"),
    ({"level": "restore", "restore_checks": [{"query": "SELECT 1"}]}, "needs expect, min or max"),
    ({"level": "restore", "restore_checks": [{"query": "SELECT 1", "min": 5, "max": 1}]}, "min 5.0 above max 1.0"),
    ({"level": "restore", "scratch_db": "postgres"}, "is not a scratch database"),
])
def test_bad_input(run_module, tmp_path, args, message):
    daily(tmp_path, 1)
    outcome = run_module(backup_verify.main, dict({"directory": str(tmp_path)}, **args))
    assert outcome.failed and message in outcome.result["msg"]
    assert "checks" not in outcome.result


def test_compare_value():
    assert compare_value(20000, expect=20000)[0] == "ok"
    assert compare_value("20000", expect="20000.0")[0] == "ok"
    assert compare_value("0042_x", expect="0042_x")[0] == "ok"
    assert compare_value(None, expect=0)[0] == "failed"
    assert compare_value(5, minimum=1, maximum=10) == ("ok", "5 >= 1 and <= 10")
    assert compare_value(5, minimum=6)[1] == "5 is below min 6"
    assert compare_value("abc", maximum=1)[0] == "failed"
    assert compare_value(True, expect=True)[0] == "ok"


def test_human_duration():
    assert human_duration(3 * 86400) == "3d00h"
    assert human_duration(3725) == "1h02m"
    assert human_duration(59) == "59s"
