# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from ansible_collections.stronghold.ops.plugins.module_utils._report import (
    build_report,
    plan_retention,
    render_markdown,
)
from ansible_collections.stronghold.ops.plugins.modules import run_report

NOW = datetime(2026, 11, 27, 10, 15, 0, tzinfo=timezone.utc)
FINDINGS = [
    {
        "check": "health.http",
        "target": "http://127.0.0.1:18000/api/v1/health/",
        "severity": "ok",
        "summary": "answered 200 in 40 ms",
    },
    {
        "check": "health.containers",
        "target": "fs/web",
        "severity": "critical",
        "summary": "fs-web-1 is exited",
        "details": {"containers": [{"state": "exited"}]},
    },
    {
        "check": "health.command",
        "target": "web: manage.py health_check",
        "severity": "warning",
        "summary": "slow | odd *text*",
    },
]


def test_build_report_orders_findings_and_reaches_the_threshold():
    report = build_report(FINDINGS, "lab", "daily", "critical", {}, NOW)
    assert [f["severity"] for f in report["findings"]] == ["critical", "warning", "ok"]
    assert report["summary"]["worst_severity"] == "critical"
    assert report["summary"]["counts"] == {"ok": 1, "info": 0, "warning": 1, "critical": 1}
    assert report["threshold_reached"] is True
    assert report["summary"]["problems"][0] == "critical health.containers fs/web: fs-web-1 is exited"
    assert build_report(FINDINGS, "lab", "daily", "never", {}, NOW)["threshold_reached"] is False
    assert build_report(FINDINGS[:1], "lab", "daily", "warning", {}, NOW)["threshold_reached"] is False


def test_markdown_puts_the_verdict_and_problems_first_and_escapes_text():
    text = render_markdown(build_report(FINDINGS, "lab", "daily", "critical", {"check_mode": False}, NOW))
    lines = text.splitlines()
    assert lines[0] == "# daily run on lab: CRITICAL"
    act = lines.index("## Act on these first")
    everything = lines.index("## All findings")
    assert act < everything
    assert "**CRITICAL** `health.containers` fs/web: fs-web-1 is exited" in text
    assert "slow \\| odd \\*text\\*" in text
    assert "| critical | 1 |" in text


def test_markdown_of_an_empty_run_says_nothing_was_checked():
    text = render_markdown(build_report([], "lab", "monthly", "critical", {}, NOW))
    assert "# monthly run on lab: OK" in text
    assert "nothing was checked" in text


def test_retention_orders_runs_of_the_same_second_by_their_counter():
    names = ["20261101T000000Z.json", "20261101T000000Z-1.json", "20261101T000000Z-2.json", "20261101T000000Z-10.json"]
    assert plan_retention(names, 2) == ["20261101T000000Z-1.json", "20261101T000000Z.json"]


def test_retention_keeps_the_newest_runs_and_ignores_foreign_files():
    names = [
        "20261101T000000Z.json",
        "20261101T000000Z.md",
        "20261102T000000Z.json",
        "20261102T000000Z-1.json",
        "20261103T000000Z.md",
        "latest.json",
        "notes.txt",
    ]
    assert plan_retention(names, 3) == ["20261101T000000Z.json", "20261101T000000Z.md"]
    assert plan_retention(names, 2) == ["20261101T000000Z.json", "20261101T000000Z.md", "20261102T000000Z.json"]
    assert plan_retention(names, 0) == []
    assert plan_retention(names, 10) == []


def test_module_writes_both_documents_and_latest_copies(tmp_path, run_module):
    out = run_module(
        run_report.main, {"findings": FINDINGS, "host": "lab", "run": "daily", "report_dir": str(tmp_path)}
    )
    assert not out.failed
    result = out.result
    assert result["changed"] is True
    assert result["threshold_reached"] is True
    with open(result["paths"]["latest_json"]) as handle:
        document = json.load(handle)
    assert document["summary"]["worst_severity"] == "critical"
    with open(result["paths"]["json"]) as handle:
        assert json.load(handle) == document
    with open(result["paths"]["markdown"]) as handle:
        assert handle.readline().startswith("# daily run on lab: CRITICAL")
    assert oct(os.stat(result["paths"]["json"]).st_mode & 0o777) == "0o640"


def test_module_check_mode_writes_nothing(tmp_path, run_module):
    out = run_module(
        run_report.main, {"findings": FINDINGS, "host": "lab", "report_dir": str(tmp_path), "_ansible_check_mode": True}
    )
    assert not out.failed
    assert out.result["paths"]["json"].startswith(str(tmp_path))
    assert os.listdir(str(tmp_path)) == []


def test_module_refuses_bad_input_and_writes_nothing(tmp_path, run_module):
    bad = dict(FINDINGS[0], severity="fatal")
    out = run_module(run_report.main, {"findings": [bad], "host": "lab", "report_dir": str(tmp_path)})
    assert out.failed
    assert "invalid finding: unknown severity 'fatal'" in out.result["msg"]
    out = run_module(run_report.main, {"findings": [], "host": "lab", "run": "../etc", "report_dir": str(tmp_path)})
    assert out.failed and "run '../etc' may only contain" in out.result["msg"]
    out = run_module(run_report.main, {"findings": [], "host": "lab", "keep": -1, "report_dir": str(tmp_path)})
    assert out.failed and "keep must be" in out.result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_module_retention_removes_old_runs_only(tmp_path, run_module):
    directory = tmp_path / "lab" / "daily"
    directory.mkdir(parents=True)
    for stamp in ("20200101T000000Z", "20200102T000000Z"):
        (directory / (stamp + ".json")).write_text("{}")
    (directory / "keep-me.txt").write_text("operator notes")
    out = run_module(
        run_report.main, {"findings": [], "host": "lab", "run": "daily", "keep": 2, "report_dir": str(tmp_path)}
    )
    assert out.result["removed"] == [str(directory / "20200101T000000Z.json")]
    remaining = sorted(os.listdir(str(directory)))
    assert "20200101T000000Z.json" not in remaining
    assert "20200102T000000Z.json" in remaining and "keep-me.txt" in remaining


def test_module_fail_on_info_reaches_the_threshold_on_an_info_finding(tmp_path, run_module):
    info = dict(FINDINGS[0], severity="info")
    args = {"findings": [info], "host": "lab", "report_dir": str(tmp_path), "fail_on": "info"}
    out = run_module(run_report.main, args)
    assert not out.failed and out.result["threshold_reached"] is True
    out = run_module(run_report.main, dict(args, findings=FINDINGS[:1]))
    assert not out.failed and out.result["threshold_reached"] is False


def test_module_says_where_it_cannot_write(tmp_path, run_module):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = run_module(run_report.main, {"findings": FINDINGS, "host": "lab", "run": "daily", "report_dir": str(blocker)})
    assert out.failed
    assert out.result["msg"].startswith("cannot write the report under %s/lab/daily: " % blocker)
    assert out.result["worst_severity"] == "critical"
