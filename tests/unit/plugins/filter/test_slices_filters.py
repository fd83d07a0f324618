# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of plugins/filter/slices.py, called as a template calls them: through FilterModule.

A slice publishes its hosts (slice_entries); the combining step reads them back (slice_hosts,
slice_run, slice_run_findings) into the host entries that fleet_report and alert_state take.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.filter.slices import FilterModule
from ansible_collections.stronghold.ops.plugins.module_utils._alerts import check_plan_options, plan_alerts
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import normalise_hosts
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import build_fleet_report, read_hosts

FILTERS = FilterModule().filters()
NOW = datetime(2027, 3, 28, 6, 0, tzinfo=timezone.utc)


def finding(check, severity, target="/", summary="fine", details=None):
    return {"check": check, "target": target, "severity": severity, "summary": summary, "details": details or {}}


def host(name, findings, status="ok", reason=None):
    entry = {
        "host": name,
        "status": status,
        "findings": findings,
        "reports": {"markdown": "/r/%s/daily/latest.md" % name},
    }
    if reason:
        entry["reason"] = reason
    return entry


APP1 = host(
    "app1",
    [
        finding("resources.disk", "warning", summary="disk 88 % used", details={"pct": 88}),
        finding("backup.fresh", "ok"),
    ],
)
APP2 = host("app2", [finding("health.http", "critical", "http://127.0.0.1/", "connection refused")])
APP3 = host("app3", [finding("backup.fresh", "ok"), finding("logs.pattern", "info", "/app/logs")])
DOWN = host("down1", [], status="down", reason="failed or unreachable before its report")


def summary(entries, run="daily", max_findings=2000):
    """A deferred slice's stronghold_report as the report role publishes it."""
    return {
        "run": run,
        "hosts": {e["host"]: {} for e in entries},
        "slice": FILTERS["slice_entries"](entries, max_findings),
        "alert": {"deferred": True},
    }


def counts(entries):
    report = build_fleet_report(read_hosts(entries), [], "daily", "critical", {}, None, NOW)
    return report["summary"]


def test_two_slices_give_back_every_host_once_with_the_counts_of_the_unsliced_run():
    first, second = summary([APP1, APP3]), summary([APP2, DOWN])
    entries = FILTERS["slice_hosts"]([first, second])
    assert [e["host"] for e in entries] == ["app1", "app3", "app2", "down1"]
    whole = counts([APP1, APP3, APP2, DOWN])
    combined = counts(entries)
    for key in ("worst_severity", "total", "counts", "checks", "down_hosts", "problems_total"):
        assert combined[key] == whole[key], key
    # What alert_state plans from the combined entries is what it plans from the unsliced run.
    settings = check_plan_options(
        {
            "run": "daily",
            "severity": "warning",
            "repeat_interval": "24h",
            "title": "T",
            "recipients": {},
            "contacts": {},
        }
    )

    def keys(hosts):
        return sorted((a["fingerprint"], a["state"]) for a in plan_alerts(settings, normalise_hosts(hosts), {}, 0))

    assert keys(entries) == keys([APP1, APP3, APP2, DOWN])
    assert FILTERS["slice_run"]([first, second]) == "daily"
    assert FILTERS["slice_run_findings"]([first, second]) == []


def test_the_details_are_left_out_and_long_summaries_cut():
    long = host("app9", [finding("logs.pattern", "warning", summary="x " * 400, details={"lines": ["a"] * 1000})])
    published = FILTERS["slice_entries"]([long])
    (kept,) = published["entries"][0]["findings"]
    assert "details" not in kept
    assert len(kept["summary"]) < 260 and kept["summary"].endswith("more characters)")
    (back,) = FILTERS["slice_hosts"]([{"run": "daily", "slice": published}])
    assert back["findings"][0]["details"] == {}


def test_overlapping_slices_are_refused():
    with pytest.raises(AnsibleFilterError, match="host app1 is in slice 1 and slice 3: the slices overlap"):
        FILTERS["slice_hosts"]([summary([APP1]), summary([APP2]), summary([APP3, APP1])])


def test_slices_of_different_runs_are_refused():
    with pytest.raises(AnsibleFilterError, match="different runs: daily, weekly"):
        FILTERS["slice_hosts"]([summary([APP1]), summary([APP2], run="weekly")])
    with pytest.raises(AnsibleFilterError, match="slice_run: .*different runs"):
        FILTERS["slice_run"]([summary([APP1]), summary([APP2], run="weekly")])


def test_a_slice_that_alerted_by_itself_is_refused():
    plain = {"run": "daily", "hosts": {"app2": {}}, "alert": {"subject": "WARNING: ..."}}
    with pytest.raises(AnsibleFilterError, match="slice 2 has no host entries.*report_slice: true"):
        FILTERS["slice_hosts"]([summary([APP1]), plain])
    future = summary([APP1])
    future["slice"]["version"] = 2
    with pytest.raises(AnsibleFilterError, match="version 2"):
        FILTERS["slice_hosts"]([future])


@pytest.mark.parametrize(
    "summaries, message",
    [
        ([], "no slice summary to combine"),
        ([None, {}], "none of the 2 slices published a summary"),
        ("daily", "must be a list"),
        ([summary([APP1]), "oops"], "slice summary 2 must be a mapping"),
    ],
)
def test_empty_and_malformed_input_is_refused(summaries, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["slice_hosts"](summaries)


def test_a_slice_that_published_nothing_is_a_critical_finding_and_the_rest_is_combined():
    summaries = [summary([APP1]), {}, None]
    assert [e["host"] for e in FILTERS["slice_hosts"](summaries)] == ["app1"]
    found = FILTERS["slice_run_findings"](summaries, ["job-11", "job-12", "job-13"])
    assert [(f["target"], f["severity"]) for f in found] == [("slice job-12", "critical"), ("slice job-13", "critical")]
    assert "in neither this run report nor its alert" in found[0]["summary"]


def test_a_down_host_stays_down_and_gets_one_host_finding():
    (entry,) = FILTERS["slice_hosts"]([summary([DOWN])])
    assert entry["status"] == "down" and entry["reason"].startswith("failed or unreachable")
    (normalised,) = normalise_hosts([entry])
    assert [f["check"] for f in normalised["findings"]] == ["run.host"]
    # Published again from an already normalised entry, the host finding is not doubled.
    again = FILTERS["slice_hosts"]([summary(normalise_hosts([DOWN]))])
    assert [f["check"] for f in normalise_hosts(again)[0]["findings"]] == ["run.host"]


def test_a_huge_slice_is_cut_least_severe_first_and_says_so():
    many = [
        host(
            "h%04d" % i,
            [finding("resources.disk", "ok", "/d%d" % j) for j in range(20)]
            + [finding("logs.pattern", "info", "/l")]
            + ([finding("health.http", "critical")] if i % 100 == 0 else []),
        )
        for i in range(1000)
    ]
    published = FILTERS["slice_entries"](many, 500)
    kept = [f for e in published["entries"] for f in e["findings"]]
    assert len(kept) == 500 and len(published["hosts"]) == 1000
    assert published["findings_cut"] == {"ok": 20000, "info": 510, "warning": 0, "critical": 0}
    assert sum(f["severity"] == "critical" for f in kept) == 10
    # The first hosts keep their info findings: the last hosts' are cut first.
    assert [f["check"] for f in published["entries"][1]["findings"]] == ["logs.pattern"]
    assert published["entries"][-1]["findings"] == []
    assert len(json.dumps(published)) < 200_000
    (note,) = FILTERS["slice_run_findings"]([{"run": "daily", "slice": published}])
    assert note["severity"] == "info" and "20510 findings of slice 1 (510 info, 20000 ok)" in note["summary"]
    cut_severe = FILTERS["slice_entries"](many, 5)
    assert cut_severe["findings_cut"]["critical"] == 5
    (warning,) = FILTERS["slice_run_findings"]([{"run": "daily", "slice": cut_severe}], [7])
    assert warning["severity"] == "warning" and "the alert did not see them" in warning["summary"]
    assert warning["target"] == "slice 7"


@pytest.mark.parametrize(
    "limit, message",
    [(-1, "from 0 to 500000"), (10**7, "from 0 to 500000"), ("many", "whole number"), (True, "whole number")],
)
def test_a_bad_limit_is_refused(limit, message):
    with pytest.raises(AnsibleFilterError, match="slice_entries: max_findings must be .*" + message.split()[0]):
        FILTERS["slice_entries"]([APP1], limit)


def test_zero_publishes_the_hosts_only():
    published = FILTERS["slice_entries"]([APP1, APP2], 0)
    assert published["hosts"] == ["app1", "app2"] and all(not e["findings"] for e in published["entries"])
    assert published["findings_cut"]["critical"] == 1


@pytest.mark.parametrize(
    "entries, message",
    [
        ({"host": "a"}, "must be a list"),
        (["a"], r"hosts\[0\] must be a mapping"),
        ([{"host": ""}], "non-empty string 'host'"),
        ([APP1, APP1], "appears twice"),
        ([host("a", [], status="sleeping")], "status 'sleeping'"),
        ([host("a", [{"check": "x", "severity": "bad", "target": "t", "summary": "s"}])], "host 'a': invalid finding"),
        ([host("a", "none")], "must be a list"),
    ],
)
def test_bad_host_entries_are_refused(entries, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["slice_entries"](entries)


def _tampered(change):
    published = summary([APP1, APP2])
    change(published["slice"])
    return published


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda part: part["entries"][1].update(findings=["oops"]), r"slice 1: host 'app2': invalid finding"),
        (lambda part: part["entries"][1].update(findings={"x": 1}), r"slice 1: the findings of host 'app2'"),
        (lambda part: part["entries"][0].update(reports=["/r"]), r"slice 1: the reports of host 'app1'"),
        (lambda part: part["entries"][0].update(status="weird"), r"slice 1: host 'app1' has status 'weird'"),
        (lambda part: part["entries"][0].update(host=""), r"slice 1: hosts\[0\] needs a non-empty string 'host'"),
        (lambda part: part["entries"].append(dict(part["entries"][0])), r"slice 1: host 'app1' appears twice"),
        (lambda part: part["entries"].append("app9"), r"slice 1: hosts\[2\] must be a mapping"),
        (lambda part: part.update(findings_cut=[1]), "slice 1: findings_cut must map severities to counts"),
        (lambda part: part.update(findings_cut={"warning": "x"}), "slice 1: findings_cut must map severities"),
        (lambda part: part.update(findings_cut={"fatal": 1}), "slice 1: findings_cut must map severities"),
    ],
)
def test_a_damaged_slice_summary_is_refused_naming_the_slice(change, message):
    """What the combining step reads back (from AWX's API or a file) is checked as the run report
    checks host entries: a clear error naming the slice, never a Python error."""
    damaged = _tampered(change)
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["slice_hosts"]([damaged])
