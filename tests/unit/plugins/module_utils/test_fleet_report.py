# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report's decisions (_fleet_report) on plain data: options, hosts, matrix, summary, Markdown, files."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import (
    MARKDOWN_MAX_CHECKS,
    MAX_PROBLEMS,
    RUN_ROW,
    build_fleet_report,
    check_options,
    cut,
    describe_alert,
    module_result,
    plan_fleet_write,
    read_hosts,
    read_run_findings,
    render_markdown,
    trend_entry,
    trend_findings,
)
from ansible_collections.stronghold.ops.plugins.module_utils._report import plan_retention

NOW = datetime(2026, 11, 27, 10, 15, 0, tzinfo=timezone.utc)


def finding(check, target, severity, summary="s", details=None):
    return {"check": check, "target": target, "severity": severity, "summary": summary, "details": details or {}}


def fleet():
    """Three hosts: web1 with a warning, db1 healthy, db2 down; a run-level warning."""
    return [
        {
            "host": "web1",
            "status": "ok",
            "findings": [
                finding("health.http", "http://127.0.0.1/", "ok", "200 in 30 ms"),
                finding("resources.disk", "/", "warning", "disk 88 % used"),
                finding("resources.disk", "/var", "ok", "disk 40 % used"),
            ],
            "reports": {"markdown": "/r/web1/daily/latest.md", "json": "/r/web1/daily/latest.json"},
        },
        {
            "host": "db1",
            "status": "ok",
            "findings": [finding("postgres.connections", "main", "ok"), finding("resources.disk", "/", "ok")],
            "reports": {"json": "/r/db1/daily/latest.json"},
        },
        {"host": "db2", "status": "down", "reason": "unreachable (ssh timeout)", "findings": [], "reports": {}},
    ]


RUN = [finding("alert.delivery", "smtp://127.0.0.1:25", "warning", "SMTP refused; the webhook delivered")]


def report(hosts=None, run_findings=None, fail_on="critical", alert=None, metadata=None, trends=None):
    return build_fleet_report(
        read_hosts(fleet() if hosts is None else hosts),
        read_run_findings(RUN if run_findings is None else run_findings),
        "daily",
        fail_on,
        metadata or {},
        alert,
        NOW,
        trends=trends,
    )


def params(**own):
    base = {"run": "daily", "keep": 30, "trend_days": 30, "formats": ["json", "markdown", "html"]}
    base.update(own)
    return base


@pytest.mark.parametrize(
    "own, message",
    [
        ({"run": "a/b"}, "run 'a/b' may only contain letters, digits, '.', '_' and '-'"),
        ({"run": ""}, "run '' may only contain letters, digits, '.', '_' and '-'"),
        ({"keep": -1}, "keep must be 0 (keep all) or a positive number, got -1"),
        ({"trend_days": -1}, "trend_days must be 0 (no trends) or a positive number of days, got -1"),
        ({"trend_days": 10**9}, "trend_days must be at most 3660 (ten years), got 1000000000"),
        ({"formats": []}, "formats must name at least one of json, markdown, html"),
    ],
)
def test_bad_options_are_refused(own, message):
    with pytest.raises(FindingError) as caught:
        check_options(params(**own))
    assert str(caught.value) == message
    check_options(params())
    check_options(params(keep=0, trend_days=0))


@pytest.mark.parametrize(
    "hosts, message",
    [
        ("web1", "hosts must be a list of host entries, got str"),
        ([{"host": "a"}, {"host": "a"}], "host 'a' appears twice in hosts"),
        ([{"host": "_fleet"}], "host '_fleet' is reserved: the fleet report is kept under <report_dir>/_fleet"),
        ([{"host": "(run)"}], r"host '\(run\)' is reserved"),
        ([{"host": "a", "status": "gone"}], "host 'a' has status 'gone'"),
        ([{"host": "a", "findings": [{"check": "x"}]}], "host 'a': invalid finding"),
    ],
)
def test_bad_hosts_are_refused_with_the_entry_named(hosts, message):
    with pytest.raises(FindingError, match="^" + message):
        read_hosts(hosts)


def test_bad_run_findings_are_refused():
    with pytest.raises(FindingError, match="^run_findings: invalid finding: unknown severity 'fatal'"):
        read_run_findings([finding("alert.delivery", "smtp", "fatal")])
    with pytest.raises(FindingError, match="^run_findings must be a list"):
        read_run_findings("x")


def test_matrix_puts_down_hosts_then_the_worst_first_and_the_worst_checks_first():
    matrix = report()["matrix"]
    assert [row["host"] for row in matrix["rows"]] == ["db2", RUN_ROW, "web1", "db1"]
    assert matrix["checks"] == ["run.host", "alert.delivery", "resources.disk", "health.http", "postgres.connections"]
    web1 = matrix["rows"][2]["cells"]
    assert web1["resources.disk"] == {
        "counts": {"ok": 1, "info": 0, "warning": 1, "critical": 0},
        "count": 2,
        "worst": "warning",
    }
    assert "postgres.connections" not in web1
    assert matrix["rows"][0]["cells"]["run.host"]["worst"] == "critical"
    assert matrix["rows"][0]["status"] == "down"


def test_without_run_findings_there_is_no_run_row():
    rows = report(run_findings=[])["matrix"]["rows"]
    assert RUN_ROW not in [row["host"] for row in rows]


def test_summary_counts_everything_and_names_the_down_host():
    document = report()
    summary = document["summary"]
    assert summary["worst_severity"] == "critical"
    assert summary["threshold_reached"] is True
    # 3 of web1, 2 of db1, the run.host of db2, the run-level warning
    assert summary["counts"] == {"ok": 4, "info": 0, "warning": 2, "critical": 1}
    assert summary["total"] == 7
    assert summary["down_hosts"] == ["db2"]
    assert summary["checks"]["resources.disk"] == {"ok": 2, "info": 0, "warning": 1, "critical": 0, "worst": "warning"}
    assert summary["checks"]["alert.delivery"]["worst"] == "warning"
    assert summary["hosts"]["web1"] == {
        "status": "ok",
        "worst_severity": "warning",
        "counts": {"ok": 2, "info": 0, "warning": 1, "critical": 0},
        "report": "/r/web1/daily/latest.md",
    }
    assert summary["hosts"]["db1"]["report"] == "/r/db1/daily/latest.json"
    assert summary["hosts"]["db2"]["report"] == ""
    assert RUN_ROW not in summary["hosts"]
    assert summary["problems"][0].startswith("critical db2 run.host db2: unreachable (ssh timeout)")
    assert summary["problems"][1:] == [
        "warning (run) alert.delivery smtp://127.0.0.1:25: SMTP refused; the webhook delivered",
        "warning web1 resources.disk /: disk 88 % used",
    ]
    assert document["schema"] == "stronghold.ops/fleet-report/v1"
    json.dumps(document)


def test_threshold_follows_fail_on():
    healthy = [{"host": "web1", "findings": [finding("health.http", "u", "info")]}]
    assert report(hosts=healthy, run_findings=[], fail_on="info")["threshold_reached"] is True
    assert report(hosts=healthy, run_findings=[], fail_on="warning")["threshold_reached"] is False
    assert report(fail_on="never")["threshold_reached"] is False


def test_an_empty_run_is_ok():
    document = report(hosts=[], run_findings=[])
    assert document["summary"]["worst_severity"] == "ok"
    assert document["matrix"] == {"checks": [], "rows": []}
    assert "No findings: nothing was checked" in render_markdown(document)


def test_problems_are_capped_and_cut():
    many = [finding("logs.pattern", "t%03d" % i, "warning", "x" * 5000) for i in range(120)]
    summary = report(hosts=[{"host": "web1", "findings": many}], run_findings=[])["summary"]
    assert len(summary["problems"]) == MAX_PROBLEMS
    assert summary["problems_total"] == 120
    assert all(len(p) < 400 for p in summary["problems"])
    assert summary["problems"][0].endswith("... (4732 more characters)")


def test_cut_keeps_short_text_and_joins_lines():
    assert cut("a\nb  c") == "a b c"
    assert cut("abcdef", 3) == "abc... (3 more characters)"


def test_markdown_has_verdict_matrix_problems_down_hosts_links_and_alert():
    alert = {
        "subject": "CRITICAL: Financial Stronghold Alert",
        "recipients": ["ops@example.com"],
        "delivered": ["webhook"],
        "errors": {"smtp": "connection refused"},
    }
    text = render_markdown(report(alert=alert, metadata={"playbook": "daily.yml", "awx_job_id": 42}), "/r/_fleet/daily")
    assert text.startswith("# daily run on 3 hosts: CRITICAL\n")
    assert "playbook: daily.yml; awx_job_id: 42." in text
    assert "| host | run.host | alert.delivery | resources.disk | health.http | postgres.connections |" in text
    assert "| db2 (down) | CRIT 1 |  |  |  |  |" in text
    assert "| web1 |  |  | WARN 2 | ok 1 |  |" in text
    assert "## Hosts down\n\n- **db2**: unreachable (ssh timeout)" in text
    assert "## Act on these first" in text
    assert "- web1 (warning): [json](<../../web1/daily/latest.json>), [markdown](<../../web1/daily/latest.md>)" in text
    assert "- delivery: **CRITICAL** NOT delivered: SMTP refused; the webhook delivered" in text
    assert "- subject: CRITICAL: Financial Stronghold Alert" in text


def test_markdown_escapes_hosts_and_checks_and_cuts_the_matrix():
    checks = [finding("c.%02d|<b>" % i, "t", "warning") for i in range(MARKDOWN_MAX_CHECKS + 5)]
    text = render_markdown(report(hosts=[{"host": "<script>x|y", "findings": checks}], run_findings=[]))
    assert "<script>" not in text
    assert "\\<script\\>x\\|y" in text
    header = next(line for line in text.splitlines() if line.startswith("| host |"))
    assert header.count("c.") == MARKDOWN_MAX_CHECKS
    assert "5 more checks are in the HTML page (the matrix shows the 30 worst)." in text


def test_markdown_names_trends_getting_worse():
    trends = [trend_entry({"key": "disk", "title": "web1 disk /", "worsening": True}), trend_entry({"key": "tls"})]
    text = render_markdown(report(trends=trends))
    assert "2 series drawn in the HTML page; getting worse:\n- web1 disk /" in text


@pytest.mark.parametrize(
    "alert, severity, start",
    [
        ({}, "info", "no alert step ran"),
        ({"delivered": ["smtp", "webhook"]}, "ok", "delivered: smtp, webhook"),
        ({"delivered": [], "sent": False}, "info", "nothing sent"),
        ({"error": "smtp: refused"}, "critical", "NOT delivered (smtp: refused)"),
        ({"subject": "x"}, "info", "planned, delivery not reported"),
    ],
)
def test_alert_delivery_is_described(alert, severity, start):
    said = describe_alert(alert)
    assert said[0] == severity
    assert said[1].startswith(start)


MAIL_FAILED = finding(
    "alert.delivery", "mail", "warning", "alert of run daily not delivered by mail: refused; delivered by webhook"
)
WEBHOOK_OK = finding("alert.delivery", "webhook", "ok", "alert of run daily delivered by webhook")


@pytest.mark.parametrize(
    "findings, severity, text",
    [
        (
            [MAIL_FAILED, WEBHOOK_OK],
            "warning",
            "NOT delivered: alert of run daily not delivered by mail: refused; delivered",
        ),
        (
            [dict(MAIL_FAILED, severity="critical")],
            "critical",
            "NOT delivered: alert of run daily not delivered by mail",
        ),
        ([WEBHOOK_OK, dict(WEBHOOK_OK, target="mail")], "ok", "delivered by webhook, mail"),
        (
            [finding("alert.delivery", "alert", "info", "check mode: nothing was sent")],
            "info",
            "check mode: nothing was sent",
        ),
    ],
)
def test_the_delivery_findings_decide_over_the_alert_mapping(findings, severity, text):
    said = describe_alert(
        {"delivered": ["what the role says"]}, findings + [finding("report.trends", "/r", "info", "x")]
    )
    assert said[0] == severity
    assert said[1].startswith(text)


def test_without_delivery_findings_the_alert_mapping_decides():
    trends = [finding("report.trends", "/r", "info", "x")]
    assert describe_alert({"notify": False}, trends) == ("info", "nothing new: no alert was due")


def test_retention_counts_runs_and_removes_the_page_with_its_documents():
    names = [
        "20261101T000000Z.json",
        "20261101T000000Z.md",
        "20261101T000000Z.html",
        "20261102T000000Z.html",
        "20261103T000000Z.json",
        "20261103T000000Z-1.json",
        "20261103T000000Z-1.html",
        "latest.html",
        "notes.txt",
    ]
    assert plan_retention(names, 2) == [
        "20261101T000000Z.html",
        "20261101T000000Z.json",
        "20261101T000000Z.md",
        "20261102T000000Z.html",
    ]
    assert plan_retention(names, 0) == []


def test_plan_writes_every_format_and_fills_the_summary_paths():
    document = report()
    plan = plan_fleet_write(
        document, "/r/_fleet/daily", ["20261127T101500Z.json"], ["json", "markdown", "html"], 1, NOW, lambda r: "<html>"
    )
    assert plan["paths"] == {
        "json": "/r/_fleet/daily/20261127T101500Z-1.json",
        "latest_json": "/r/_fleet/daily/latest.json",
        "markdown": "/r/_fleet/daily/20261127T101500Z-1.md",
        "latest_markdown": "/r/_fleet/daily/latest.md",
        "html": "/r/_fleet/daily/20261127T101500Z-1.html",
        "latest_html": "/r/_fleet/daily/latest.html",
    }
    assert plan["removed"] == ["/r/_fleet/daily/20261127T101500Z.json"]
    assert plan["documents"]["html"] == "<html>"
    assert json.loads(plan["documents"]["json"])["summary"]["paths"]["html"] == plan["paths"]["html"]
    result = module_result(document, plan, [])
    assert result["summary"]["paths"] == {
        "markdown": plan["paths"]["markdown"],
        "html": plan["paths"]["html"],
        "json": plan["paths"]["json"],
    }
    assert result["worst_severity"] == "critical"
    assert result["trends"] == []


def test_plan_of_html_only():
    plan = plan_fleet_write(report(), "/r/_fleet/daily", [], ["html"], 30, NOW, lambda r: "<html>")
    assert sorted(plan["documents"]) == ["html"]
    assert sorted(plan["paths"]) == ["html", "latest_html"]


def test_trend_problems_become_info_findings():
    found = trend_findings(
        [
            "bad.json: not JSON",
            {"path": "/r/web1/daily/x.json", "message": "no schema"},
            "/r/web2/daily/20261127T101500Z.json: not a JSON report (cut or damaged?): Expecting value",
            "/r: not a directory, no kept report read",
        ],
        "/r",
    )
    assert [(f["target"], f["severity"], f["check"]) for f in found] == [
        ("/r", "info", "report.trends"),
        ("/r/web1/daily/x.json", "info", "report.trends"),
        ("/r/web2/daily/20261127T101500Z.json", "info", "report.trends"),
        ("/r", "info", "report.trends"),
    ]
    assert found[1]["summary"] == "kept report not used for trends: no schema"
    assert (
        found[2]["summary"] == "kept report not used for trends: not a JSON report (cut or damaged?): Expecting value"
    )
    assert found[3]["summary"] == "kept report not used for trends: /r: not a directory, no kept report read"


def test_trend_entry_keeps_the_name_and_whether_it_worsens():
    assert trend_entry({"name": "n", "worsening": 1, "host": "web1", "points": [1]}) == {
        "key": "n",
        "title": "n",
        "worsening": True,
        "host": "web1",
    }
