# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import container_health, judge_services


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
