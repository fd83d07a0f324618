# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""compose_rollback's decisions, with plain data: no engine, no mocks."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._rollout import (
    RolloutError,
    change_diff,
    decide,
    first_result,
    image_ids,
    option_problems,
    read_seconds,
    release_finding,
    running_image,
    scope,
    shown,
    standing_result,
    with_findings,
)


def image(tag, image_id=None):
    return {"reference": "app:%s" % tag, "image_id": image_id or "sha256:%s" % tag, "digest": None}


def facts(**changes):
    base = {
        "state": "deployed",
        "strategy": "recreate",
        "on_failure": "restore",
        "check_mode": False,
        "services": ["web", "worker"],
        "current": {"web": image("1"), "worker": image("1")},
        "target": {"web": image("2"), "worker": image("2")},
        "config_services": {"web": {}, "worker": {}},
    }
    base.update(changes)
    return base


UNHEALTHY = {"took_over": True, "healthy": False, "reason": "web-1 is exited"}


# --- decide: before the change -------------------------------------------------------------


def test_nothing_to_change_when_every_service_runs_the_target():
    step = decide(facts(target={"web": image("1"), "worker": image("1")}))
    assert step == {"step": "unchanged", "changed": []}


def test_only_the_services_whose_image_changes_are_changed():
    step = decide(facts(target={"web": image("2"), "worker": image("1")}))
    assert step["step"] == "change"
    assert step["changed"] == ["web"]
    assert step["images"] == {"web": "sha256:2", "worker": "sha256:1"}


def test_a_service_that_runs_nothing_is_changed():
    step = decide(facts(current={"web": image("1"), "worker": None}, target={"web": image("1"), "worker": image("2")}))
    assert step["changed"] == ["worker"]


def test_check_mode_previews_and_says_what_it_would_do():
    assert decide(facts(check_mode=True)) == {
        "step": "preview",
        "action": "would recreate web, worker",
        "changed": ["web", "worker"],
    }
    step = decide(facts(check_mode=True, strategy="start_first"))
    assert step["action"] == "would start web, worker beside the running containers, then stop the old ones"


def test_start_first_refuses_services_that_cannot_run_twice_before_anything_changes():
    config = {"web": {"container_name": "fixed-web"}, "worker": {"ports": [{"published": "8000"}]}}
    step = decide(facts(strategy="start_first", config_services=config, check_mode=True))
    assert step["step"] == "refuse"
    assert "web sets container_name fixed-web" in step["msg"]
    assert "worker publishes fixed host port(s) 8000" in step["msg"]
    assert step["msg"].endswith("use strategy recreate for them")
    # recreate does not care
    assert decide(facts(config_services=config))["step"] == "change"


def test_start_first_checks_only_the_changed_services():
    config = {"web": {}, "worker": {"container_name": "fixed-worker"}}
    step = decide(
        facts(strategy="start_first", config_services=config, target={"web": image("2"), "worker": image("1")})
    )
    assert step["step"] == "change"


# --- decide: after the change ---------------------------------------------------------------


def test_a_healthy_change_is_done():
    step = decide(facts(change={"took_over": True, "healthy": True, "reason": None}))
    assert step == {"step": "done", "outcome": "healthy", "changed": ["web", "worker"]}


def test_an_unhealthy_change_restores_the_previous_images_then_says_recovered():
    step = decide(facts(change=UNHEALTHY))
    assert step["step"] == "restore"
    assert step["services"] == ["web", "worker"]
    assert step["images"] == {"web": "sha256:1", "worker": "sha256:1"}
    assert step["gate"] == {"web": "sha256:1", "worker": "sha256:1"}
    done = decide(facts(change=UNHEALTHY, restore={"error": None, "healthy": True, "reason": None}))
    assert done["outcome"] == "recovered"
    assert done["recovered"] and done["rollback_failed"]
    assert done["msg"] == (
        "deploy of web=app:2, worker=app:2 was unhealthy (web-1 is exited); the previous images are serving again "
        "and are healthy"
    )


def test_a_rollback_says_rollback_of():
    done = decide(
        facts(state="rolled_back", change=UNHEALTHY, restore={"error": None, "healthy": True, "reason": None})
    )
    assert done["msg"].startswith("rollback of web=app:2")


def test_restored_images_that_are_unhealthy_too():
    done = decide(facts(change=UNHEALTHY, restore={"error": None, "healthy": False, "reason": "web-1 is dead"}))
    assert done["outcome"] == "restore_unhealthy"
    assert not done["recovered"]
    assert done["msg"] == (
        "target unhealthy (web-1 is exited) and the restored previous images are unhealthy too (web-1 is dead)"
    )


def test_a_restore_that_compose_refused():
    done = decide(facts(change=UNHEALTHY, restore={"error": "compose up failed", "healthy": False, "reason": None}))
    assert done["outcome"] == "restore_failed"
    assert (
        done["msg"] == "target unhealthy (web-1 is exited) and restoring the previous images failed: compose up failed"
    )


def test_a_service_that_ran_nothing_before_is_never_recovered():
    current = {"web": image("1"), "worker": None}
    step = decide(facts(current=current, change=UNHEALTHY))
    assert step["services"] == ["web"]
    assert step["gate"] == {"web": "sha256:1"}
    done = decide(facts(current=current, change=UNHEALTHY, restore={"error": None, "healthy": True, "reason": None}))
    assert done["outcome"] == "restore_unhealthy"
    assert "service(s) worker had no container before and still run the target" in done["msg"]


def test_on_failure_leave_and_nothing_to_restore_leave_it_as_it_is():
    done = decide(facts(on_failure="leave", change=UNHEALTHY))
    assert done["outcome"] == "left"
    assert done["msg"] == "target unhealthy (web-1 is exited); left as it is (on_failure: leave)"
    assert not done["recovered"] and done["rollback_failed"]
    done = decide(facts(current={"web": None, "worker": None}, change=UNHEALTHY))
    assert done["msg"].endswith("left as it is (on_failure: nothing to restore)")


def test_start_first_that_never_took_over_confirms_the_previous_images():
    never = {"took_over": False, "healthy": False, "reason": "web-2 is unhealthy for more than 20 s"}
    step = decide(facts(strategy="start_first", change=never))
    assert step == {
        "step": "confirm",
        "images": {"web": "sha256:1", "worker": "sha256:1"},
        "changed": ["web", "worker"],
    }
    done = decide(facts(strategy="start_first", change=never, restore={"error": None, "healthy": True, "reason": None}))
    assert done["outcome"] == "kept_serving" and done["recovered"]
    assert done["msg"].endswith(
        "its containers were removed before they took over: the previous images served throughout and are healthy"
    )
    # on_failure does not apply: nothing was replaced
    done = decide(
        facts(
            strategy="start_first",
            on_failure="leave",
            change=never,
            restore={"error": None, "healthy": False, "reason": "web-1 is dead"},
        )
    )
    assert done["outcome"] == "kept_serving_unhealthy" and not done["recovered"]
    assert done["msg"].endswith("but the previous images are not healthy either (web-1 is dead)")


# --- options ---------------------------------------------------------------------------------


def params(**changes):
    base = {
        "state": "rolled_back",
        "images": None,
        "release": None,
        "services": [],
        "history_size": 10,
        "health_timeout": 120,
        "unhealthy_grace": 20,
        "health_retries": 10,
        "lock_wait": 0,
        "health_interval": 2,
        "health_request_timeout": 5,
        "health_status": ["2xx"],
        "health_url": None,
        "health_body_pattern": None,
    }
    base.update(changes)
    return base


def test_default_options_have_no_problem_and_read_as_numbers():
    problems, numbers = option_problems(params())
    assert problems == []
    assert numbers["health_timeout"] == 120.0
    assert numbers["history_size"] == 10.0


def test_durations_accept_seconds_and_units():
    problems, numbers = option_problems(params(health_timeout="5m", lock_wait="1m30s", health_interval="500ms"))
    assert problems == []
    assert numbers["health_timeout"] == 300.0
    assert numbers["lock_wait"] == 90.0
    assert numbers["health_interval"] == 0.5


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("health_timeout", "2d", "health_timeout must be at most 86400"),
        ("health_timeout", "soon", "health_timeout: cannot read 'soon' as a duration"),
        ("lock_wait", "nan", "lock_wait must be a finite number"),
        ("health_request_timeout", "0s", "health_request_timeout must be greater than 0"),
        ("health_interval", 1e300, "health_interval must be at most 3600"),
        ("history_size", 0, "history_size must be at least 1"),
        ("health_status", ["2xx", "600"], "health_status must list HTTP codes or classes such as 2xx; bad: 600"),
        ("health_url", "http://127.0.0.1:eighty/", "health_url must be an http:// or https:// URL"),
        ("health_body_pattern", "(", "health_body_pattern is not a valid regular expression"),
    ],
)
def test_bad_options_are_named(option, value, message):
    problems, dummy = option_problems(params(**{option: value}))
    assert any(message in p for p in problems), problems


def test_state_and_images_that_do_not_fit():
    assert (
        "state deployed needs images (the target image of each service)" in option_problems(params(state="deployed"))[0]
    )
    assert any(
        "images and release do not apply" in p for p in option_problems(params(state="recorded", release="x"))[0]
    )
    assert "images is empty" in option_problems(params(images={}))[0]
    assert "images.web must be an image reference" in option_problems(params(images={"web": " "}))[0]
    problems = option_problems(params(images={"web": "app:2"}, services=["web", "worker"]))[0]
    assert "with images, services are the keys of images; leave services empty" in problems


def test_read_seconds_keeps_the_number_messages():
    assert read_seconds(" 30 ", "x", minimum=0) == 30.0
    with pytest.raises(FindingError, match="x must be at least 0"):
        read_seconds(-1, "x", minimum=0)
    with pytest.raises(FindingError, match="x: "):
        read_seconds("-5m", "x", minimum=0)


# --- observation helpers ---------------------------------------------------------------------


def test_scope_images_then_services_then_every_service_with_an_image():
    declared = {"web": "app:1", "worker": "app:1", "db": None}
    assert scope("fs", declared, {"worker": "app:2"}, []) == ["worker"]
    assert scope("fs", declared, None, ["web"]) == ["web"]
    assert scope("fs", declared, None, []) == ["web", "worker"]
    with pytest.raises(RolloutError, match="unknown service\\(s\\) nope in project fs; it has: db, web, worker"):
        scope("fs", declared, None, ["web", "nope"])


def test_running_image_refuses_a_service_halfway_through_a_change():
    assert running_image("web", []) is None
    one = {"reference": "app:1", "image_id": "sha256:1"}
    assert running_image("web", [one, dict(one)]) == ("app:1", "sha256:1")
    with pytest.raises(RolloutError, match="service web runs several images at once"):
        running_image("web", [one, {"reference": "app:2", "image_id": "sha256:2"}])


def test_image_ids_and_shown_skip_services_without_an_image():
    images = {"web": image("1"), "worker": None, "beat": {"reference": None, "image_id": "sha256:x"}}
    assert image_ids(images, ["web", "worker", "beat"]) == {"web": "sha256:1", "beat": "sha256:x"}
    assert shown(images, ["web", "worker", "beat"]) == "app:1, sha256:x"
    assert shown({"web": image("1"), "worker": image("1")}, ["web", "worker"]) == "app:1"


def test_change_diff_shows_references_and_the_entry():
    diff = change_diff(["web"], {"web": image("1")}, {"web": image("2")}, {"id": "r"})
    assert diff == {"before": {"web": "app:1"}, "after": {"web": "app:2", "history entry": {"id": "r"}}}


def test_standing_result_says_where_the_project_stands():
    standing = {
        "id": "r3",
        "recorded_at": "2026-01-03T00:00:00Z",
        "from_release": "r2",
        "from_services": {"web": {"reference": "app:2", "image_id": "sha256:2"}},
        "services": {"web": {"reference": "app:1", "image_id": "sha256:1"}},
    }
    older = {"id": "r0", "recorded_at": "2026-01-01T00:00:00Z", "healthy": True, "services": standing["services"]}
    result = standing_result("fs", {"standing": standing, "candidates": [older]}, {"web": image("1")}, ["web"])
    assert result["last_rollback"] == {
        "release": "r3",
        "at": "2026-01-03T00:00:00Z",
        "from_release": "r2",
        "from": {"web": "app:2"},
    }
    assert result["candidates"][0]["id"] == "r0"
    assert result["from_release"] == result["to_release"] == "r3"
    assert result["diff"]["before"] == result["diff"]["after"] == {"web": "app:1"}
    assert "already runs release r3" in result["msg"]


# --- the finding of a run --------------------------------------------------------------------

DEPLOY = {"web": "financial-stronghold:1.2.0", "worker": "financial-stronghold:1.2.0"}
PREVIOUS = {"web": image("1.1.0"), "worker": image("1.1.0")}


def deploy_result(**changes):
    result = {"from": PREVIOUS, "to": {}, "actions": [], "health": {"reason": "web-2 is unhealthy"}}
    result.update(changes)
    return result


@pytest.mark.parametrize(
    "outcome, severity, summary",
    [
        ("healthy", "ok", "deployed financial-stronghold:1.2.0 to web, worker, healthy"),
        ("unchanged", "ok", "financial-stronghold:1.2.0 already runs on web, worker; nothing to deploy"),
        ("preview", "ok", "would deploy financial-stronghold:1.2.0 to web, worker"),
        (
            "kept_serving",
            "critical",
            "deploy of financial-stronghold:1.2.0 was unhealthy and never took over: the previous release (app:1.1.0) "
            "served throughout and is healthy. Cause: web-2 is unhealthy",
        ),
        (
            "recovered",
            "critical",
            "deploy of financial-stronghold:1.2.0 was unhealthy and undone: the previous release (app:1.1.0) is "
            "serving again and healthy. Cause: web-2 is unhealthy",
        ),
        (
            "restore_unhealthy",
            "critical",
            "deploy of financial-stronghold:1.2.0 was unhealthy and the previous release (app:1.1.0) could NOT be "
            "restored: the message",
        ),
        ("failed", "critical", "deploy of financial-stronghold:1.2.0 did not start: web-2 is unhealthy"),
    ],
)
def test_deploy_findings_say_what_the_deploy_role_said(outcome, severity, summary):
    found = release_finding("deployed", outcome, "/srv/fs", deploy_result(msg="the message"), DEPLOY)
    assert found["check"] == "deploy.release"
    assert found["target"] == "financial-stronghold:1.2.0"
    assert found["severity"] == severity
    assert found["summary"] == summary


def test_a_deploy_that_did_not_start_without_health_gives_the_message():
    found = release_finding("deployed", "failed", "/srv/fs", {"msg": "image x is not present locally"}, DEPLOY)
    assert found["summary"] == "deploy of financial-stronghold:1.2.0 did not start: image x is not present locally"
    assert found["details"]["recovered"] is False


def test_rollback_findings_say_what_the_rollback_role_said():
    result = {"from": PREVIOUS, "to": {"web": image("1.0.0"), "worker": image("1.0.0")}, "changed": True}
    found = release_finding("rolled_back", "healthy", "/srv/fs", result)
    assert (found["check"], found["target"], found["severity"]) == ("rollback.release", "/srv/fs", "ok")
    assert found["summary"] == "rolled back from app:1.1.0 to app:1.0.0"
    assert found["details"]["changed"]
    assert release_finding("rolled_back", "unchanged", "/srv/fs", result)["summary"] == "already at app:1.0.0"
    result.update(msg="project fs already runs release r3", changed=False, to_release="r3")
    found = release_finding("rolled_back", "standing", "/srv/fs", result)
    assert found["summary"] == "project fs already runs release r3"
    assert found["details"]["release"] == "r3" and not found["details"]["changed"]
    result["msg"] = "rollback of web=app:bad was unhealthy (x); the previous images are serving again and are healthy"
    found = release_finding("rolled_back", "recovered", "/srv/fs", dict(result, recovered=True))
    assert found["severity"] == "critical"
    assert found["summary"] == "rollback failed: " + result["msg"]
    assert found["details"]["recovered"]


def test_record_findings_warn_on_an_unhealthy_release():
    healthy = {"to_release": "r1", "health": {"status": "healthy"}}
    assert release_finding("recorded", "recorded", "/srv/fs", healthy)["summary"] == "recorded release r1 (healthy)"
    sick = {"to_release": "r1", "health": {"status": "timeout", "reason": "after 120 s: web-1 is unhealthy"}}
    found = release_finding("recorded", "recorded", "/srv/fs", sick)
    assert found["severity"] == "warning"
    assert found["summary"] == "recorded release r1 (unhealthy): after 120 s: web-1 is unhealthy"
    assert release_finding("recorded", "already_recorded", "/srv/fs", healthy)["summary"] == "already recorded as r1"
    assert release_finding("recorded", "failed", "/srv/fs", {"msg": "no"})["severity"] == "critical"


def test_with_findings_adds_the_worst_severity():
    result = with_findings({"msg": "boom"}, "rolled_back", "failed", "/srv/fs")
    assert result["worst_severity"] == "critical"
    assert result["findings"][0]["summary"] == "rollback failed: boom"


def test_first_result_has_every_key_returned_always():
    actions = []
    result = first_result("start_first", "/h.json", actions)
    assert result["actions"] is actions
    assert (result["changed"], result["recovered"], result["rollback_failed"]) == (False, False, False)
    assert result["commands"] == result["env_neutralised"] == result["changed_services"] == []
    assert (result["strategy"], result["history_path"]) == ("start_first", "/h.json")
