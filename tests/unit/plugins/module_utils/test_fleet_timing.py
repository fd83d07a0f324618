# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host timing, stragglers, the rerun hint and the fleet threshold (_fleet_timing) on plain data."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import host_down_finding, host_entries
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_html import render_page
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import (
    build_fleet_report,
    check_options,
    read_hosts,
    render_markdown,
    timing_line,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_timing import (
    TIMING_HINT,
    check_max_fail_percentage,
    fleet_threshold_finding,
    limit_pattern,
    median,
    read_timing,
    straggler_findings,
    timing_summary,
)

NOW = datetime(2026, 12, 6, 2, 0, 0, tzinfo=timezone.utc)


def timed(host, wall, checks=None, status="ok"):
    entry = {"host": host, "status": status, "findings": []}
    if wall is not None:
        entry["timing"] = {"wall_s": wall, "checks": checks if checks is not None else {"health": wall}, "tasks": 3}
    return entry


def summary_of(*entries):
    return timing_summary(read_hosts(list(entries)))


# --- reading ---------------------------------------------------------------------------------


def test_read_timing_rounds_and_keeps_the_slowest_checks():
    got = read_timing("web1", {"wall_s": 12.34567, "checks": {"a": 1, "b": 10.0004, "c": 2}, "tasks": 7})
    assert got == {"wall_s": 12.346, "checks": {"b": 10.0, "c": 2.0, "a": 1.0}, "tasks": 7}
    assert list(got["checks"]) == ["b", "c", "a"]


@pytest.mark.parametrize("empty", [None, {}])
def test_no_timing_is_none(empty):
    assert read_timing("web1", empty) is None


@pytest.mark.parametrize(
    "timing, words",
    [
        ("12", "must be a mapping"),
        ({"wall_s": -1}, "wall_s must be a finite number of seconds >= 0"),
        ({"wall_s": math.nan}, "finite"),
        ({"wall_s": math.inf}, "finite"),
        ({"wall_s": True}, "must be a number"),
        ({"wall_s": "3"}, "must be a number"),
        ({"wall_s": 1, "checks": [1]}, "checks must be a mapping"),
        ({"wall_s": 1, "checks": {"x": -2}}, "check 'x'"),
        ({"wall_s": 1, "tasks": -1}, "tasks must be a count"),
    ],
)
def test_bad_timing_names_the_host(timing, words):
    with pytest.raises(FindingError, match="web1") as info:
        read_timing("web1", timing)
    assert words in str(info.value)


def test_median_odd_and_even():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5


# --- the summary: slowest host and check, stragglers -------------------------------------------


def test_slowest_host_and_its_slowest_check_and_one_straggler():
    got = summary_of(
        timed("web1", 10.0, {"health": 6.0, "logs": 4.0}),
        timed("web2", 11.0, {"health": 5.0, "logs": 6.0}),
        timed("web3", 12.0),
        timed("db1", 31.0, {"postgres_health": 25.0, "health": 6.0}),
    )
    assert got["available"] and got["judged"]
    assert got["median_s"] == 11.5
    assert got["slowest"] == {"host": "db1", "wall_s": 31.0, "check": {"check": "postgres_health", "seconds": 25.0}}
    assert got["stragglers"] == [{"host": "db1", "wall_s": 31.0, "ratio": 2.7}]


def test_twice_the_median_but_within_five_seconds_is_not_a_straggler():
    got = summary_of(timed("a", 1.0), timed("b", 1.0), timed("c", 4.0))
    assert got["stragglers"] == []
    assert got["slowest"]["host"] == "c"


def test_five_seconds_over_but_less_than_twice_the_median_is_not_a_straggler():
    got = summary_of(timed("a", 20.0), timed("b", 20.0), timed("c", 35.0))
    assert got["stragglers"] == []


def test_one_host_is_timed_but_never_judged():
    got = summary_of(timed("only", 100.0))
    assert got["available"] and not got["judged"]
    assert got["median_s"] == 100.0 and got["slowest"]["host"] == "only" and got["stragglers"] == []


def test_two_hosts_are_never_judged_even_far_apart():
    assert summary_of(timed("a", 1.0), timed("b", 100.0))["stragglers"] == []


def test_all_equal_no_straggler_and_the_first_by_name_is_slowest():
    got = summary_of(timed("c", 5.0), timed("a", 5.0), timed("b", 5.0))
    assert got["stragglers"] == [] and got["slowest"]["host"] == "a"


def test_zero_durations_and_a_zero_median():
    got = summary_of(timed("a", 0.0, {}), timed("b", 0.0, {}), timed("c", 6.0, {}))
    assert got["median_s"] == 0.0
    assert got["slowest"] == {"host": "c", "wall_s": 6.0, "check": None}
    assert got["stragglers"] == [{"host": "c", "wall_s": 6.0, "ratio": None}]
    finding = straggler_findings(got, {"c": {}})[0]
    assert "inf" in finding["summary"] and "slowest check" not in finding["summary"]


def test_missing_timing_everywhere_says_how_to_enable_it():
    got = summary_of(timed("a", None), timed("b", None, status="down"))
    assert got == {"available": False, "note": TIMING_HINT, "hosts": {}, "untimed": ["a", "b"], "stragglers": []}
    assert "callbacks_enabled" in timing_line(got)


def test_a_down_host_without_timing_is_untimed_and_not_in_the_median():
    got = summary_of(timed("a", 2.0), timed("b", 2.0), timed("c", 2.0), timed("down1", None, status="down"))
    assert got["untimed"] == ["down1"] and "down1" not in got["hosts"] and got["median_s"] == 2.0
    assert "no timing for down1" in timing_line(got)


def test_straggler_finding_is_info_and_names_the_slowest_check():
    got = summary_of(timed("a", 2.0), timed("b", 2.0), timed("c", 20.0, {"logs": 15.0, "health": 5.0}))
    [finding] = straggler_findings(got, {"c": {"logs": 15.0, "health": 5.0}})
    assert finding["check"] == "report.stragglers" and finding["target"] == "c" and finding["severity"] == "info"
    assert finding["summary"] == "took 20.0 s, 10.0x the median of 2.0 s over 3 hosts; slowest check logs (15.0 s)"
    assert finding["details"]["slowest_check"] == {"check": "logs", "seconds": 15.0}


# --- rerun hint ------------------------------------------------------------------------------


def test_limit_pattern_of_an_odd_name_is_an_anchored_escaped_regex():
    assert limit_pattern("web,1") == "~^web\\x2c1$"
    assert limit_pattern("web1") == "web1"


def test_the_down_finding_keeps_its_message_for_plain_names_and_quotes_odd_ones():
    assert host_down_finding("down1", "unreachable")["summary"] == (
        "unreachable: none of its checks reported in this run (rerun with --limit down1)"
    )
    assert "--limit '~^a\\x3ab$'" in host_down_finding("a:b", "")["summary"]


# --- the fleet threshold ---------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(0, 0), (100, 100), ("25", 25), (" 30% ", 30), (50.0, 50)])
def test_max_fail_percentage_accepts_integers_0_to_100(value, expected):
    assert check_max_fail_percentage(value) == expected


@pytest.mark.parametrize("value", ["abc", 150, -1, 12.5, True, None, "", "101", [], "1e2"])
def test_max_fail_percentage_refuses_the_rest_naming_the_variable(value):
    with pytest.raises(FindingError, match="stronghold_max_fail_percentage must be an integer from 0 to 100"):
        check_max_fail_percentage(value)


def test_threshold_is_crossed_only_beyond_the_percentage():
    assert fleet_threshold_finding(10, ["a"], 10) is None  # 10 % is not more than 10 %
    finding = fleet_threshold_finding(10, ["a", "b"], 10)
    assert finding["check"] == "report.fleet" and finding["severity"] == "critical"
    assert finding["summary"] == (
        "2 of 10 hosts (20%) failed or were unreachable, more than stronghold_max_fail_percentage 10%; "
        "rerun --limit a,b"
    )
    assert fleet_threshold_finding(1, ["a"], 100) is None
    assert fleet_threshold_finding(3, ["a"], 0)["details"]["percent"] == 33.3
    assert fleet_threshold_finding(0, [], 0) is None
    assert fleet_threshold_finding(3, [], 0) is None


def test_check_options_refuses_a_percentage_out_of_range():
    params = {"run": "daily", "keep": 1, "trend_days": 0, "formats": ["json"], "max_fail_percentage": 101}
    with pytest.raises(FindingError, match="max_fail_percentage must be an integer from 0 to 100, got 101"):
        check_options(params)


# --- the run report ----------------------------------------------------------------------------


def fleet():
    return read_hosts(
        [
            timed("web1", 10.0, {"health": 6.0, "logs": 4.0}),
            timed("web2", 11.0),
            timed("web3", 12.0),
            {"host": "db,1", "status": "down", "reason": "unreachable: Connection timed out"},
            timed("db2", 40.0, {"postgres_health": 30.0, "health": 10.0}),
        ]
    )


def test_run_report_carries_timing_stragglers_rerun_and_threshold():
    report = build_fleet_report(fleet(), [], "daily", "critical", {}, None, NOW, max_fail_percentage=10)
    summary = report["summary"]
    assert summary["timing"]["slowest"]["host"] == "db2"
    assert summary["timing"]["slowest"]["check"] == {"check": "postgres_health", "seconds": 30.0}
    assert [s["host"] for s in summary["timing"]["stragglers"]] == ["db2"]
    assert summary["rerun"] == {"hosts": ["db,1"], "limit": "--limit '~^db\\x2c1$'"}
    assert summary["checks"]["report.stragglers"]["info"] == 1
    assert summary["checks"]["report.fleet"]["critical"] == 1
    db2 = next(h for h in report["hosts"] if h["host"] == "db2")
    assert db2["timing"]["wall_s"] == 40.0
    assert any(f["check"] == "report.stragglers" for f in db2["findings"])
    assert [f["check"] for f in report["run_findings"]] == ["report.fleet"]
    markdown = render_markdown(report)
    assert "Rerun the failed hosts (db,1): `ansible-playbook <playbook> --limit '~^db\\x2c1$'`" in markdown
    assert "## Time per host" in markdown and "| db2 | 40.0 | much slower than the median |" in markdown
    assert (
        "Slowest host db2: 40.0 s, slowest check postgres_health (30.0 s); median 11.5 s over 4 timed hosts" in markdown
    )
    page = render_page(report, [])
    assert '<code id="rerun">ansible-playbook &lt;playbook&gt; --limit &#x27;~^db\\x2c1$&#x27;</code>' in page
    assert '<tr class="straggler"><th scope="row" title="db2">db2' in page


def test_run_report_at_the_default_threshold_has_no_fleet_finding():
    report = build_fleet_report(fleet(), [], "daily", "critical", {}, None, NOW)
    assert "report.fleet" not in report["summary"]["checks"] and report["summary"]["max_fail_percentage"] == 100


def test_run_report_without_timing_says_so():
    entries = read_hosts([{"host": "web1", "status": "ok", "findings": []}])
    report = build_fleet_report(entries, [], "daily", "critical", {}, None, NOW)
    assert report["summary"]["timing"]["available"] is False
    assert report["summary"]["rerun"] == {}
    assert TIMING_HINT in render_markdown(report).replace("\\", "")
    assert "per-host timing not available" in render_page(report, [])


def test_host_entries_read_the_callbacks_timing_and_unreachable_message():
    hostvars = {
        "web1": {"stronghold_timing": {"wall_s": 3.5, "checks": {"health": 3.5}, "tasks": 4}},
        "down1": {"stronghold_timing": {"wall_s": 0.2, "checks": {}, "tasks": 1, "unreachable": "ssh:\n refused"}},
        "down2": {},
    }
    entries = host_entries(hostvars, ["web1", "down1", "down2"], ["web1"])
    assert entries[0]["timing"] == {"wall_s": 3.5, "checks": {"health": 3.5}, "tasks": 4}
    assert entries[1]["reason"] == "unreachable: ssh: refused"
    assert entries[2]["reason"] == "failed or unreachable before its report" and "timing" not in entries[2]
    normalised = read_hosts(entries)
    assert normalised[1]["findings"][0]["summary"] == (
        "unreachable: ssh: refused: none of its checks reported in this run (rerun with --limit down1)"
    )


def test_a_rescued_failed_task_counts_as_failed_for_the_rerun_and_the_threshold():
    task_failed = {"check": "run.task", "target": "Probe (role health)", "severity": "critical", "summary": "timed out"}
    entries = read_hosts(
        [
            {"host": "web1", "status": "ok", "findings": []},
            {"host": "web2", "status": "ok", "findings": [task_failed]},
            {"host": "down1", "status": "down"},
        ]
    )
    report = build_fleet_report(entries, [], "daily", "critical", {}, None, NOW, max_fail_percentage=50)
    assert report["summary"]["rerun"] == {"hosts": ["web2", "down1"], "limit": "--limit web2,down1"}
    assert report["summary"]["down_hosts"] == ["down1"]
    assert "2 of 3 hosts (66.7%)" in report["run_findings"][0]["summary"]
    assert "Rerun the failed hosts (web2, down1): `ansible-playbook <playbook> --limit web2,down1`" in render_markdown(
        report
    )


def test_the_timing_line_of_one_timed_host_says_host_not_hosts():
    from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import timing_line

    one = {
        "available": True,
        "hosts": {"lab": 9.0},
        "untimed": [],
        "median_s": 9.0,
        "slowest": {"host": "lab", "wall_s": 9.0, "check": {"check": "resources", "seconds": 2.8}},
        "stragglers": [],
        "judged": False,
    }
    assert timing_line(one).startswith(
        "Slowest host lab: 9.0 s, slowest check resources (2.8 s); median 9.0 s over 1 timed host"
    )
    assert "1 timed hosts" not in timing_line(one)
