# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The weekly Docker cleanup's decisions, for the docker_cleanup role (through its filters).

The runbook runs ``docker system prune -f`` then ``docker volume prune -f``. The second can
delete the database's data: a volume whose container is stopped, or was just removed by the
first command, is "unused". So volumes are never pruned by the engine's rule here:
volume_plan() decides volume by volume, from what was observed BEFORE anything was pruned, and
the role removes only the volumes it names (the engine also refuses a volume in use).

* A volume mounted by any container, running or stopped, is kept (and stays kept for this run
  even when the prune of stopped containers removes that container: it is removed at the
  earliest by the next run, a week later).
* A volume with the keep label (any value) is kept.
* A volume of a Compose project (label ``com.docker.compose.project``) is kept unless asked:
  ``docker compose down`` leaves a project's named volumes, the database's data among them.
* A named volume is kept unless ``named`` is true: Docker 23+ ``volume prune`` removes only
  anonymous volumes unless given ``all=true``, and this rule is the same on every engine.
  Anonymous: the label ``com.docker.volume.anonymous`` (Docker 23+) or a 64-hex name (the name
  Docker gives an anonymous volume on every version).

cleanup_findings() turns what the role observed and did into findings.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._findings import Finding, FindingError, make_finding

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
COMPOSE_SERVICE_LABEL = "com.docker.compose.oneoff=False"
_ANONYMOUS_NAME = re.compile(r"^[0-9a-f]{64}$")


def _labels(item: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = item.get("Labels")
    return labels if isinstance(labels, Mapping) else {}


def _container_name(container: Mapping[str, Any]) -> str:
    names = container.get("Names") or []
    if names and isinstance(names[0], str):
        return names[0].lstrip("/")
    return str(container.get("Id", "?"))[:12]


def is_anonymous(volume: Mapping[str, Any]) -> bool:
    """True for a volume Docker created without a name (``docker run -v /data``)."""
    return ANONYMOUS_LABEL in _labels(volume) or bool(_ANONYMOUS_NAME.match(str(volume.get("Name", ""))))


def volume_users(containers: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per volume name, the containers (``name (state)``) that mount it, from the API's container list."""
    users: dict[str, list[str]] = {}
    for container in containers or ():
        if not isinstance(container, Mapping):
            raise FindingError("a container must be a mapping, got %s" % type(container).__name__)
        if "Mounts" not in container:
            raise FindingError(
                "container %s has no Mounts: list the containers with verbose_output" % _container_name(container)
            )
        for mount in container.get("Mounts") or ():
            if isinstance(mount, Mapping) and mount.get("Type") == "volume" and mount.get("Name"):
                state = container.get("State") or "unknown"
                users.setdefault(str(mount["Name"]), []).append("%s (%s)" % (_container_name(container), state))
    return users


def volume_plan(
    volumes: Sequence[Mapping[str, Any]],
    containers: Sequence[Mapping[str, Any]],
    keep_label: str,
    named: bool = False,
    compose: bool = False,
) -> dict[str, Any]:
    """Which volumes may be removed: ``{"remove": [name, ...], "keep": [{"name", "reason"}, ...]}``.

    ``containers`` must be every container of the engine (running and stopped, not filtered),
    listed before anything was pruned.
    """
    if not isinstance(keep_label, str) or not keep_label.strip():
        raise FindingError("the keep label must be a non-empty string, got %r" % (keep_label,))
    users = volume_users(containers)
    remove: list[str] = []
    keep: list[dict[str, str]] = []
    for volume in volumes or ():
        if not isinstance(volume, Mapping) or not volume.get("Name"):
            raise FindingError("a volume must be a mapping with a Name, got %r" % (volume,))
        name = str(volume["Name"])
        labels = _labels(volume)
        if name in users:
            reason = "in use by %s" % ", ".join(users[name])
        elif keep_label in labels:
            reason = "labelled %s" % keep_label
        elif not compose and COMPOSE_PROJECT_LABEL in labels:
            reason = "belongs to Compose project %s" % labels[COMPOSE_PROJECT_LABEL]
        elif not named and not is_anonymous(volume):
            reason = "named volume (only anonymous volumes are removed)"
        else:
            remove.append(name)
            continue
        keep.append({"name": name, "reason": reason})
    return {"remove": sorted(remove), "keep": sorted(keep, key=lambda item: item["name"])}


def prune_filters(filters: Optional[Mapping[str, Any]], keep_compose: bool = False) -> dict[str, Any]:
    """Docker's container prune filters, with Compose service containers left out when asked.

    A Compose service container (label ``com.docker.compose.oneoff=False``) that stopped is what
    ops inspect (``docker compose logs web``) and restart; ``docker compose run`` containers
    (``oneoff=True``) and plain containers are pruned as before.
    """
    merged = dict(filters or {})
    if keep_compose:
        negated = merged.get("label!")
        negated = [] if negated is None else list(negated) if isinstance(negated, (list, tuple)) else [negated]
        merged["label!"] = negated + [COMPOSE_SERVICE_LABEL]
    return merged


def listing_filters(filters: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The prune filters that the API's listing also takes (``until`` and ``label!`` are prune-only)."""
    return {key: value for key, value in (filters or {}).items() if key not in ("until", "label!")}


def _negated_labels(filters: Optional[Mapping[str, Any]]) -> list[str]:
    negated = (filters or {}).get("label!")
    if negated is None:
        return []
    return [str(n) for n in (negated if isinstance(negated, (list, tuple)) else [negated])]


def _excluded(labels: Mapping[str, Any], negated: Sequence[str]) -> bool:
    for item in negated:
        key, sep, value = item.partition("=")
        if key in labels and (not sep or str(labels[key]) == value):
            return True
    return False


def _mib(size: Any) -> str:
    try:
        return "%.1f MiB" % (float(size) / 1048576.0)
    except (TypeError, ValueError):
        return "unknown size"


_ID = re.compile(r"^(?:sha256:)?[0-9a-f]{32,}$")


def _short(ids: Sequence[Any], limit: int = 10) -> str:
    """Names as they are, ids (hex, 32 digits or more) cut to 12 digits as docker ps shows them."""
    shown = [str(i).replace("sha256:", "")[:12] if _ID.match(str(i)) else str(i) for i in list(ids)[:limit]]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (" and %d more" % more if more > 0 else "")


def _removed_ids(items: Sequence[Any]) -> list[str]:
    """The ids a prune removed: plain ids, or the image prune's ``{"Deleted": id}`` / ``{"Untagged": ref}`` records."""
    removed = []
    for item in items:
        if isinstance(item, Mapping):
            if item.get("Deleted"):
                removed.append(str(item["Deleted"]))
        else:
            removed.append(str(item))
    return removed


def _kind_finding(target: str, kind: str, what: str, removed: Sequence[Any], size: Any, check_mode: bool) -> Finding:
    check = "docker.cleanup.%s" % kind
    details = {"removed": [str(i) for i in removed], "space_reclaimed": size, "check_mode": check_mode}
    if not removed and not size:
        return make_finding(check, target, "ok", "no %s to remove" % what, details)
    verb = "would remove" if check_mode else "removed"
    count = "%d %s" % (len(removed), what) if removed else what
    summary = "%s %s" % (verb, count)
    if size:
        # An image's listed size counts the layers it shares with other images: in check mode the
        # space is an upper bound; after a prune it is what the engine says it reclaimed.
        summary += " (%s)" % (("up to %s" if check_mode else "%s reclaimed") % _mib(size))
    if removed:
        summary += ": " + _short(removed)
    return make_finding(check, target, "info", summary, details)


def _named(ids: Sequence[str], listed: Sequence[Mapping[str, Any]], name_of: Any) -> list[str]:
    """``ids`` by the names the candidates' listing gives them (an id it did not list stays an id)."""
    names = {}
    for item in listed:
        if isinstance(item, Mapping) and item.get("Id"):
            names[str(item["Id"])] = name_of(item)
    return [names.get(i, i) for i in ids]


def cleanup_findings(
    target: str,
    check_mode: bool,
    prune: Optional[Mapping[str, Any]] = None,
    candidates: Optional[Mapping[str, Any]] = None,
    plan: Optional[Mapping[str, Any]] = None,
    volume_results: Optional[Sequence[Mapping[str, Any]]] = None,
    kinds: Sequence[str] = ("containers", "images", "build_cache"),
    containers_filters: Optional[Mapping[str, Any]] = None,
) -> list[Finding]:
    """The findings of one cleanup run.

    ``candidates``: community.docker.docker_host_info's result listing, before the prune, what it
    would remove: ``containers`` (the stopped ones), ``images`` (the dangling ones, verbose, with
    ``Size``) and ``disk_usage`` (verbose, with ``BuildCache``; the records not ``InUse`` would go).
    In check mode (docker_prune has no check mode) they are what the findings report; after a real
    prune they name what it removed (a prune answers with ids, and an image prune's ``Deleted``
    ids are its layers too: an image counts when the listing had it).
    ``prune``: community.docker.docker_prune's result (a real run), or its failure.
    ``plan``: volume_plan()'s result, None when volumes are not cleaned.
    ``volume_results``: the per-volume removal results (``item`` the name, ``failed``, ``msg``).
    ``containers_filters``: the container prune filters (prune_filters()); their ``label!`` entries,
    which the listing cannot take, are applied to the listed containers here.
    """
    what = {"containers": "stopped containers", "images": "dangling images", "build_cache": "build cache"}
    cand = candidates or {}
    negated = _negated_labels(containers_filters)
    stopped = [c for c in cand.get("containers") or () if isinstance(c, Mapping) and not _excluded(_labels(c), negated)]
    dangling = [i for i in cand.get("images") or () if isinstance(i, Mapping)]
    findings: list[Finding] = []
    if check_mode:
        for kind in kinds:
            if kind == "build_cache":
                usage = cand.get("disk_usage") or {}
                cache = [c for c in usage.get("BuildCache") or () if isinstance(c, Mapping) and not c.get("InUse")]
                size = sum(int(c.get("Size") or 0) for c in cache)
                findings.append(
                    _kind_finding(target, kind, "%d build cache record(s)" % len(cache), [], size, True)
                    if cache
                    else make_finding("docker.cleanup.build_cache", target, "ok", "no build cache to remove")
                )
            elif kind == "containers":
                findings.append(_kind_finding(target, kind, what[kind], [_container_name(c) for c in stopped], 0, True))
            else:
                size = sum(int(i.get("Size") or 0) for i in dangling)
                findings.append(
                    _kind_finding(target, kind, what[kind], [str(i.get("Id")) for i in dangling], size, True)
                )
    elif prune is not None:
        if prune.get("failed") or prune.get("skipped"):
            findings.append(
                make_finding(
                    "docker.cleanup.prune",
                    target,
                    "critical",
                    "prune failed: %s" % (prune.get("msg") or "no result"),
                    {"kinds": list(kinds)},
                )
            )
        else:
            for kind in kinds:
                if kind == "containers":
                    removed = _named(_removed_ids(prune.get("containers") or []), stopped, _container_name)
                    size = prune.get("containers_space_reclaimed") or 0
                elif kind == "images":
                    deleted = set(_removed_ids(prune.get("images") or []))
                    removed = [str(i["Id"]) for i in dangling if str(i.get("Id")) in deleted]
                    if deleted and not removed:
                        # Removed, but not listed before (an image left dangling meanwhile): the ids say it.
                        removed = sorted(deleted)
                    size = prune.get("images_space_reclaimed") or 0
                else:
                    removed = _removed_ids(prune.get("builder_cache_caches_deleted") or [])
                    size = prune.get("builder_cache_space_reclaimed") or 0
                findings.append(_kind_finding(target, kind, what[kind], removed, size, False))
    if plan is not None:
        findings.extend(_volume_findings(target, check_mode, plan, volume_results or []))
    return findings


def _volume_findings(
    target: str, check_mode: bool, plan: Mapping[str, Any], results: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    remove = list(plan.get("remove") or [])
    keep = list(plan.get("keep") or [])
    failed = [r for r in results if isinstance(r, Mapping) and r.get("failed")]
    failed_names = {str(r.get("item")) for r in failed}
    done = [name for name in remove if name not in failed_names]
    details = {"kept": keep, "check_mode": check_mode}
    findings: list[Finding] = []
    if not remove:
        findings.append(
            make_finding("docker.cleanup.volumes", target, "ok", "no volume to remove (%d kept)" % len(keep), details)
        )
    elif done:
        findings.append(
            make_finding(
                "docker.cleanup.volumes",
                target,
                "info",
                "%s %d volume(s) (%d kept): %s"
                % ("would remove" if check_mode else "removed", len(done), len(keep), _short(done)),
                dict(details, removed=done),
            )
        )
    for result in failed:
        findings.append(
            make_finding(
                "docker.cleanup.volumes",
                str(result.get("item")),
                "critical",
                "volume not removed: %s" % (result.get("msg") or "no result"),
                {"volume": result.get("item")},
            )
        )
    return findings


# Images a release history refers to. compose_rollback pins every release by image id, so the
# image of the previous release is what a rollback starts; when its tag moves (a new pull of
# the same tag, a rebuild) that image becomes dangling and the runbook's `docker system prune -f`
# deletes it: the rollback then has nothing to start. Such images are given a tag of their own
# before the prune, which makes them no longer dangling and says in `docker images` why they stay.
RELEASE_REPOSITORY = "stronghold-release"


def _history_image_ids(document: Any) -> list[str]:
    if not isinstance(document, Mapping) or not isinstance(document.get("releases"), list):
        raise FindingError("it is not a release history (no list of releases)")
    found: list[str] = []
    for release in document["releases"]:
        if not isinstance(release, Mapping):
            continue
        for key in ("services", "from_services"):
            services = release.get(key)
            if not isinstance(services, Mapping):
                continue
            for image in services.values():
                image_id = image.get("image_id") if isinstance(image, Mapping) else None
                if isinstance(image_id, str) and image_id and image_id not in found:
                    found.append(image_id)
    return found


def _tag_name(project: str) -> str:
    """A repository name Docker accepts: lower case, digits and separators only."""
    name = re.sub(r"[^a-z0-9._-]+", "-", str(project).lower()).strip("._-")
    return "%s/%s" % (RELEASE_REPOSITORY, name or "project")


def release_images(histories: Sequence[Mapping[str, Any]], dangling: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Which dangling images to keep because a release history refers to them.

    ``histories``: one entry per history file, ``{"path", "exists", "text"}`` (``text`` the file's
    content; ``exists`` false when there is no such file: a project never deployed by the
    collection). ``dangling``: the dangling images as docker_host_info lists them (``Id``).

    Returns ``protect`` (``{"id", "repository", "tag"}`` per image to tag), ``image_ids`` (every id
    the histories name), and ``problems``: a history that exists but cannot be read. With a
    problem the role must not prune images at all: it cannot know what a rollback needs.
    """
    problems: list[str] = []
    wanted: dict[str, str] = {}
    for history in histories or ():
        path = str(history.get("path"))
        if not history.get("exists"):
            continue
        try:
            document = json.loads(history.get("text") or "")
            ids = _history_image_ids(document)
        except (ValueError, FindingError) as exc:
            problems.append("%s: %s" % (path, exc))
            continue
        project = document.get("project") if isinstance(document.get("project"), str) else path
        for image_id in ids:
            wanted.setdefault(image_id, _tag_name(project))
    protect = []
    for image in dangling or ():
        listed = image.get("Id") if isinstance(image, Mapping) else None
        if isinstance(listed, str) and listed in wanted:
            short = listed.split(":", 1)[-1][:12]
            protect.append({"id": listed, "repository": wanted[listed], "tag": short})
    return {"protect": protect, "image_ids": sorted(wanted), "problems": problems}


def release_findings(
    target: str, plan: Mapping[str, Any], check_mode: bool, results: Sequence[Any] = ()
) -> list[Finding]:
    """Findings of the release-image rule: what was kept for rollback, and what could not be."""
    findings: list[Finding] = []
    if plan.get("problems"):
        findings.append(
            make_finding(
                "docker.cleanup.releases",
                target,
                "warning",
                "dangling images not pruned: a release history cannot be read (%s); a rollback may need them"
                % "; ".join(plan["problems"]),
                {"problems": list(plan["problems"])},
            )
        )
        # Nothing was tagged and no image is pruned: there is nothing kept to speak of.
        return findings
    # community.docker.docker_image_tag answers with tagged_images; the role clears its failed flag
    # (failed_when: false) so that one refusal does not end the cleanup.
    failed = [
        r
        for r in results or ()
        if isinstance(r, Mapping) and not r.get("skipped") and (r.get("failed") or "tagged_images" not in r)
    ]
    protect = plan.get("protect") or []
    if failed:
        findings.append(
            make_finding(
                "docker.cleanup.releases",
                target,
                "warning",
                "dangling images not pruned: %d image(s) of the release history could not be tagged (%s)"
                % (len(failed), "; ".join(str(r.get("msg", "failed")) for r in failed)),
                {"images": [p["id"] for p in protect]},
            )
        )
    elif protect:
        findings.append(
            make_finding(
                "docker.cleanup.releases",
                target,
                "info",
                "%s %d dangling image(s) that the release history needs for a rollback (%s)"
                % (
                    "would keep" if check_mode else "kept",
                    len(protect),
                    ", ".join("%s:%s" % (p["repository"], p["tag"]) for p in protect),
                ),
                {
                    "images": [p["id"] for p in protect],
                    "tags": ["%s:%s" % (p["repository"], p["tag"]) for p in protect],
                },
            )
        )
    return findings
