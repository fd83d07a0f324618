# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hosts of one run: validation, the host-down finding, fingerprints, entries from hostvars."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, make_finding
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import (
    fingerprint,
    host_down_finding,
    host_entries,
    normalise_hosts,
)

WARN = make_finding("resources.disk", "/", "warning", "disk 88 % used")
CRIT = make_finding("health.http", "http://127.0.0.1/", "critical", "connection refused")


def test_fingerprint_is_stable_and_ignores_severity_and_summary():
    assert fingerprint("web1", "resources.disk", "/") == fingerprint("web1", "resources.disk", "/")
    assert len(fingerprint("web1", "resources.disk", "/")) == 16
    distinct = {
        fingerprint("web1", "resources.disk", "/"),
        fingerprint("web2", "resources.disk", "/"),
        fingerprint("web1", "resources.inodes", "/"),
        fingerprint("web1", "resources.disk", "/var"),
        # the separator cannot be forged by moving text between the parts
        fingerprint("web1resources.disk", "", "/"),
    }
    assert len(distinct) == 5


def test_fingerprint_takes_any_text():
    assert len(fingerprint("hôst\n", "check\udcff", "x" * 1_000_000)) == 16


def test_host_down_finding_is_critical_and_names_the_rerun():
    finding = host_down_finding("db1", "")
    assert finding["check"] == "run.host"
    assert finding["target"] == "db1"
    assert finding["severity"] == "critical"
    assert "--limit db1" in finding["summary"]
    assert finding["details"] == {"reason": "failed or unreachable"}


def test_normalise_hosts_sorts_and_adds_the_down_finding_first():
    entries = normalise_hosts(
        [
            {"host": "web1", "findings": [WARN, CRIT]},
            {"host": "db1", "status": "down", "reason": "unreachable", "findings": [WARN]},
        ]
    )
    assert [e["host"] for e in entries] == ["web1", "db1"]
    assert [f["severity"] for f in entries[0]["findings"]] == ["critical", "warning"]
    assert entries[0]["status"] == "ok"
    assert entries[1]["findings"][0]["check"] == "run.host"
    assert entries[1]["findings"][0]["summary"].startswith("unreachable:")
    assert entries[1]["reports"] == {}


@pytest.mark.parametrize(
    "hosts, message",
    [
        ("web1", "hosts must be a list"),
        (["web1"], "hosts[0] must be a mapping"),
        ([{"host": ""}], "non-empty string 'host'"),
        ([{"host": None}], "non-empty string 'host'"),
        ([{"host": "a"}, {"host": "a"}], "appears twice"),
        ([{"host": "a", "status": "gone"}], "status 'gone'"),
        ([{"host": "a", "findings": "x"}], "must be a list"),
        ([{"host": "a", "findings": [{"check": "c"}]}], "host 'a': invalid finding"),
        ([{"host": "a", "reports": ["x"]}], "mapping of kind to path"),
        ([{"host": "a", "extra": 1}], "unknown keys: extra"),
    ],
)
def test_normalise_hosts_refuses_bad_entries(hosts, message):
    with pytest.raises(FindingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        normalise_hosts(hosts)


def test_host_entries_from_hostvars():
    hostvars = {
        "web1": {
            "report_all_findings": [WARN],
            "report_result": {"paths": {"markdown": "/r/web1/daily/x.md", "json": "/r/web1/daily/x.json"}},
        },
        "web2": {"report_all_findings": [CRIT], "report_result": {"paths": {"markdown": "/r/web2/daily/y.md"}}},
        "db1": {},
    }
    entries = host_entries(hostvars, ["web1", "web2", "db1"], ["web1"])
    assert entries[0] == {
        "host": "web1",
        "status": "ok",
        "findings": [WARN],
        "reports": {"markdown": "/r/web1/daily/x.md", "json": "/r/web1/daily/x.json"},
    }
    assert entries[1]["status"] == "down"
    assert entries[1]["reason"] == "failed after its report was written"
    assert entries[2] == {
        "host": "db1",
        "status": "down",
        "findings": [],
        "reports": {},
        "reason": "failed or unreachable before its report",
    }
    # what host_entries builds is what normalise_hosts takes
    assert [e["status"] for e in normalise_hosts(entries)] == ["ok", "down", "down"]
