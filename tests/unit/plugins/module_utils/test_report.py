# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_report's decisions (_report) on plain data: options, file names, what a run writes and returns."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._report import (
    build_report,
    check_options,
    free_base,
    module_result,
    plan_write,
    render_markdown,
)

NOW = datetime(2026, 11, 27, 10, 15, 0, tzinfo=timezone.utc)
INFO = {"check": "certificates.check", "target": "certificates", "severity": "info", "summary": "nothing configured"}
OK = {"check": "health.http", "target": "http://127.0.0.1/", "severity": "ok", "summary": "answered 200"}


def params(**own):
    base = {"run": "daily", "host": "web1", "keep": 30, "formats": ["json", "markdown"]}
    base.update(own)
    return base


@pytest.mark.parametrize(
    "own, message",
    [
        ({"run": "../etc"}, "run '../etc' may only contain letters, digits, '.', '_' and '-'"),
        ({"host": "a/b"}, "host 'a/b' cannot name a report directory"),
        ({"host": ".."}, "host '..' cannot name a report directory"),
        ({"host": " "}, "host ' ' cannot name a report directory"),
        ({"keep": -1}, "keep must be 0 (keep all) or a positive number, got -1"),
        ({"formats": []}, "formats must name at least one of json, markdown"),
    ],
)
def test_bad_options_are_refused(own, message):
    with pytest.raises(FindingError) as caught:
        check_options(params(**own))
    assert str(caught.value) == message
    check_options(params())


def test_an_invalid_finding_is_named_as_such():
    with pytest.raises(FindingError, match="^invalid finding: unknown severity 'fatal'"):
        build_report([dict(OK, severity="fatal")], "web1", "daily", "critical", {}, NOW)


def test_fail_on_info_is_reached_by_an_info_finding_and_not_by_ok():
    assert build_report([INFO, OK], "web1", "daily", "info", {}, NOW)["threshold_reached"] is True
    assert build_report([OK], "web1", "daily", "info", {}, NOW)["threshold_reached"] is False
    assert build_report([INFO], "web1", "daily", "warning", {}, NOW)["threshold_reached"] is False


def test_a_run_of_the_same_second_gets_a_counter():
    assert free_base("20261127T101500Z", []) == "20261127T101500Z"
    assert free_base("20261127T101500Z", ["20261127T101500Z.json", "latest.json"]) == "20261127T101500Z-1"
    existing = ["20261127T101500Z.md", "20261127T101500Z-1.json"]
    assert free_base("20261127T101500Z", existing) == "20261127T101500Z-2"


def test_the_plan_names_every_file_and_what_retention_removes():
    report = build_report([OK], "web1", "daily", "critical", {}, NOW)
    existing = ["20261125T000000Z.json", "20261125T000000Z.md", "20261126T000000Z.json", "notes.txt"]
    plan = plan_write(report, "/r/web1/daily", existing, ["json", "markdown"], 2, NOW)
    assert plan["paths"] == {
        "json": "/r/web1/daily/20261127T101500Z.json",
        "latest_json": "/r/web1/daily/latest.json",
        "markdown": "/r/web1/daily/20261127T101500Z.md",
        "latest_markdown": "/r/web1/daily/latest.md",
    }
    assert plan["removed"] == ["/r/web1/daily/20261125T000000Z.json", "/r/web1/daily/20261125T000000Z.md"]
    assert json.loads(plan["documents"]["json"]) == json.loads(json.dumps(report, default=str))
    assert plan["documents"]["markdown"] == render_markdown(report) + "\n"


def test_one_format_writes_one_document():
    report = build_report([], "web1", "daily", "critical", {}, NOW)
    plan = plan_write(report, "/r", [], ["markdown"], 0, NOW)
    assert sorted(plan["paths"]) == ["latest_markdown", "markdown"]
    assert list(plan["documents"]) == ["markdown"] and plan["removed"] == []


def test_the_module_result_carries_the_report_and_the_plan():
    report = build_report([INFO, OK], "web1", "daily", "critical", {}, NOW)
    plan = plan_write(report, "/r", [], ["json"], 30, NOW)
    result = module_result(report, plan)
    assert result == {
        "changed": True,
        "paths": plan["paths"],
        "summary": report["summary"],
        "worst_severity": "info",
        "threshold_reached": False,
        "removed": [],
        "findings": report["findings"],
    }
