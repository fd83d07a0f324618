# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_rollback refuses number options that a plain comparison lets through, before it
looks at Docker (the module itself runs against a real engine in the integration target)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.modules import compose_rollback


@pytest.fixture
def project(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  app:\n    image: crtest:1\n    network_mode: host\n")
    return str(tmp_path)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("lock_wait", "nan", "lock_wait must be a finite number"),
        ("lock_wait", "inf", "lock_wait must be a finite number"),
        ("lock_wait", -1, "lock_wait must be at least 0"),
        ("lock_wait", 1e300, "lock_wait must be at most 86400"),
        ("health_interval", "nan", "health_interval must be a finite number"),
        ("health_request_timeout", 0, "health_request_timeout must be greater than 0"),
        ("health_request_timeout", "-inf", "health_request_timeout must be a finite number"),
        ("health_timeout", -5, "health_timeout must be at least 0"),
        ("health_timeout", 10**12, "health_timeout must be at most 86400"),
        ("unhealthy_grace", 10**12, "unhealthy_grace must be at most 86400"),
        ("health_retries", 10**9, "health_retries must be at most 10000"),
        ("history_size", 0, "history_size must be at least 1"),
    ],
)
def test_number_options_are_finite_and_bounded(run_module, project, option, value, message):
    outcome = run_module(compose_rollback.main, {"project_src": project, option: value})
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert not outcome.result.get("changed")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("health_timeout", "2d", "health_timeout must be at most 86400"),
        ("unhealthy_grace", "a while", "unhealthy_grace: cannot read 'a while' as a duration"),
        ("lock_wait", "-1m", "lock_wait: cannot read '-1m' as a duration"),
        ("health_url", "http://127.0.0.1:eighty/", "health_url must be an http:// or https:// URL"),
    ],
)
def test_durations_and_the_health_url_rule(run_module, project, option, value, message):
    outcome = run_module(compose_rollback.main, {"project_src": project, option: value})
    assert outcome.failed
    assert message in outcome.result["msg"]


def test_a_failure_before_anything_changed_is_a_critical_finding(run_module, project):
    outcome = run_module(compose_rollback.main, {"project_src": project, "state": "deployed"})
    assert outcome.failed
    assert not outcome.result["changed"]
    assert outcome.result["worst_severity"] == "critical"
    [finding] = outcome.result["findings"]
    assert finding["check"] == "deploy.release"
    assert finding["summary"].startswith("deploy of (no images) did not start: state deployed needs images")
    rollback = run_module(compose_rollback.main, {"project_src": project + "/nope"})
    assert rollback.result["findings"][0]["summary"].startswith("rollback failed: project_src ")
