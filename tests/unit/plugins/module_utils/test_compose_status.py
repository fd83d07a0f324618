# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import (
    container_health,
    container_summary,
    gate_poll,
    health_due,
    judge_container,
    judge_services,
    parse_timestamp,
    service_containers,
)


def container(service, state="running", status="Up 2 minutes (healthy)", project="fs", oneoff="False", name=None):
    return {
        "Id": "0123456789abcdef",
        "Names": ["/" + (name or "%s-%s-1" % (project, service))],
        "State": state,
        "Status": status,
        "Image": "financial-stronghold:1.1.0",
        "Labels": {
            "com.docker.compose.project": project,
            "com.docker.compose.service": service,
            "com.docker.compose.oneoff": oneoff,
        },
    }


def by_target(findings):
    return dict((f["target"], f) for f in findings)


def test_container_health_reads_the_status_text():
    assert container_health({"Status": "Up 5 minutes (healthy)"}) == "healthy"
    assert container_health({"Status": "Up 5 minutes (unhealthy)"}) == "unhealthy"
    assert container_health({"Status": "Up 3 seconds (health: starting)"}) == "starting"
    assert container_health({"Status": "Up 5 minutes"}) == "none"


def test_all_running_and_healthy_is_ok_and_names_the_container():
    findings = judge_services([container("web"), container("worker")], "fs", ["web", "worker"])
    assert [f["severity"] for f in findings] == ["ok", "ok"]
    assert findings[0]["details"]["container"] == "fs-web-1"
    assert "healthy" in findings[0]["summary"]


def test_missing_stopped_unhealthy_and_starting_services():
    containers = [
        container("web", state="exited", status="Exited (137) 5 seconds ago"),
        container("worker", status="Up 1 minute (unhealthy)"),
        container("beat", status="Up 2 seconds (health: starting)"),
        container("other", project="someone-else"),
    ]
    found = by_target(judge_services(containers, "fs", ["web", "worker", "beat", "other"]))
    assert found["fs/web"]["severity"] == "critical"
    assert "exited" in found["fs/web"]["summary"]
    assert found["fs/web"]["details"]["container"] is None
    assert found["fs/worker"]["severity"] == "critical"
    assert "unhealthy" in found["fs/worker"]["summary"]
    assert found["fs/beat"]["severity"] == "warning"
    assert found["fs/other"]["severity"] == "critical"
    assert found["fs/other"]["summary"].startswith("no container")


def test_one_off_run_containers_do_not_count_as_the_service():
    findings = judge_services([container("web", oneoff="True", name="fs-web-run-1")], "fs", ["web"])
    assert findings[0]["severity"] == "critical"


def test_a_service_without_healthcheck_is_ok_but_says_so():
    findings = judge_services([container("web", status="Up 4 minutes")], "fs", ["web"])
    assert findings[0]["severity"] == "ok"
    assert "no Docker healthcheck" in findings[0]["summary"]


# --- the one judge, on both shapes -------------------------------------------------------------


def inspected(service, status="running", health=None, exit_code=0, policy="unless-stopped", restarts=0, oneoff="False"):
    state = {"Status": status, "ExitCode": exit_code, "StartedAt": "2026-01-01T00:00:00Z"}
    if health:
        state["Health"] = {"Status": health}
    return {
        "Id": "fedcba9876543210",
        "Name": "/fs-%s-1" % service,
        "Image": "sha256:1",
        "RestartCount": restarts,
        "State": state,
        "Config": {
            "Image": "financial-stronghold:1.1.0",
            "Labels": {
                "com.docker.compose.project": "fs",
                "com.docker.compose.service": service,
                "com.docker.compose.oneoff": oneoff,
            },
        },
        "HostConfig": {"RestartPolicy": {"Name": policy}},
    }


def test_container_summary_reads_docker_inspect():
    summary = container_summary(inspected("web", health="healthy"))
    assert summary["id"] == "fedcba987654"
    assert summary["name"] == "fs-web-1"
    assert (summary["project"], summary["service"], summary["oneoff"]) == ("fs", "web", False)
    assert (summary["reference"], summary["image_id"]) == ("financial-stronghold:1.1.0", "sha256:1")
    assert (summary["status"], summary["health"], summary["restart_policy"]) == ("running", "healthy", "unless-stopped")
    assert container_summary(inspected("web", status="exited", exit_code=3))["status_text"] == "exit code 3"


def test_container_summary_reads_the_container_list():
    summary = container_summary(container("web", state="exited", status="Exited (0) 3 minutes ago"))
    assert summary["name"] == "fs-web-1"
    assert (summary["status"], summary["exit_code"], summary["restart_policy"]) == ("exited", 0, None)
    assert summary["status_text"] == "Exited (0) 3 minutes ago"
    assert container_summary(container("web"))["health"] == "healthy"


@pytest.mark.parametrize(
    "kwargs, verdict",
    [
        ({}, "ok"),
        ({"health": "healthy"}, "ok"),
        ({"health": "unhealthy"}, "unhealthy"),
        ({"health": "starting"}, "starting"),
        # a one-shot service (a migration job) that did its job
        ({"status": "exited", "exit_code": 0, "policy": "no"}, "finished"),
        ({"status": "exited", "exit_code": 0, "policy": ""}, "finished"),
        # a long-running service that stopped, even cleanly, is down
        ({"status": "exited", "exit_code": 0, "policy": "unless-stopped"}, "failed"),
        ({"status": "exited", "exit_code": 1, "policy": "no"}, "failed"),
        ({"status": "dead"}, "failed"),
        ({"status": "restarting", "restarts": 3}, "failed"),
        ({"status": "restarting", "restarts": 1}, "not_running"),
        ({"status": "created"}, "not_running"),
        ({"status": "paused"}, "not_running"),
    ],
)
def test_judge_container_is_the_one_rule(kwargs, verdict):
    assert judge_container(container_summary(inspected("web", **kwargs))) == verdict


def test_the_list_shape_never_knows_a_container_is_one_shot():
    listed = container("migrate", state="exited", status="Exited (0) 3 minutes ago")
    assert judge_container(container_summary(listed)) == "failed"


def test_judge_services_accepts_a_finished_one_shot_service_from_docker_inspect():
    containers = [inspected("web", health="healthy"), inspected("migrate", status="exited", exit_code=0, policy="no")]
    found = by_target(judge_services(containers, "fs", ["web", "migrate"]))
    assert found["fs/web"]["severity"] == "ok"
    assert found["fs/migrate"]["severity"] == "ok"
    assert found["fs/migrate"]["summary"] == "1 one-shot container(s) finished with exit code 0"
    assert found["fs/migrate"]["details"]["container"] is None


def test_judge_services_calls_a_stopped_long_running_service_critical_from_docker_inspect():
    found = judge_services([inspected("web", status="exited", exit_code=0)], "fs", ["web"])
    assert found[0]["severity"] == "critical"
    assert found[0]["summary"] == "fs-web-1 is exited (exit code 0)"


def test_service_containers_leaves_out_one_off_runs_and_other_projects():
    summaries = [
        container_summary(c)
        for c in (container("web"), container("web", oneoff="True", name="fs-web-run-1"), container("web", project="x"))
    ]
    assert [c["name"] for c in service_containers(summaries, "web", "fs")] == ["fs-web-1"]
    assert len(service_containers(summaries, "web")) == 2


def test_gate_poll_waits_for_starting_and_missing_and_fails_on_a_failed_container():
    web = container_summary(inspected("web", health="starting"))
    failed, problems, since = gate_poll([web], ["web", "worker"], {}, 10.0, 20)
    assert failed is None
    assert problems == ["worker has no container", "fs-web-1 health is starting"]
    dead = container_summary(inspected("worker", status="exited", exit_code=137))
    failed, problems, since = gate_poll([dead], ["worker"], {}, 10.0, 20)
    assert failed == "fs-worker-1 is exited"


def test_gate_poll_gives_an_unhealthy_container_its_grace():
    sick = container_summary(inspected("web", health="unhealthy"))
    failed, problems, since = gate_poll([sick], ["web"], {}, 100.0, 20)
    assert (failed, problems, since) == (None, ["fs-web-1 is unhealthy"], {"fedcba987654": 100.0})
    failed, problems, since = gate_poll([sick], ["web"], since, 121.0, 20)
    assert failed == "fs-web-1 is unhealthy for more than 20 s"
    well = container_summary(inspected("web", health="healthy"))
    assert gate_poll([well], ["web"], {"fedcba987654": 100.0}, 110.0, 20) == (None, [], {})


def test_gate_poll_accepts_a_finished_one_shot_container():
    job = container_summary(inspected("migrate", status="exited", exit_code=0, policy="no"))
    assert gate_poll([job], ["migrate"], {}, 1.0, 20) == (None, [], {})


def test_parse_timestamp_reads_dockers_rfc3339_times():
    epoch = datetime(2026, 12, 6, 1, 34, 51, tzinfo=timezone.utc).timestamp()
    assert parse_timestamp("2026-12-06T01:34:51.393127817Z") == pytest.approx(epoch + 0.393127817, abs=1e-6)
    assert parse_timestamp("2026-12-06T02:34:51+01:00") == parse_timestamp("2026-12-06T01:34:51Z")
    for text in ("0001-01-01T00:00:00Z", "", None, "yesterday", "2026-13-40T00:00:00Z"):
        assert parse_timestamp(text) is None


def checked(status="running", health="starting", log=(), started="2026-12-06T01:00:00Z", interval=1e9, start=0):
    check = {"Test": ["CMD", "true"], "Interval": interval}
    if start:
        check["StartInterval"] = start
    state = {"Status": status, "StartedAt": started}
    if health:
        state["Health"] = {"Status": health, "Log": [{"Start": s, "End": e} for s, e in log]}
    return {"Id": "abc", "State": state, "Config": {"Healthcheck": check}}


def test_health_due_is_the_next_check_after_the_last_one_ended():
    started = parse_timestamp("2026-12-06T01:00:00Z")
    # No check yet: the first comes an interval after the start.
    assert health_due([checked()], started + 0.2) == pytest.approx(0.8)
    # The last check ended at 3.5 s: the next one starts at 4.5 s, its result comes no earlier.
    log = [("2026-12-06T01:00:02.25Z", "2026-12-06T01:00:02.5Z"), ("2026-12-06T01:00:03.25Z", "2026-12-06T01:00:03.5Z")]
    assert health_due([checked(log=log)], started + 4.0) == pytest.approx(0.5)
    # Passed (a slow check): negative, the gate looks at its shortest poll.
    assert health_due([checked(log=log)], started + 6.0) == pytest.approx(-1.5)
    # The earliest of several; Docker 25's start interval when shorter; 0 means Docker's 30 s.
    assert health_due([checked(interval=0), checked(log=log)], started + 4.0) == pytest.approx(0.5)
    assert health_due([checked(interval=0)], started) == pytest.approx(30.0)
    assert health_due([checked(interval=5e9, start=5e8)], started) == pytest.approx(0.5)
    # Healthy ones or ones without a healthcheck do not wait; nothing due.
    assert health_due([checked(health="healthy"), checked(health=None)], started) is None
    assert health_due([], started) is None


def test_health_due_is_unknown_while_a_container_is_not_running_or_has_no_times():
    started = parse_timestamp("2026-12-06T01:00:00Z")
    assert health_due([checked(), checked(status="created")], started) is None
    assert health_due([checked(status="restarting")], started) is None
    assert health_due([checked(started="0001-01-01T00:00:00Z")], started) is None
