# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import multiprocessing
import os
import time
from datetime import datetime, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._releases import (
    HistoryError,
    LockBusy,
    ProjectLock,
    add_entry,
    already_recorded,
    choose_target,
    default_rollback,
    known_reference,
    left_by_rollback,
    load_history,
    named_release,
    new_entry,
    newest_match,
    release_id,
    save_history,
    standing_message,
    summary_item,
)


def release(rid, healthy=True, **images):
    return {
        "id": rid,
        "healthy": healthy,
        "services": dict((s, {"image_id": i, "reference": "app:" + i}) for s, i in images.items()),
    }


HISTORY = [
    release("r1", web="v1", worker="v1"),
    release("r2", web="v2", worker="v2"),
    release("r3", False, web="v3", worker="v3"),
    release("r4", web="v2", worker="v2"),
]


def test_default_target_is_the_newest_healthy_release_before_the_current_one():
    # running v2 (r4, newest matching) -> r3 is unhealthy, r2 runs the same images -> r1
    assert choose_target(HISTORY, {"web": "v2", "worker": "v2"}, ["web", "worker"])["id"] == "r1"
    # running v1 (r1): nothing before it
    with pytest.raises(HistoryError, match="no earlier healthy release before release r1"):
        choose_target(HISTORY, {"web": "v1", "worker": "v1"}, ["web", "worker"])


def test_current_state_not_in_history_takes_the_newest_healthy_different_release():
    assert choose_target(HISTORY, {"web": "v9", "worker": "v9"}, ["web", "worker"])["id"] == "r4"


def test_scope_of_one_service_and_missing_services():
    history = [release("a", web="v1"), release("b", web="v2", worker="w2")]
    assert choose_target(history, {"web": "v2"}, ["web"])["id"] == "a"
    with pytest.raises(HistoryError, match="no earlier healthy release"):
        choose_target(history, {"web": "v2", "worker": "w2"}, ["web", "worker"])


def test_empty_history_says_how_to_proceed():
    with pytest.raises(HistoryError, match="name the target with images"):
        choose_target([], {"web": "v1"}, ["web"])


def change(rid, action, before, before_id=None, healthy=True, at=None, **images):
    """A history entry written by a deploy or a rollback: `before` are the images that ran before."""
    entry = release(rid, healthy, **images)
    entry.update(
        action=action,
        recorded_at=at or "2026-12-01T10:00:%02dZ" % len(rid),
        from_release=before_id,
        from_services=dict((s, {"image_id": i, "reference": "app:" + i}) for s, i in before.items()),
    )
    return entry


def rollback(rid, before, before_id, **images):
    return change(rid, "rolled_back", before, before_id, **images)


def deploy(rid, before, before_id=None, healthy=True, **images):
    return change(rid, "deployed", before, before_id, healthy, **images)


def recorded(rid, **images):
    entry = release(rid, **images)
    entry["action"] = "recorded"
    return entry


def run_default(history, **current):
    """What a rollback without a target does: ("stay", entry id) or ("go", release id)."""
    plan = default_rollback(history, current, sorted(current))
    return ("stay", plan["standing"]["id"]) if "standing" in plan else ("go", plan["target"]["id"])


def apply(history, rid, **current):
    """The history after a default rollback that ended healthy, as the module writes it."""
    plan = default_rollback(history, current, sorted(current))
    assert "target" in plan, plan
    previous = [r["id"] for r in history if all(r["services"][s]["image_id"] == i for s, i in current.items())]
    images = dict((s, v["image_id"]) for s, v in plan["target"]["services"].items())
    return history + [rollback(rid, current, previous[-1] if previous else None, **images)]


ONE_TWO = [recorded("a1", web="v1"), deploy("a2", {"web": "v1"}, "a1", web="v2")]


def test_second_rollback_stays_where_the_first_left_the_project():
    # 1.0.0 -> 1.1.0, rollback -> 1.0.0; a second and a third rollback change nothing
    assert run_default(ONE_TWO, web="v2") == ("go", "a1")
    after = apply(ONE_TWO, "a3", web="v2")
    assert after[-1]["services"]["web"]["image_id"] == "v1"
    assert run_default(after, web="v1") == ("stay", "a3")
    assert run_default(after, web="v1") == ("stay", "a3")


def test_a_rollback_of_three_releases_stays_then_goes_further_back_only_when_named():
    history = [
        recorded("b1", web="v1"),
        deploy("b2", {"web": "v1"}, "b1", web="v2"),
        deploy("b3", {"web": "v2"}, "b2", web="v3"),
    ]
    history = apply(history, "b4", web="v3")
    assert history[-1]["services"]["web"]["image_id"] == "v2"
    plan = default_rollback(history, {"web": "v2"}, ["web"])
    assert plan["standing"]["id"] == "b4"
    # v1 is further back; v3 (left by the rollback) and v2 (running) are not candidates
    assert [r["id"] for r in plan["candidates"]] == ["b1"]


def test_rollback_then_deploy_the_same_bad_release_again_then_rollback():
    history = apply(ONE_TWO, "a3", web="v2")
    # a deliberate deploy of v2 again lifts the mark: undoing it returns to v1
    history = history + [deploy("a4", {"web": "v1"}, "a3", web="v2")]
    assert left_by_rollback(history) == []
    assert run_default(history, web="v2") == ("go", "a3")
    history = apply(history, "a5", web="v2")
    assert run_default(history, web="v1") == ("stay", "a5")


def test_new_deploy_after_a_rollback_is_undone_to_what_served_before_it():
    # 1 -> 2 -> rollback to 1 -> deploy 3 -> rollback: back to 1, never to 2 (which a rollback left)
    history = apply(ONE_TWO, "a3", web="v2") + [deploy("a4", {"web": "v1"}, "a3", web="v3")]
    assert run_default(history, web="v3") == ("go", "a3")
    history = apply(history, "a5", web="v3")
    assert run_default(history, web="v1") == ("stay", "a5")
    # 2 and 3 were both left by rollbacks; only naming them returns there
    assert [m["release"] for m in left_by_rollback(history)] == ["a2", "a4"]


def test_a_release_left_by_a_rollback_is_never_the_default_target_while_it_has_not_run_since():
    # web and worker at 1, then 2; a rollback of web alone left web 2 (worker still at 2).
    # A rollback of both services then skips release e2 (its web is what the rollback left).
    history = [
        recorded("e1", web="w1", worker="k1"),
        deploy("e2", {"web": "w1", "worker": "k1"}, "e1", web="w2", worker="k2"),
        rollback("e3", {"web": "w2"}, "e2", web="w1"),
    ]
    assert run_default(history, web="w1", worker="k2") == ("go", "e1")
    history[0]["healthy"] = False
    with pytest.raises(HistoryError, match="release e2 was left by the rollback e3 at .*name a release or images"):
        run_default(history, web="w1", worker="k2")


def test_a_release_put_back_by_hand_is_no_longer_left():
    # a rollback left v2; someone started v2 again by hand, then deployed v3 (its entry says v2
    # ran before): v2 is an ordinary release again
    history = apply(ONE_TWO, "a3", web="v2")
    assert [m["release"] for m in left_by_rollback(history)] == ["a2"]
    history = history + [deploy("a4", {"web": "v2"}, None, web="v3")]
    assert left_by_rollback(history) == []
    history = apply(history, "a5", web="v3")
    assert run_default(history, web="v1") == ("stay", "a5")
    plan = default_rollback(history, {"web": "v1"}, ["web"])
    assert [r["id"] for r in plan["candidates"]] == ["a2"]


def test_a_failed_change_after_a_rollback_does_not_move_the_project():
    # the rollback to v1 stuck; a deploy of v3 failed and was restored (recorded unhealthy):
    # the project still stands where the rollback brought it
    history = apply(ONE_TWO, "a3", web="v2") + [deploy("a4", {"web": "v1"}, "a3", healthy=False, web="v3")]
    assert run_default(history, web="v1") == ("stay", "a3")
    # a record of what runs since (after that failed deploy) is a snapshot, not a change
    assert run_default(history + [recorded("a5", web="v1")], web="v1") == ("stay", "a3")
    # the project was changed by hand since the rollback: an ordinary rollback again
    assert run_default(history, web="v9") == ("go", "a3")
    assert run_default(history + [recorded("a5", web="v9")], web="v9") == ("go", "a3")


def test_history_of_an_earlier_version_without_the_new_fields():
    # entries without action/from_*: the note the earlier version gave a rollback marks it
    legacy = [release("l1", web="v1"), release("l2", web="v2"), release("l3", web="v1")]
    legacy[2]["note"] = "rollback to release l1"
    assert run_default(legacy, web="v1") == ("stay", "l3")
    legacy[2]["note"] = "deploy 1.0.0"
    assert run_default(legacy, web="v1") == ("go", "l2")


def test_scope_of_one_service():
    history = [
        recorded("d1", web="w1", worker="k1"),
        deploy("d2", {"web": "w1", "worker": "k1"}, "d1", web="w2", worker="k2"),
    ]
    history = apply(history, "d3", web="w2", worker="k2")
    assert run_default(history, web="w1", worker="k1") == ("stay", "d3")
    assert run_default(history, web="w1") == ("stay", "d3")


def test_standing_message_says_where_and_how_to_go_further_back():
    history = [
        recorded("b1", web="v1"),
        deploy("b2", {"web": "v1"}, "b1", web="v2"),
        deploy("b3", {"web": "v2"}, "b2", web="v3"),
    ]
    history = apply(history, "b4", web="v3")
    plan = default_rollback(history, {"web": "v2"}, ["web"])
    text = standing_message("fs", plan["standing"], plan["candidates"])
    assert "project fs already runs release b4 (app:v2)" in text
    assert "from release b3 (app:v3)" in text
    assert "nothing was changed" in text
    assert "name a release (release: ID): b1 (app:v1" in text
    assert "To return to release b3, name it or deploy it again" in text
    alone = apply(ONE_TWO, "a3", web="v2")
    plan = default_rollback(alone, {"web": "v1"}, ["web"])
    assert "No older healthy release is recorded" in standing_message("fs", plan["standing"], plan["candidates"])


def test_history_with_bad_new_fields_is_refused(tmp_path):
    path = str(tmp_path / "releases.json")
    good = apply(ONE_TWO, "a3", web="v2")
    save_history(path, {"schema": 1, "project": "fs", "releases": good})
    assert load_history(path, "fs")["releases"][-1]["action"] == "rolled_back"
    for field, value, message in (
        ("action", "undone", "unknown action 'undone'"),
        ("from_services", ["v1"], "from_services is not a mapping"),
        ("from_services", {"web": {}}, "from_services.web has no image_id"),
        ("rolled_back_at", 5, "rolled_back_at is not a string"),
    ):
        broken = json.loads(json.dumps(good))
        broken[-1][field] = value
        save_history(path, {"schema": 1, "project": "fs", "releases": broken})
        with pytest.raises(HistoryError, match=message):
            load_history(path, "fs")


def test_release_id_is_time_and_images():
    when = datetime(2026, 11, 27, 10, 15, tzinfo=timezone.utc)
    rid = release_id({"web": {"image_id": "sha256:1"}}, when)
    assert rid.startswith("20261127T101500Z-") and len(rid) == 25
    assert rid != release_id({"web": {"image_id": "sha256:2"}}, when)


def test_history_round_trip_and_faults(tmp_path):
    path = str(tmp_path / "h" / "releases.json")
    assert load_history(path, "fs")["releases"] == []
    save_history(path, {"schema": 1, "project": "fs", "releases": HISTORY})
    assert [r["id"] for r in load_history(path, "fs")["releases"]] == ["r1", "r2", "r3", "r4"]
    with pytest.raises(HistoryError, match="belongs to project 'fs', not 'other'"):
        load_history(path, "other")
    with open(path, "w") as handle:
        handle.write('{"schema": 1, "releases": [')
    with pytest.raises(HistoryError, match="not valid JSON.*nothing was changed"):
        load_history(path, "fs")
    with open(path, "w") as handle:
        json.dump({"schema": 1, "releases": [{"id": "x", "services": {"web": {}}}]}, handle)
    with pytest.raises(HistoryError, match="release x, service web has no image_id"):
        load_history(path, "fs")


def _hold(path, ready, release_now):
    with ProjectLock(path, 0):
        ready.set()
        release_now.wait(10)


def test_project_lock_refuses_a_second_holder_then_lets_it_in(tmp_path):
    path = str(tmp_path / "releases.json.lock")
    ready, release_now = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, ready, release_now))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockBusy, match="another run holds the lock .* \\(pid %d since" % holder.pid):
            with ProjectLock(path, 0.3):
                pass
    finally:
        release_now.set()
        holder.join(10)
    start = time.monotonic()
    with ProjectLock(path, 5):
        assert os.path.exists(path)
    assert time.monotonic() - start < 5


# --- entries of the history (moved out of the module) --------------------------------------------

WHEN = datetime(2026, 11, 27, 10, 15, tzinfo=timezone.utc)


def test_new_entry_of_a_record_and_of_a_rollback():
    images = {"web": {"reference": "app:v1", "image_id": "v1", "digest": None}}
    recorded = new_entry(images, True, WHEN, "recorded", "hash", "")
    assert recorded["id"] == release_id(images, WHEN)
    assert recorded["recorded_at"] == "2026-11-27T10:15:00Z"
    assert (recorded["action"], recorded["healthy"], recorded["note"]) == ("recorded", True, "")
    assert "from_release" not in recorded
    before = {"web": {"reference": "app:v2", "image_id": "v2", "digest": "d"}, "worker": None}
    rollback = new_entry(images, True, WHEN, "rolled_back", "hash", "note", before, "r2")
    assert rollback["from_release"] == "r2"
    assert rollback["from_services"] == {"web": {"reference": "app:v2", "image_id": "v2"}}
    images["web"]["reference"] = "changed"
    assert rollback["services"]["web"]["reference"] == "app:v1"


def test_add_entry_marks_the_release_a_rollback_left_and_keeps_the_newest():
    history = {"schema": 1, "project": None, "releases": [release("r1", web="v1"), release("r2", web="v2")]}
    entry = dict(release("r3", web="v1"), action="rolled_back", from_release="r2", recorded_at="T3")
    add_entry(history, entry, "fs", 2)
    assert [r["id"] for r in history["releases"]] == ["r2", "r3"]
    assert history["releases"][0]["rolled_back_to"] == "r3"
    assert history["releases"][0]["rolled_back_at"] == "T3"
    assert history["project"] == "fs"
    unhealthy = dict(release("r4", False, web="v9"), action="rolled_back", from_release="r3", recorded_at="T4")
    add_entry(history, unhealthy, "fs", 10)
    assert "rolled_back_to" not in history["releases"][1]


def test_newest_match_named_release_and_known_reference():
    assert newest_match(HISTORY, {"web": "v2", "worker": "v2"}, ["web", "worker"])["id"] == "r4"
    assert newest_match(HISTORY, {"web": "v9"}, ["web"]) is None
    assert named_release(HISTORY, "r2", ["web"], "/h.json")["id"] == "r2"
    with pytest.raises(HistoryError, match="release r9 is not in the history /h.json \\(newest: r1, r2, r3, r4\\)"):
        named_release(HISTORY, "r9", ["web"], "/h.json")
    with pytest.raises(HistoryError, match="release r2 has no image for service\\(s\\) beat"):
        named_release(HISTORY, "r2", ["web", "beat"], "/h.json")
    assert known_reference(HISTORY, "web", "v2") == "app:v2"
    assert known_reference(HISTORY, "web", "v7") is None


def test_already_recorded_only_for_the_same_images_verdict_and_services():
    last = HISTORY[-1]
    assert already_recorded(last, {"web": "v2", "worker": "v2"}, ["web", "worker"], True)
    assert not already_recorded(last, {"web": "v2", "worker": "v2"}, ["web", "worker"], False)
    assert not already_recorded(last, {"web": "v2"}, ["web"], True)
    assert not already_recorded(None, {"web": "v2"}, ["web"], True)


def test_summary_item_shows_references_and_what_a_rollback_did():
    entry = dict(release("r5", web="v1"), action="rolled_back", from_release="r4", recorded_at="T")
    assert summary_item(entry) == {
        "id": "r5",
        "recorded_at": "T",
        "healthy": True,
        "action": "rolled_back",
        "services": {"web": "app:v1"},
        "from_release": "r4",
    }
