# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emergency role's judges, with plain data as the role passes it."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._emergency import STEPS, judge
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, validate_finding

WEB = "financial-stronghold/web"
DOWN = {"check": "health.http", "target": "http://x/", "severity": "critical", "summary": "HTTP 503", "details": {}}
UP = dict(DOWN, severity="ok", summary="answered 200")


def one(facts, step):
    found = judge(facts, step)
    for finding in found:
        validate_finding(finding)
    return found


def test_app_records_the_state_as_found_as_info():
    down = one({"target": WEB, "health_findings": [UP, DOWN]}, "app")[0]
    assert (down["check"], down["severity"]) == ("emergency.app", "info")
    assert down["summary"] == "at diagnosis: application down: HTTP 503"
    assert down["details"]["down"] and down["details"]["problems"] == [DOWN]
    up = one({"target": WEB, "health_findings": [UP]}, "app")[0]
    assert not up["details"]["down"] and "application up" in up["summary"]
    assert one({"target": WEB}, "app")[0]["details"]["down"] is False


def test_logs_merge_both_streams_by_time_and_keep_the_last_lines():
    result = {
        "rc": 0,
        "stdout_lines": ["2026-01-01T00:00:03Z c", "2026-01-01T00:00:01Z a"],
        "stderr_lines": ["2026-01-01T00:00:02Z b"],
    }
    found = one({"target": "web-1", "lines": 2, "result": result}, "logs")[0]
    assert found["details"]["lines"] == ["2026-01-01T00:00:02Z b", "2026-01-01T00:00:03Z c"]
    assert found["summary"] == "last 2 log lines"
    failed = one({"target": "web-1", "lines": 2, "result": {"rc": 1, "stderr": " no such container \n"}}, "logs")[0]
    assert failed["severity"] == "warning" and failed["summary"] == "cannot read the logs: no such container"


def test_database_record_and_log_tail():
    ping = {"is_available": True, "server_version": {"full": "15.18"}}
    tail = {"rc": 0, "stdout_lines": ["l%d" % i for i in range(60)]}
    record, logs = one({"target": "db", "ping": ping, "tail": tail, "lines": 50, "source": "/pg.log"}, "database")
    assert record["summary"] == "at diagnosis: the database answers: 15.18" and record["details"]["answers"]
    assert logs["details"]["lines"] == ["l%d" % i for i in range(10, 60)] and logs["target"] == "/pg.log"
    refused = {"is_available": False, "conn_err_msg": "connection refused"}
    record, logs = one({"target": "db", "ping": refused, "tail": {}, "lines": 50}, "database")
    assert record["severity"] == "info" and record["summary"].endswith("does not answer: connection refused")
    assert logs["severity"] == "warning" and logs["target"] == "none"


@pytest.mark.parametrize(
    "facts, summary",
    [
        (
            {"asked": False},
            "not restarted: diagnose only: -e act=true or -e emergency_restart_web=true restarts the service",
        ),
        ({"asked": True, "check_mode": True}, "not restarted: check mode: would restart the service"),
        (
            {"asked": True, "contained": True},
            "not restarted: containment (-e contain=true) keeps the public service stopped",
        ),
    ],
)
def test_restart_not_done_says_why(facts, summary):
    found = one(dict(facts, target=WEB, service="web", down=True), "restart")
    assert [(f["severity"], f["summary"], f["details"]["action"]) for f in found] == [("info", summary, "none")]


def test_restart_of_a_healthy_application_says_nothing():
    assert judge({"target": WEB, "service": "web", "down": False, "asked": True, "done": False}, "restart") == []


def test_restart_done_is_a_warning_when_healthy_again_critical_otherwise():
    base = {"target": WEB, "service": "web", "down": True, "asked": True, "done": True, "wait_timeout": 180}
    healthy = one(dict(base, states=["running"], health=["healthy"]), "restart")[0]
    assert healthy["severity"] == "warning" and healthy["summary"].startswith("restarted: the service was down")
    no_check = one(dict(base, states=["running"], health=["none"]), "restart")[0]
    assert no_check["severity"] == "warning"
    unhealthy = one(dict(base, states=["running"], health=["unhealthy"]), "restart")[0]
    assert unhealthy["severity"] == "critical"
    assert unhealthy["summary"] == "restarted, but not healthy within 180 s: running/unhealthy"
    nothing = one(dict(base, states=[], health=[]), "restart")[0]
    assert nothing["severity"] == "critical" and nothing["summary"].endswith("no container")
    failed = one(
        dict(base, result={"failed": True, "msg": "compose: no such service"}, states=["running"], health=["healthy"]),
        "restart",
    )[0]
    assert failed["severity"] == "critical" and failed["summary"].endswith("compose: no such service")


def test_database_restart():
    base = {"target": "db", "how": "pg_ctl restart"}
    done = one(dict(base, done=True, after={"is_available": True, "server_version": {"full": "15.18"}}), "restart_db")[
        0
    ]
    assert (
        done["severity"] == "warning"
        and done["summary"] == "restarted the database (pg_ctl restart); it answers again: 15.18"
    )
    dead = one(
        dict(base, done=True, after={"is_available": False}, failure="pg_ctl: could not start server"), "restart_db"
    )[0]
    assert dead["severity"] == "critical" and dead["summary"].endswith(
        "does not answer: pg_ctl: could not start server"
    )
    would = one(dict(base, asked=True, check_mode=True), "restart_db")[0]
    assert would["summary"] == "not restarted: check mode: would restart the database (pg_ctl restart)"
    down_not_asked = one(dict(base, asked=False, answers=False), "restart_db")[0]
    assert down_not_asked["summary"] == "not restarted: last resort, only with -e emergency_restart_db=true"
    # A database that answers and no restart asked for: nothing to say.
    assert judge(dict(base, asked=False, answers=True), "restart_db") == []


def test_cache():
    done = one({"target": WEB, "container": "web-1", "result": {"rc": 0}}, "cache")[0]
    assert (done["severity"], done["summary"], done["details"]["action"]) == (
        "info",
        "cleared the cache in web-1",
        "clear_cache",
    )
    failed = one({"target": WEB, "container": "web-1", "result": {"rc": 1, "stderr": "ImproperlyConfigured"}}, "cache")[
        0
    ]
    assert failed["severity"] == "warning" and failed["summary"] == "cache not cleared: ImproperlyConfigured"
    none = one({"target": WEB, "container": "", "result": {}}, "cache")[0]
    assert none["summary"] == "cache not cleared: no running web container"
    would = one({"target": WEB, "container": "", "check_mode": True}, "cache")[0]
    assert would["summary"] == "check mode: would clear the cache in a running web container"


def test_contain():
    base = {"target": WEB, "db_target": "db", "services": ["web"], "running": ["web-1"]}
    answers = {"is_available": True, "server_version": {"full": "15.18"}}
    contained, db = one(dict(base, db=answers), "contain")
    assert contained["severity"] == "warning" and contained["summary"].startswith(
        "contained: public service stopped (web-1)"
    )
    assert (
        contained["details"]["done"] and db["severity"] == "ok" and db["summary"] == "the database still answers: 15.18"
    )
    would, still = one(dict(base, check_mode=True, db=answers), "contain")
    assert would["summary"] == "check mode: would stop web-1" and not would["details"]["done"]
    assert still["severity"] == "ok"
    failed, gone = one(
        dict(base, result={"failed": True, "msg": "engine gone"}, db={"conn_err_msg": "refused"}), "contain"
    )
    assert failed["severity"] == "critical" and failed["summary"] == "containment failed: engine gone"
    assert gone["severity"] == "critical" and gone["summary"] == "the database does not answer: refused"


def test_incident():
    tar = "/var/lib/incidents/incident_lab_20260101T000000Z.tar.gz"
    would = one(
        {"tarball": tar, "check_mode": True, "hours": 24, "logs": ["/a.log"], "containers": ["/web-1", "/worker-1"]},
        "incident",
    )[0]
    assert would["summary"].startswith(
        "check mode: would collect 1 log window(s) of the last 24 h, inspect and logs of 2 container(s)"
    )
    assert not would["details"]["written"]
    written = one(
        {
            "tarball": tar,
            "sha256": "ab" * 32,
            "manifest_sha256": "cd" * 32,
            "files": ["logs/b", "findings.json"],
            "activity_read": True,
        },
        "incident",
    )[0]
    assert written["details"]["files"] == ["findings.json", "logs/b"] and written["details"]["written"]
    assert written["summary"] == "evidence bundle written: 3 files, sha256 %s (checksums in %s.sha256)" % (
        "ab" * 32,
        tar,
    )
    assert written["severity"] == "info"
    no_sessions = one(
        {"tarball": tar, "sha256": "ab" * 32, "manifest_sha256": "cd" * 32, "files": [], "activity_error": "refused"},
        "incident",
    )[0]
    assert no_sessions["severity"] == "warning" and no_sessions["summary"].endswith(
        "; pg_stat_activity not read: refused"
    )
    assert no_sessions["details"]["pg_stat_activity"] == "not read"
    failed = one({"tarball": tar, "failure": "Pack the bundle: tar: No space left on device"}, "incident")[0]
    assert failed["severity"] == "critical" and failed["summary"].endswith("No space left on device")


def test_previous_findings_are_kept_and_bad_input_is_named():
    previous = one({"target": WEB, "health_findings": []}, "app")
    assert judge({"target": WEB, "health_findings": [DOWN]}, "app", previous)[0] == previous[0]
    with pytest.raises(FindingError, match="unknown emergency step 'reboot'"):
        judge({}, "reboot")
    with pytest.raises(FindingError, match="must be a mapping, got list"):
        judge([], "app")
    with pytest.raises(FindingError, match="emergency step logs needs the fact 'lines'"):
        judge({"target": "web-1"}, "logs")
    assert sorted(STEPS) == ["app", "cache", "contain", "database", "incident", "logs", "restart", "restart_db"]
