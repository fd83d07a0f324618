# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cert_check's decisions (_cert_check) on plain data: options, the shape of every result, the output."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._cert_check import (
    build_output,
    certificate_finding,
    check_options,
    endpoint_result,
    file_result,
    needs_trust_store,
    unchecked_endpoint,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._tls import error_result

FINGERPRINT = "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"


def endpoint(**own):
    base = {
        "host": "127.0.0.1",
        "port": 443,
        "server_name": None,
        "starttls": None,
        "name": None,
        "timeout": None,
        "expected_fingerprint": None,
    }
    base.update(own)
    return base


def params(**own):
    base = {
        "endpoints": [],
        "files": ["/etc/ssl/a.pem"],
        "warning_days": 25.0,
        "critical_days": 7.0,
        "min_remaining_fraction": None,
        "critical_remaining_fraction": None,
        "verify_chain": True,
        "verify_hostname": True,
        "verify_files": False,
        "ca_path": None,
        "max_validity_days": None,
        "min_tls_version": None,
        "concurrency": 16,
        "timeout": 10,
        "total_timeout": 300,
        "unreachable_severity": "critical",
        "fail_on": "critical",
    }
    base.update(own)
    return base


def judged(severity="ok", days=80.0, kind="file", target="/etc/ssl/a.pem"):
    """A result as _tls.judge_chain would return it, reduced to plain data."""
    result = {
        "status": severity,
        "severity": severity,
        "reasons": [] if severity == "ok" else ["leaf expires in %.1f days" % days],
        "error_kind": None,
        "error": None,
        "chain": [{"subject": "CN=a"}],
        "days_remaining": days,
        "not_after": "2027-02-25T13:00:00Z",
        "expires_first": "CN=a",
        "fingerprint_sha256": FINGERPRINT,
        "hostname_match": None,
        "trusted": None,
        "chain_complete": None,
        "chain_in_order": None,
        "verify_error": None,
        "kind": kind,
        "target": target,
    }
    if kind == "file":
        result.update(private_key=False, notes=[])
    return result


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [(10, 10.0), (2.5, 2.5), ("10", 10.0), ("10s", 10.0), ("500ms", 0.5), ("1m", 60.0), ("1h", 3600.0)],
)
def test_timeouts_are_numbers_of_seconds_or_durations(value, seconds):
    settings = check_options(params(timeout=value, total_timeout=value, endpoints=[endpoint()]))
    assert settings["timeout"] == seconds
    assert settings["total_timeout"] == seconds
    assert settings["endpoints"][0]["timeout"] == seconds


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("timeout", -1, "timeout must be greater than 0, got -1"),
        ("timeout", 0, "timeout must be greater than 0"),
        ("timeout", "0s", "timeout must be greater than 0"),
        ("timeout", "nan", "timeout must be a finite number"),
        ("timeout", float("nan"), "timeout must be a finite number"),
        ("timeout", "inf", "timeout must be a finite number"),
        ("timeout", "abc", "timeout: cannot read 'abc' as a duration"),
        ("timeout", "-5s", "timeout: cannot read '-5s' as a duration"),
        ("timeout", "2h", "timeout must be at most 3600"),
        ("timeout", True, "timeout must be a number, got a boolean"),
        ("total_timeout", "2d", "total_timeout must be at most 86400"),
        ("total_timeout", "5 parsecs", "total_timeout: unknown duration unit 'parsecs'"),
    ],
)
def test_bad_timeouts_name_the_option(name, value, message):
    with pytest.raises(FindingError) as caught:
        check_options(params(**{name: value}))
    assert message in str(caught.value)


def test_an_endpoint_timeout_is_its_own_or_the_general_one():
    settings = check_options(
        params(timeout="3s", endpoints=[endpoint(timeout="250ms"), endpoint(), endpoint(timeout=1)])
    )
    assert [e["timeout"] for e in settings["endpoints"]] == [0.25, 3.0, 1.0]
    with pytest.raises(FindingError, match=r"endpoints\[1\]\.timeout: cannot read 'soon' as a duration"):
        check_options(params(endpoints=[endpoint(), endpoint(timeout="soon")]))


def test_options_are_read_not_changed():
    given = params(endpoints=[endpoint(expected_fingerprint=FINGERPRINT.lower(), timeout="2s")])
    before = copy.deepcopy(given)
    settings = check_options(given)
    assert given == before
    assert settings["endpoints"][0]["expected_fingerprint"] == FINGERPRINT.replace(":", "").lower()
    assert settings["judge"] == {
        "warning_days": 25.0,
        "critical_days": 7.0,
        "min_remaining_fraction": None,
        "critical_remaining_fraction": None,
        "max_validity_days": None,
        "min_tls_version": None,
    }


@pytest.mark.parametrize(
    "own, message",
    [
        ({"files": []}, "nothing to check: give endpoints, files, or both"),
        ({"endpoints": [endpoint(host=" ")]}, "endpoints[0]: host is empty"),
        ({"endpoints": [endpoint(port=0)]}, "endpoints[0] (127.0.0.1): port 0 is out of range 1-65535"),
        ({"concurrency": 257}, "concurrency must be between 1 and 256, got 257"),
        ({"max_validity_days": 0}, "max_validity_days must be a positive number of days, got 0"),
        ({"files": ["a.pem", " "]}, "files[1] is empty: give a file path or a glob pattern"),
        ({"warning_days": 3, "critical_days": 7}, "warning_days (3) must not be lower than critical_days (7)"),
        ({"critical_days": -1}, "critical_days must be at least 0"),
        ({"endpoints": [endpoint(expected_fingerprint="AB:CD")]}, "expected_fingerprint must be a SHA-256"),
    ],
)
def test_bad_options_are_refused(own, message):
    with pytest.raises(FindingError) as caught:
        check_options(params(**own))
    assert message in str(caught.value)


def test_the_trust_store_is_needed_only_for_what_is_validated():
    assert needs_trust_store(params(endpoints=[endpoint()], files=[]))
    assert not needs_trust_store(params(endpoints=[endpoint()], files=[], verify_chain=False))
    assert not needs_trust_store(params())
    assert needs_trust_store(params(verify_files=True))


# --- every result has the same keys ------------------------------------------------------------


def test_every_target_result_has_the_same_keys():
    checked = endpoint_result(endpoint(name="web"), dict(judged(kind="endpoint"), hostname="web.test"), 12.5)
    missed = unchecked_endpoint(endpoint(), "timeout", "not checked within total_timeout (3.0s)", "warning")
    unmatched = file_result("/etc/*.pem", None, error_result("file", "no file matches /etc/*.pem", "critical"))
    for result in (checked, missed):
        assert set(result) == set(checked)
    assert checked["target"] == "web" and checked["hostname"] == "web.test" and checked["duration_ms"] == 12.5
    assert missed["target"] == "127.0.0.1:443" and missed["duration_ms"] is None and missed["hostname"] is None
    assert missed["status"] == "error" and missed["severity"] == "warning" and missed["error_kind"] == "timeout"
    assert unmatched["target"] == "/etc/*.pem" and unmatched["path"] is None and unmatched["blocks"] == []
    assert set(checked) - set(unmatched) == {"host", "port", "server_name", "starttls", "address", "duration_ms"}


# --- findings and the output -------------------------------------------------------------------


def test_findings_are_worst_first_with_the_targets_details():
    results = [judged("ok", target="/a.pem"), judged("warning", 20.0, target="/b.pem")]
    output = build_output(results, 4.2, "critical")
    assert [f["target"] for f in output["findings"]] == ["/b.pem", "/a.pem"]
    assert output["findings"][0]["check"] == "certificates.file"
    assert output["findings"][0]["details"]["days_remaining"] == 20.0
    assert output["findings"][0]["details"]["private_key"] is False
    assert output["worst_severity"] == "warning"
    assert output["summary"]["duration_ms"] == 4.2 and output["summary"]["warning"] == 1
    assert output["changed"] is False and "msg" not in output


def test_fail_on_names_the_targets_that_reach_it():
    output = build_output([judged("critical", 3.0, target="/c.pem")], 1.0, "critical")
    assert output["msg"] == "1 certificate target(s) at critical or worse: /c.pem: critical: leaf expires in 3.0 days"
    assert "msg" not in build_output([judged("critical", 3.0)], 1.0, "never")


def test_fail_on_info_fails_on_an_info_finding_and_not_on_ok():
    info = judged("ok", target="/i.pem")
    info["severity"] = "info"
    assert build_output([info], 1.0, "info")["msg"].startswith("1 certificate target(s) at info or worse: /i.pem")
    assert "msg" not in build_output([judged("ok")], 1.0, "info")
    assert "msg" not in build_output([info], 1.0, "warning")


def test_an_endpoint_finding_has_no_file_details():
    finding = certificate_finding(endpoint_result(endpoint(), judged(kind="endpoint"), 1.0))
    assert finding["check"] == "certificates.endpoint" and "private_key" not in finding["details"]
