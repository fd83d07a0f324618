# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the kept per-host reports back (module_utils/_trends_read.py), on a real directory tree
laid out as run_report writes it."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _trends_read
from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report, plan_write
from ansible_collections.stronghold.ops.plugins.module_utils._trends_read import read_kept_reports, stamp_time

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=UTC)
FINDING = {"check": "resources.disk", "target": "/", "severity": "ok", "summary": "s", "details": {"used_percent": 5}}


def keep(report_dir, host, when, run="daily", used=5):
    """Write one run's report as run_report does (its own plan: stamped name, latest.json, .md)."""
    directory = os.path.join(str(report_dir), host, run)
    os.makedirs(directory, exist_ok=True)
    finding = dict(FINDING, details={"used_percent": used})
    report = build_report([finding], host, run, "critical", {}, when)
    plan = plan_write(report, directory, os.listdir(directory), ["json", "markdown"], 0, when)
    for kind in ("json", "markdown"):
        for key in (kind, "latest_" + kind):
            with open(plan["paths"][key], "w", encoding="utf-8") as handle:
                handle.write(plan["documents"][kind])
    return plan["paths"]["json"]


def times(reports):
    return [r["generated_at"] for r in reports]


def test_every_run_of_each_host_newest_first_only_the_stamped_json(tmp_path):
    keep(tmp_path, "db1", NOW - 2 * DAY)
    keep(tmp_path, "db1", NOW - DAY, run="weekly")
    keep(tmp_path, "db1", NOW)
    keep(tmp_path, "db1", NOW)  # the same second: run_report names it 20261205T120000Z-1.json
    keep(tmp_path, "web1", NOW - DAY)
    run_dir = tmp_path / "db1" / "daily"
    assert sorted(os.listdir(run_dir)) == [
        "20261203T120000Z.json",
        "20261203T120000Z.md",
        "20261205T120000Z-1.json",
        "20261205T120000Z-1.md",
        "20261205T120000Z.json",
        "20261205T120000Z.md",
        "latest.json",
        "latest.md",
    ]
    (run_dir / "20261205T130000Z.json.tmp").write_text("{")
    (run_dir / "notes.json").write_text("{")
    (run_dir / "20261205T130000Z.JSON").write_text("{")
    reports, problems = read_kept_reports(str(tmp_path), ["db1", "web1", "absent"], LONG_AGO)
    assert problems == []
    assert [(r["host"], r["run"], r["generated_at"]) for r in reports] == [
        ("db1", "daily", "2026-12-05T12:00:00Z"),
        ("db1", "daily", "2026-12-05T12:00:00Z"),
        ("db1", "weekly", "2026-12-04T12:00:00Z"),
        ("db1", "daily", "2026-12-03T12:00:00Z"),
        ("web1", "daily", "2026-12-04T12:00:00Z"),
    ]


def test_since_and_max_files_bound_what_is_read(tmp_path):
    for day in range(10):
        keep(tmp_path, "db1", NOW - day * DAY, used=day)
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], NOW - 3 * DAY)
    assert problems == [] and len(reports) == 4
    reports, dummy = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO, max_files=3)
    assert times(reports) == ["2026-12-05T12:00:00Z", "2026-12-04T12:00:00Z", "2026-12-03T12:00:00Z"]
    assert read_kept_reports(str(tmp_path), ["db1"], LONG_AGO, max_files=0) == ([], [])
    # A naive since is UTC; a since in the future reads nothing.
    naive, dummy = read_kept_reports(str(tmp_path), ["db1"], (NOW - 3 * DAY).replace(tzinfo=None))
    assert len(naive) == 4
    assert read_kept_reports(str(tmp_path), ["db1"], NOW + DAY) == ([], [])


def test_twenty_thousand_kept_files_cost_a_listing_not_a_read_each(tmp_path):
    run_dir = tmp_path / "db1" / "daily"
    run_dir.mkdir(parents=True)
    start = datetime.datetime(2015, 1, 1, tzinfo=UTC)
    for index in range(20000):
        name = (start + datetime.timedelta(hours=index)).strftime("%Y%m%dT%H%M%SZ.json")
        # Empty files: each one opened would be a problem.
        os.close(os.open(str(run_dir / name), os.O_CREAT | os.O_WRONLY, 0o600))
    newest = keep(tmp_path, "db1", NOW)
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO, max_files=1)
    assert times(reports) == ["2026-12-05T12:00:00Z"] and problems == []
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO, max_files=3)
    assert len(reports) == 1 and len(problems) == 2 and newest not in " ".join(problems)


def test_cut_foreign_and_misplaced_files_are_problems_never_exceptions(tmp_path):
    good = keep(tmp_path, "db1", NOW - 5 * DAY)
    run_dir = tmp_path / "db1" / "daily"
    with open(good, encoding="utf-8") as handle:
        text = handle.read()
    (run_dir / "20261201T000000Z.json").write_text(text[: len(text) // 2])
    (run_dir / "20261201T000001Z.json").write_text(json.dumps({"schema": "other/v9", "findings": []}))
    (run_dir / "20261201T000002Z.json").write_text(json.dumps(dict(json.loads(text), findings={"a": 1})))
    (run_dir / "20261201T000003Z.json").write_text(json.dumps(dict(json.loads(text), host="web1")))
    (run_dir / "20261201T000004Z.json").write_bytes(b"\xff\xfe\x00garbage")
    (run_dir / "20261201T000005Z.json").write_text("[1, 2]")
    (run_dir / "20261201T000006Z.json").mkdir()
    (run_dir / "20261201T000007Z.json").write_text("[" * 100000 + "]" * 100000)
    (run_dir / "20261399T000000Z.json").write_text(text)  # no such date: not a stamp
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO)
    assert times(reports) == ["2026-11-30T12:00:00Z"]
    assert len(problems) == 8
    by_name = {p.split(": ")[0].rsplit("/", 1)[-1]: p for p in problems}
    assert "cut or damaged" in by_name["20261201T000000Z.json"]
    assert "not a stronghold.ops/run-report/v1 document" in by_name["20261201T000001Z.json"]
    assert "no findings list" in by_name["20261201T000002Z.json"]
    assert "the report is of host 'web1', not 'db1'" in by_name["20261201T000003Z.json"]
    assert "cut or damaged" in by_name["20261201T000004Z.json"]
    assert "not a stronghold.ops/run-report/v1" in by_name["20261201T000005Z.json"]
    assert "not a regular file" in by_name["20261201T000006Z.json"]
    assert "20261201T000007Z.json" in by_name
    assert all(str(tmp_path) in p for p in problems)


def test_files_larger_than_the_bound_are_not_read(tmp_path, monkeypatch):
    path = keep(tmp_path, "db1", NOW)
    monkeypatch.setattr(_trends_read, "MAX_FILE_BYTES", 100)
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO)
    assert reports == [] and problems == [
        "%s: %d bytes, larger than 100: not a kept report" % (path, os.path.getsize(path))
    ]


def test_links_that_leave_the_report_directory_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    report_dir = tmp_path / "reports"
    secret = keep(outside, "db1", NOW)
    keep(report_dir, "db1", NOW - DAY)
    os.symlink(secret, str(report_dir / "db1" / "daily" / "20261205T130000Z.json"))
    inside = keep(report_dir, "db1", NOW - 2 * DAY, run="weekly")
    os.symlink(inside, str(report_dir / "db1" / "daily" / "20261205T140000Z.json"))
    os.symlink(str(outside / "db1"), str(report_dir / "web1"))
    reports, problems = read_kept_reports(str(report_dir), ["db1", "web1"], LONG_AGO)
    assert times(reports) == ["2026-12-03T12:00:00Z", "2026-12-04T12:00:00Z", "2026-12-03T12:00:00Z"]
    assert len(problems) == 2
    assert "20261205T130000Z.json: a link that leads outside the report directory" in problems[0]
    assert problems[1] == "%s: leads outside %s, not read" % (report_dir / "web1", report_dir)


def test_a_run_directory_that_leads_outside_is_not_read(tmp_path):
    outside = tmp_path / "outside"
    report_dir = tmp_path / "reports"
    secret = keep(outside, "db1", NOW)
    keep(report_dir, "db1", NOW - DAY)
    os.symlink(os.path.dirname(secret), str(report_dir / "db1" / "elsewhere"))
    reports, problems = read_kept_reports(str(report_dir), ["db1"], LONG_AGO)
    assert times(reports) == ["2026-12-04T12:00:00Z"]
    assert problems == [
        "%s: a link that leads outside the report directory, not read"
        % (report_dir / "db1" / "elsewhere" / "20261205T120000Z.json")
    ]


def test_a_host_that_is_a_file_or_no_directory_name(tmp_path):
    keep(tmp_path, "db1", NOW)
    (tmp_path / "web1").write_text("not a directory")
    hosts = ["web1", "../db1", "", ".", "a\0b", ["db1"], None, "db1", "db1"]
    reports, problems = read_kept_reports(str(tmp_path), hosts, LONG_AGO)
    assert times(reports) == ["2026-12-05T12:00:00Z"]
    assert problems == [
        "%s: not a directory, no report of host web1 read" % (tmp_path / "web1"),
        "host '../db1' cannot name a report directory, skipped",
        "host '' cannot name a report directory, skipped",
        "host '.' cannot name a report directory, skipped",
        "host 'a\\x00b' cannot name a report directory, skipped",
        "host ['db1'] cannot name a report directory, skipped",
        "host None cannot name a report directory, skipped",
    ]


def test_a_missing_report_directory_is_a_problem(tmp_path):
    missing = str(tmp_path / "nowhere")
    assert read_kept_reports(missing, ["db1"], LONG_AGO) == ([], ["%s: not a directory, no kept report read" % missing])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_a_problem(tmp_path):
    path = keep(tmp_path, "db1", NOW)
    os.chmod(path, 0)
    try:
        reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO)
    finally:
        os.chmod(path, 0o600)
    assert reports == [] and problems == ["%s: cannot read: Permission denied" % path]


def test_unicode_hosts(tmp_path):
    keep(tmp_path, "höst-データ", NOW)
    reports, problems = read_kept_reports(str(tmp_path), ["höst-データ"], LONG_AGO)
    assert problems == [] and reports[0]["host"] == "höst-データ"


def test_problems_are_bounded(tmp_path):
    run_dir = tmp_path / "db1" / "daily"
    run_dir.mkdir(parents=True)
    for minute in range(80):
        (
            run_dir
            / ("20261205T12%02d00Z.json" % (minute % 60) if minute < 60 else "20261205T13%02d00Z.json" % (minute - 60))
        ).write_text("")
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], LONG_AGO)
    assert reports == [] and len(problems) == _trends_read.MAX_PROBLEMS + 1
    assert problems[-1] == "30 more problem(s) not listed"


def test_stamp_time():
    assert stamp_time("20261127T101500Z.json") == (datetime.datetime(2026, 11, 27, 10, 15, tzinfo=UTC), 0)
    assert stamp_time("20261127T101500Z-12.json") == (datetime.datetime(2026, 11, 27, 10, 15, tzinfo=UTC), 12)
    for name in ("latest.json", "20261127T101500Z.json.tmp", "20261127T101500Z.md", "x20261127T101500Z.json"):
        assert stamp_time(name) is None
    assert stamp_time("20261127T256000Z.json") is None
