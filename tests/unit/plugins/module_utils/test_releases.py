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
    choose_target,
    load_history,
    release_id,
    save_history,
)


def release(rid, healthy=True, **images):
    return {"id": rid, "healthy": healthy, "services": dict((s, {"image_id": i, "reference": "app:" + i}) for s, i in images.items())}


HISTORY = [release("r1", web="v1", worker="v1"), release("r2", web="v2", worker="v2"),
           release("r3", False, web="v3", worker="v3"), release("r4", web="v2", worker="v2")]


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
