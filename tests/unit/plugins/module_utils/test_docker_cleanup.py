# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils import _docker_cleanup
from ansible_collections.stronghold.ops.plugins.module_utils._docker_cleanup import (
    cleanup_findings,
    is_anonymous,
    listing_filters,
    prune_filters,
    volume_plan,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, validate_finding

ANON = "3f" * 32


def container(name, state, *volumes):
    return {
        "Id": name + "0" * 20,
        "Names": ["/" + name],
        "State": state,
        "Mounts": [{"Type": "volume", "Name": v, "Destination": "/data"} for v in volumes]
        + [{"Type": "bind", "Source": "/srv/logs", "Destination": "/app/logs"}],
    }


def volume(name, **labels):
    return {"Name": name, "Driver": "local", "Labels": labels or None}


def plan(volumes, containers, **kwargs):
    return volume_plan(volumes, containers, "stronghold.keep", **kwargs)


def test_a_volume_of_a_stopped_container_is_kept_the_database_case():
    result = plan([volume("pgdata")], [container("db-1", "exited", "pgdata")], named=True, compose=True)
    assert result["remove"] == []
    assert result["keep"] == [{"name": "pgdata", "reason": "in use by db-1 (exited)"}]


def test_a_volume_of_a_running_container_is_kept_and_every_user_named():
    result = plan(
        [volume(ANON)], [container("web-1", "running", ANON), container("web-2", "created", ANON)], named=True
    )
    assert result["keep"][0]["reason"] == "in use by web-1 (running), web-2 (created)"


def test_the_keep_label_keeps_whatever_its_value():
    result = plan([volume(ANON, **{"stronghold.keep": ""}), volume("x" * 64)], [], named=True)
    assert result == {"remove": ["x" * 64], "keep": [{"name": ANON, "reason": "labelled stronghold.keep"}]}


def test_named_volumes_stay_unless_asked_and_anonymous_ones_go():
    vols = [volume("uploads"), volume(ANON), volume("v2", **{"com.docker.volume.anonymous": ""})]
    assert plan(vols, [])["remove"] == [ANON, "v2"]
    assert plan(vols, [], named=True)["remove"] == [ANON, "uploads", "v2"]


def test_compose_volumes_stay_unless_asked():
    vols = [volume("fs_pgdata", **{"com.docker.compose.project": "fs"})]
    assert plan(vols, [], named=True)["keep"][0]["reason"] == "belongs to Compose project fs"
    assert plan(vols, [], named=True, compose=True)["remove"] == ["fs_pgdata"]


def test_anonymous_by_name_or_label_only():
    assert is_anonymous({"Name": ANON})
    assert not is_anonymous({"Name": ANON.upper()})
    assert not is_anonymous({"Name": ANON[:-1]})
    assert is_anonymous({"Name": "x", "Labels": {"com.docker.volume.anonymous": ""}})


@pytest.mark.parametrize(
    "volumes, containers, keep_label, message",
    [
        ([volume("a")], [{"Names": ["/c"], "State": "running"}], "k", "verbose_output"),
        ([{"Driver": "local"}], [], "k", "with a Name"),
        ([volume("a")], [], "  ", "keep label"),
        ([volume("a")], ["c"], "k", "must be a mapping"),
    ],
)
def test_bad_input_is_a_clear_error(volumes, containers, keep_label, message):
    with pytest.raises(FindingError, match=message):
        volume_plan(volumes, containers, keep_label)


def test_a_real_prune_gives_what_was_removed_by_name_and_the_space():
    image = "sha256:" + "b" * 64
    prune = {
        "containers": ["a" * 64, "d" * 64],
        "containers_space_reclaimed": 2 * 1048576,
        # What the engine answers for an image prune: untagged references and deleted ids, the
        # image's layers among them; only the listed image counts.
        "images": [
            {"Untagged": "dcrtest@sha256:" + "c" * 64},
            {"Deleted": image},
            {"Deleted": "sha256:" + "e" * 64},
        ],
        "images_space_reclaimed": 0,
        "builder_cache_space_reclaimed": 0,
        "builder_cache_caches_deleted": [],
    }
    listed = {"containers": [{"Id": "a" * 64, "Names": ["/old-job"]}], "images": [{"Id": image, "Size": 5}]}
    found = cleanup_findings("unix:///d.sock", False, prune=prune, candidates=listed)
    assert [f["check"] for f in found] == [
        "docker.cleanup.containers",
        "docker.cleanup.images",
        "docker.cleanup.build_cache",
    ]
    assert found[0]["severity"] == "info"
    assert found[0]["summary"] == "removed 2 stopped containers (2.0 MiB reclaimed): old-job, " + "d" * 12
    assert found[1]["summary"] == "removed 1 dangling images: " + "b" * 12
    assert found[2]["severity"] == "ok"
    for item in found:
        validate_finding(item)


def test_an_image_removed_without_being_listed_is_reported_by_its_ids():
    prune = {"images": [{"Deleted": "sha256:" + "e" * 64}], "images_space_reclaimed": 10}
    found = cleanup_findings("d", False, prune=prune, candidates={}, kinds=("images",))
    assert found[0]["details"]["removed"] == ["sha256:" + "e" * 64]


def test_a_failed_prune_is_critical():
    found = cleanup_findings("d", False, prune={"failed": True, "msg": "Error connecting"})
    assert [(f["check"], f["severity"]) for f in found] == [("docker.cleanup.prune", "critical")]
    assert "Error connecting" in found[0]["summary"]


def test_check_mode_says_what_would_go_from_the_candidates():
    candidates = {
        "containers": [{"Id": "c" * 64, "Names": ["/old-job"], "State": "exited"}],
        "images": [],
        "disk_usage": {
            "BuildCache": [{"ID": "x", "Size": 1048576, "InUse": False}] * 3 + [{"ID": "y", "Size": 5, "InUse": True}]
        },
    }
    found = cleanup_findings("d", True, candidates=candidates, plan={"remove": [ANON], "keep": []})
    summaries = [f["summary"] for f in found]
    assert summaries[0] == "would remove 1 stopped containers: old-job"
    assert summaries[1] == "no dangling images to remove"
    assert summaries[2] == "would remove 3 build cache record(s) (up to 3.0 MiB)"
    assert summaries[3].startswith("would remove 1 volume(s) (0 kept)")


def test_a_volume_that_could_not_be_removed_is_critical_and_the_others_reported():
    found = cleanup_findings(
        "d",
        False,
        plan={"remove": ["a", "b"], "keep": [{"name": "k", "reason": "labelled x"}]},
        volume_results=[{"item": "a", "failed": True, "msg": "volume is in use"}, {"item": "b", "changed": True}],
        kinds=(),
    )
    assert [(f["target"], f["severity"]) for f in found] == [("d", "info"), ("a", "critical")]
    assert found[0]["details"]["removed"] == ["b"] and found[0]["details"]["kept"][0]["name"] == "k"


def test_no_volume_to_remove_is_ok():
    found = cleanup_findings("d", False, plan={"remove": [], "keep": []}, kinds=())
    assert [(f["check"], f["severity"], f["summary"]) for f in found] == [
        ("docker.cleanup.volumes", "ok", "no volume to remove (0 kept)")
    ]


def test_compose_service_containers_are_left_out_of_the_prune_when_asked():
    assert prune_filters({"until": "24h"}, keep_compose=True) == {
        "until": "24h",
        "label!": ["com.docker.compose.oneoff=False"],
    }
    assert prune_filters({"label!": "keep"}, keep_compose=True)["label!"] == ["keep", "com.docker.compose.oneoff=False"]
    assert prune_filters({"label": "x"}) == {"label": "x"}


def test_the_listing_takes_no_prune_only_filter():
    assert listing_filters({"until": "24h", "label!": ["a"], "label": "b"}) == {"label": "b"}


def test_check_mode_leaves_out_the_containers_the_prune_filters_exclude():
    def stopped(name, **labels):
        return {"Id": name * 8, "Names": ["/" + name], "State": "exited", "Labels": labels}

    candidates = {
        "containers": [
            stopped("web-1", **{"com.docker.compose.project": "fs", "com.docker.compose.oneoff": "False"}),
            stopped("run-1", **{"com.docker.compose.project": "fs", "com.docker.compose.oneoff": "True"}),
            stopped("plain"),
            stopped("kept", keep="yes"),
        ]
    }
    found = cleanup_findings(
        "d",
        True,
        candidates=candidates,
        kinds=("containers",),
        containers_filters=prune_filters({"label!": "keep=yes"}, keep_compose=True),
    )
    assert found[0]["details"]["removed"] == ["run-1", "plain"]


# The release rule: dangling images that a compose_rollback history refers to are kept.
_IMG_A = "sha256:" + "a" * 64
_IMG_B = "sha256:" + "b" * 64
_IMG_C = "sha256:" + "c" * 64


def _history(path="/p/.stronghold/releases.json", project="Financial Stronghold", releases=None, text=None):
    if text is None:
        text = json.dumps(
            {
                "schema": 1,
                "project": project,
                "releases": releases
                if releases is not None
                else [
                    {
                        "id": "r2",
                        "services": {"web": {"image_id": _IMG_B}},
                        "from_services": {"web": {"image_id": _IMG_A}},
                    },
                ],
            }
        )
    return {"path": path, "exists": True, "text": text}


def test_release_images_keeps_the_dangling_images_of_every_release_side():
    plan = _docker_cleanup.release_images([_history()], [{"Id": _IMG_A}, {"Id": _IMG_C}])
    assert plan["problems"] == []
    assert plan["image_ids"] == [_IMG_A, _IMG_B]
    assert plan["protect"] == [{"id": _IMG_A, "repository": "stronghold-release/financial-stronghold", "tag": "a" * 12}]


def test_release_images_without_histories_or_with_a_missing_file_keeps_nothing():
    assert _docker_cleanup.release_images([], [{"Id": _IMG_A}])["protect"] == []
    missing = {"path": "/none/releases.json", "exists": False, "text": None}
    assert _docker_cleanup.release_images([missing], [{"Id": _IMG_A}]) == {
        "protect": [],
        "image_ids": [],
        "problems": [],
    }


@pytest.mark.parametrize(
    "text",
    ['{"releases": [{"id": "r1", "serv', "[]", '{"schema": 1}', '{"releases": {}}', "", "\u00ff"],
)
def test_a_history_that_cannot_be_read_is_a_problem(text):
    plan = _docker_cleanup.release_images([_history(text=text)], [{"Id": _IMG_A}])
    assert plan["protect"] == []
    assert len(plan["problems"]) == 1 and "/p/.stronghold/releases.json" in plan["problems"][0]


def test_odd_entries_inside_a_history_are_skipped_not_fatal():
    releases = [
        None,
        {"id": "x", "services": None},
        {"id": "y", "services": {"web": "nope", "w": {"image_id": 5}}},
        {"id": "z", "services": {"web": {"image_id": _IMG_C}}},
    ]
    plan = _docker_cleanup.release_images([_history(releases=releases, project="../ODD  name!")], [{"Id": _IMG_C}, "x"])
    assert plan["problems"] == []
    assert plan["protect"] == [{"id": _IMG_C, "repository": "stronghold-release/odd-name", "tag": "c" * 12}]


def test_release_findings_say_what_was_kept_and_warn_on_problems():
    plan = _docker_cleanup.release_images([_history()], [{"Id": _IMG_A}])
    kept = _docker_cleanup.release_findings(
        "unix:///d.sock", plan, check_mode=False, results=[{"item": {}, "changed": True, "tagged_images": ["x"]}]
    )
    assert [f["severity"] for f in kept] == ["info"]
    assert kept[0]["summary"].startswith("kept 1 dangling image(s)")
    assert "stronghold-release/financial-stronghold:" + "a" * 12 in kept[0]["summary"]
    would = _docker_cleanup.release_findings("unix:///d.sock", plan, check_mode=True)
    assert would[0]["summary"].startswith("would keep 1")
    failed = _docker_cleanup.release_findings(
        "unix:///d.sock", plan, False, results=[{"failed": True, "msg": "engine said no"}]
    )
    assert [f["severity"] for f in failed] == ["warning"] and "engine said no" in failed[0]["summary"]
    bad = _docker_cleanup.release_images([_history(text="{")], [])
    assert [f["severity"] for f in _docker_cleanup.release_findings("h", bad, False)] == ["warning"]
    # A cut history: nothing is tagged, so nothing is said to be kept.
    assert len(_docker_cleanup.release_findings("h", bad, False, results=[{"tagged_images": []}])) == 1
    assert _docker_cleanup.release_findings("h", {"protect": [], "problems": []}, False) == []


def test_a_refused_tag_is_a_warning_even_when_the_role_cleared_failed():
    plan = _docker_cleanup.release_images([_history()], [{"Id": _IMG_A}])
    cleared = _docker_cleanup.release_findings("h", plan, False, results=[{"failed": False, "msg": "engine said no"}])
    assert [f["severity"] for f in cleared] == ["warning"] and "engine said no" in cleared[0]["summary"]
    skipped = _docker_cleanup.release_findings("h", plan, True, results=[{"skipped": True}])
    assert [f["severity"] for f in skipped] == ["info"]
