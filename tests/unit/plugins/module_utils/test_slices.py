# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run summary of a sliced job, combined from the summaries of its slices."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, make_finding
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import build_fleet_report, read_hosts
from ansible_collections.stronghold.ops.plugins.module_utils._slices import (
    combine_slice_summaries,
    publish_slice_entries,
    slice_host_entries,
)

NOW = datetime(2027, 3, 28, 6, 0, tzinfo=timezone.utc)
DISK = make_finding("resources.disk", "/", "warning", "disk 88 % used")
HTTP = make_finding("health.http", "http://127.0.0.1/", "critical", "connection refused")
BACKUP = make_finding("backup.fresh", "/backups", "ok", "newest backup 3 h old")


def _entry(host, findings, status="ok"):
    return {
        "host": host,
        "status": status,
        "findings": findings,
        "reports": {"markdown": "/r/%s/daily/latest.md" % host},
    }


def _summary(entries, run="daily"):
    """A slice's summary exactly as fleet_report builds it for set_stats."""
    return build_fleet_report(read_hosts(entries), [], run, "critical", {}, None, NOW)["summary"]


def test_two_slices_make_the_summary_of_one_run_over_all_hosts():
    first = _summary([_entry("app1", [DISK, BACKUP]), _entry("app3", [BACKUP])])
    second = _summary([_entry("app2", [HTTP])])
    combined = combine_slice_summaries([first, second], "critical")
    whole = _summary([_entry("app1", [DISK, BACKUP]), _entry("app3", [BACKUP]), _entry("app2", [HTTP])])
    # What one unsliced run over the three hosts says, the combined summary says.
    for key in (
        "run",
        "worst_severity",
        "threshold_reached",
        "total",
        "counts",
        "checks",
        "hosts",
        "down_hosts",
        "problems_total",
    ):
        assert combined[key] == whole[key], key
    assert sorted(combined["problems"]) == sorted(whole["problems"])
    assert combined["problems"][0].startswith("critical app2 health.http")
    assert [s["hosts"] for s in combined["slices"]] == [["app1", "app3"], ["app2"]]


def test_a_host_in_two_slices_is_refused():
    first = _summary([_entry("app1", [DISK])])
    second = _summary([_entry("app1", [BACKUP]), _entry("app2", [BACKUP])])
    with pytest.raises(FindingError, match="host app1 is in slice 1 and slice 2"):
        combine_slice_summaries([first, second], "critical")


def test_summaries_of_different_runs_are_refused():
    with pytest.raises(FindingError, match="different runs: daily, weekly"):
        combine_slice_summaries([_summary([_entry("a", [])]), _summary([_entry("b", [])], run="weekly")], "critical")
    with pytest.raises(FindingError, match="no slice summary"):
        combine_slice_summaries([], "critical")


def test_the_threshold_is_judged_on_the_whole_run_and_down_hosts_are_kept():
    first = _summary([_entry("app1", [DISK])])
    down = {"host": "app2", "status": "down", "reason": "unreachable (ssh timeout)", "findings": [], "reports": {}}
    second = _summary([down])
    combined = combine_slice_summaries([first, second], "warning")
    assert combined["threshold_reached"] is True
    assert combined["down_hosts"] == ["app2"]
    assert combine_slice_summaries([first], "never")["threshold_reached"] is False


def test_the_run_report_of_the_published_hosts_says_what_the_combined_summaries_say():
    # What the combining step writes (fleet_report over slice_host_entries) has the counts that
    # combine_slice_summaries adds up from the slices' own summaries.
    slices = [[_entry("app1", [DISK, BACKUP]), _entry("app3", [BACKUP])], [_entry("app2", [HTTP])]]
    summaries = [dict(_summary(entries), slice=publish_slice_entries(entries)) for entries in slices]
    written = _summary(slice_host_entries(summaries))
    combined = combine_slice_summaries(summaries, "critical")
    for key in ("worst_severity", "threshold_reached", "total", "counts", "checks", "down_hosts", "problems_total"):
        assert written[key] == combined[key], key
    assert sorted(written["hosts"]) == sorted(combined["hosts"]) == ["app1", "app2", "app3"]


def test_each_host_s_timing_goes_through_its_slice_to_the_combined_entries():
    timed = dict(_entry("app1", [DISK]), timing={"wall_s": 12.5, "checks": {"health": 2.0, "logs": 9.5}, "tasks": 40})
    untimed = _entry("app2", [BACKUP])
    summaries = [
        dict(_summary([timed]), slice=publish_slice_entries([timed])),
        dict(_summary([untimed]), slice=publish_slice_entries([untimed])),
    ]
    combined = {entry["host"]: entry for entry in slice_host_entries(summaries)}
    assert combined["app1"]["timing"] == {"wall_s": 12.5, "checks": {"logs": 9.5, "health": 2.0}, "tasks": 40}
    assert "timing" not in combined["app2"]
    # The combined run report then has the time of the host that had one.
    written = build_fleet_report(read_hosts(list(combined.values())), [], "daily", "critical", {}, None, NOW)
    timing = written["summary"]["timing"]
    assert timing["hosts"] == {"app1": 12.5}
    assert timing["untimed"] == ["app2"]
    assert timing["slowest"] == {"host": "app1", "wall_s": 12.5, "check": {"check": "logs", "seconds": 9.5}}
