# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters of plugins/filter/findings.py, called as a template calls them: through FilterModule."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.filter.findings import FilterModule

FILTERS = FilterModule().filters()
FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"


def finding(check="backup.verify", target="/var/backups", severity="ok", summary="fine", details=None):
    return {"check": check, "target": target, "severity": severity, "summary": summary, "details": details or {}}


def container(service, state="running", status="Up 2 minutes (healthy)", project="fs"):
    # The shape of the Docker API's container list, as community.docker.docker_host_info gives it.
    return {
        "Id": "0123456789abcdef",
        "Names": ["/%s-%s-1" % (project, service)],
        "State": state,
        "Status": status,
        "Image": "financial-stronghold:1.1.0",
        "Labels": {"com.docker.compose.project": project, "com.docker.compose.service": service},
    }


def test_every_filter_is_documented_and_every_documentation_has_its_filter():
    # Every filter plugin file of the collection, not only this one: a filter without its YAML
    # documentation is invisible to ansible-doc, a YAML without its filter documents nothing.
    provided = set()
    for path in sorted(FILTER_DIR.glob("*.py")):
        plugin = importlib.import_module("ansible_collections.stronghold.ops.plugins.filter." + path.stem)
        names = set(plugin.FilterModule().filters())
        assert not names & provided, "%s defines a filter another file defines too" % path.name
        provided |= names
    assert set(FILTERS) <= provided
    documented = {p.stem for p in FILTER_DIR.glob("*.yml")}
    assert provided == documented


# --- finding ---------------------------------------------------------------------------------


def test_finding_builds_the_model_with_empty_details_by_default():
    assert FILTERS["finding"]("health.http", "http://app/", "warning", "slow") == {
        "check": "health.http",
        "target": "http://app/",
        "severity": "warning",
        "summary": "slow",
        "details": {},
    }
    assert FILTERS["finding"]("health.http", "http://app/", "ok", "fast", {"elapsed_ms": 41})["details"] == {
        "elapsed_ms": 41
    }


# --- worst_severity, severity_at_least, threshold_severity ------------------------------------


def test_worst_severity_of_findings_and_of_names():
    assert FILTERS["worst_severity"]([]) == "ok"
    assert FILTERS["worst_severity"](None) == "ok"
    assert FILTERS["worst_severity"]([finding(severity="info"), finding(severity="warning")]) == "warning"
    assert FILTERS["worst_severity"](["ok", "critical", "info"]) == "critical"


@pytest.mark.parametrize(
    "severity, threshold, expected",
    [
        ("critical", "warning", True),
        ("warning", "warning", True),
        ("info", "warning", False),
        ("critical", "never", False),
    ],
)
def test_severity_at_least(severity, threshold, expected):
    assert FILTERS["severity_at_least"](severity, threshold) is expected


@pytest.mark.parametrize(
    "value, direction, expected",
    [
        (80, "above", "ok"),
        (85, "above", "ok"),  # the runbook says "> 85 %": the threshold itself is not reached
        (86, "above", "warning"),
        (96, "above", "critical"),
        (30, "below", "ok"),
        (10, "below", "warning"),
        (3, "below", "critical"),
    ],
)
def test_threshold_severity(value, direction, expected):
    warning, critical = (85, 95) if direction == "above" else (14, 7)
    assert FILTERS["threshold_severity"](value, warning, critical, direction) == expected


def test_threshold_severity_without_thresholds_is_ok():
    assert FILTERS["threshold_severity"]("99.5") == "ok"


# --- compose_service_findings -----------------------------------------------------------------


def test_compose_service_findings_a_running_healthy_container_is_ok():
    found = FILTERS["compose_service_findings"]([container("web")], "fs", ["web"])
    assert len(found) == 1
    assert found[0]["check"] == "health.containers"
    assert found[0]["target"] == "fs/web"
    assert found[0]["severity"] == "ok"


def test_compose_service_findings_a_missing_service_is_critical_under_the_given_check():
    found = FILTERS["compose_service_findings"]([container("web")], "fs", ["web", "worker"], "deploy.containers")
    by_target = {f["target"]: f for f in found}
    assert by_target["fs/worker"]["severity"] == "critical"
    assert by_target["fs/worker"]["check"] == "deploy.containers"
    assert by_target["fs/web"]["severity"] == "ok"


def test_compose_service_findings_another_projects_container_does_not_count():
    found = FILTERS["compose_service_findings"]([container("web", project="other")], "fs", ["web"])
    assert found[0]["severity"] == "critical"


# --- duration_seconds, size_bytes, percent ----------------------------------------------------


@pytest.mark.parametrize("value, seconds", [(90, 90.0), ("90", 90.0), ("26h", 93600.0), ("1h 30m", 5400.0)])
def test_duration_seconds(value, seconds):
    assert FILTERS["duration_seconds"](value) == seconds


@pytest.mark.parametrize(
    "value, size", [(1024, 1024), ("512K", 512 * 1024), ("10G", 10 * 1024**3), ("10GB", 10 * 10**9)]
)
def test_size_bytes(value, size):
    assert FILTERS["size_bytes"](value) == size


@pytest.mark.parametrize("value, number", [(85, 85.0), ("85%", 85.0), (" 85.5 % ", 85.5), (0, 0.0), ("100", 100.0)])
def test_percent(value, number):
    assert FILTERS["percent"](value) == number


# --- result_findings: the one rescue rule -----------------------------------------------------

WHAT = ("backup.verify", "/var/backups", "backup verification")


@pytest.mark.parametrize("result", [None, {}, [], {"skipped": True, "changed": False}])
def test_result_findings_a_task_that_did_not_run_gives_nothing(result):
    assert FILTERS["result_findings"](result, *WHAT) == []


@pytest.mark.parametrize("result", [None, {}, {"skipped": True, "skip_reason": "Conditional result was False"}])
def test_result_findings_a_task_that_did_not_run_gives_the_skipped_summary_as_info(result):
    assert FILTERS["result_findings"](result, *WHAT, "no backup directory configured") == [
        finding(severity="info", summary="no backup directory configured")
    ]


def test_result_findings_passes_the_findings_of_a_result_through():
    findings = [finding(severity="warning", summary="newest backup is 27 h old", details={"age": 97200}), finding()]
    result = {"changed": False, "findings": findings, "worst_severity": "warning"}
    assert FILTERS["result_findings"](result, *WHAT) == findings
    # Even when a skipped summary is given: it is for a task that did not run.
    assert FILTERS["result_findings"](result, *WHAT, "skipped") == findings


def test_result_findings_normalises_findings_without_details():
    result = {"findings": [{"check": "c", "target": "t", "severity": "ok", "summary": "s"}]}
    assert FILTERS["result_findings"](result, *WHAT) == [finding("c", "t", "ok", "s")]


def test_result_findings_a_failed_result_with_a_critical_finding_says_nothing_more():
    findings = [finding(severity="critical", summary="no backup in 30 h")]
    result = {"failed": True, "msg": "critical findings: no backup in 30 h", "findings": findings}
    assert FILTERS["result_findings"](result, *WHAT) == findings


def test_result_findings_a_failed_result_without_a_critical_finding_adds_one():
    findings = [finding(severity="warning", summary="slow")]
    result = {"failed": True, "msg": "timed out after 60 s", "findings": findings}
    assert FILTERS["result_findings"](result, *WHAT) == findings + [
        finding(severity="critical", summary="backup verification failed: timed out after 60 s")
    ]


def test_result_findings_a_failed_result_with_no_findings_at_all_adds_one():
    result = {"failed": True, "msg": "interrupted", "findings": []}
    assert FILTERS["result_findings"](result, *WHAT) == [
        finding(severity="critical", summary="backup verification failed: interrupted")
    ]


@pytest.mark.parametrize(
    "result, message",
    [
        ({"failed": True, "msg": "directory /var/backups does not exist"}, "directory /var/backups does not exist"),
        ({"failed": True}, "no result"),
        (
            {"unreachable": True, "msg": "Failed to connect to the host via ssh"},
            "Failed to connect to the host via ssh",
        ),
        ({"failed": True, "msg": "bad", "findings": "not a list"}, "bad"),
    ],
)
def test_result_findings_a_result_without_findings_did_not_run(result, message):
    assert FILTERS["result_findings"](result, *WHAT) == [
        finding(severity="critical", summary="backup verification did not run: " + message)
    ]


def test_result_findings_a_result_that_is_not_a_mapping_is_an_error():
    with pytest.raises(
        AnsibleFilterError, match="^result_findings: the result of backup verification must be a mapping"
    ):
        FILTERS["result_findings"]("oops", *WHAT)


def test_result_findings_a_malformed_finding_is_an_error():
    with pytest.raises(AnsibleFilterError, match="^result_findings: a finding has unknown keys: level"):
        FILTERS["result_findings"]({"findings": [dict(finding(), level=3)]}, *WHAT)


# --- bad input: AnsibleFilterError naming the filter ------------------------------------------


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("finding", ("health.http", "http://app/", "fatal", "x"), "unknown severity 'fatal'"),
        ("finding", ("health.http", "http://app/", "ok", "  "), "non-empty string 'summary'"),
        ("finding", ("health.http", "http://app/", "ok", "x", ["not", "a", "mapping"]), "must be a mapping"),
        ("worst_severity", (["ok", "fatal"],), "unknown severity 'fatal'"),
        ("severity_at_least", ("bad", "warning"), "unknown severity 'bad'"),
        ("severity_at_least", ("ok", "sometimes"), "unknown severity 'sometimes'"),
        ("threshold_severity", (50, 90, 80), "warning threshold 90.0 is above the critical threshold 80.0"),
        ("threshold_severity", (50, 10, 20, "sideways"), "direction must be 'above' or 'below'"),
        ("threshold_severity", ("lots",), "value must be a number"),
        ("duration_seconds", ("5 parsecs",), "unknown duration unit 'parsecs'"),
        ("duration_seconds", (-5,), "cannot be negative"),
        ("size_bytes", ("ten gigs",), "cannot read 'ten gigs' as a size"),
        ("percent", (101,), "between 0 and 100"),
        ("percent", (True,), "got a boolean"),
        ("result_findings", (42, "c", "t", "the task"), "must be a mapping, got int"),
    ],
)
def test_bad_input_raises_an_ansible_filter_error_naming_the_filter(name, args, message):
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS[name](*args)
    assert str(caught.value).startswith(name + ": ")
    assert message in str(caught.value)
