# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The release history of a Compose project, and the lock that serialises runs on it.

The history is one JSON document, written atomically (temporary file, fsync, rename), so a
run killed midway leaves either the old or the new history, never a torn one. Choosing a
target release is pure and unit-tested.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import time
from datetime import datetime
from typing import Any, Literal, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._files import atomic_write

SCHEMA = 1

Release = dict[str, Any]
History = dict[str, Any]
# service -> image id (None: the service runs nothing)
Ids = Mapping[str, Optional[str]]


class HistoryError(Exception):
    pass


class LockBusy(Exception):
    pass


def release_id(services: Mapping[str, Mapping[str, Any]], when: datetime) -> str:
    """A readable, sortable id: the UTC time and a short hash of the image ids."""
    digest = hashlib.sha256(json.dumps(sorted((s, v["image_id"]) for s, v in services.items())).encode()).hexdigest()
    return "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), digest[:8])


def load_history(path: str, project: Optional[str]) -> History:
    """The history document; an empty one when the file does not exist yet."""
    if not os.path.exists(path):
        return {"schema": SCHEMA, "project": project, "releases": []}
    try:
        with open(path, encoding="utf-8") as handle:
            document: History = json.load(handle)
    except OSError as exc:
        raise HistoryError(
            "cannot read the release history %s: %s; nothing was changed" % (path, exc.strerror or exc)
        ) from exc
    except ValueError as exc:
        raise HistoryError(
            "the release history %s is not valid JSON (%s); fix or move it away, nothing was changed" % (path, exc)
        ) from exc
    problem = history_problem(document, project)
    if problem:
        raise HistoryError(
            "the release history %s is corrupted: %s; fix or move it away, nothing was changed" % (path, problem)
        )
    return document


ACTIONS = ("recorded", "deployed", "rolled_back")
# The note this module wrote on a rollback entry before entries said what they were (action).
_LEGACY_ROLLBACK_NOTE = re.compile(r"^rollback to release \S+$")


def history_problem(document: Any, project: Optional[str]) -> Optional[str]:
    if not isinstance(document, dict) or not isinstance(document.get("releases"), list):
        return "it has no list of releases"
    if document.get("schema") != SCHEMA:
        return "unknown schema %r" % document.get("schema")
    if document.get("project") not in (None, project):
        return "it belongs to project %r, not %r" % (document.get("project"), project)
    for index, release in enumerate(document["releases"]):
        if not isinstance(release, dict) or not isinstance(release.get("id"), str):
            return "release %d has no id" % index
        services = release.get("services")
        if not isinstance(services, dict) or not services:
            return "release %s has no services" % release.get("id")
        for name, image in services.items():
            if not isinstance(image, dict) or not isinstance(image.get("image_id"), str):
                return "release %s, service %s has no image_id" % (release["id"], name)
        # Fields added later are optional (a history written by an earlier version has none),
        # but when present they must have the shape the rollback decision reads.
        if "action" in release and release["action"] not in ACTIONS:
            return "release %s has an unknown action %r" % (release["id"], release["action"])
        before = release.get("from_services")
        if before is not None:
            if not isinstance(before, dict):
                return "release %s: from_services is not a mapping" % release["id"]
            for name, image in before.items():
                if not isinstance(image, dict) or not isinstance(image.get("image_id"), str):
                    return "release %s, from_services.%s has no image_id" % (release["id"], name)
        for key in ("from_release", "rolled_back_at", "rolled_back_to", "recorded_at", "note"):
            if release.get(key) is not None and not isinstance(release[key], str):
                return "release %s: %s is not a string" % (release["id"], key)
    return None


def save_history(path: str, document: History) -> None:
    os.makedirs(os.path.dirname(path) or ".", mode=0o750, exist_ok=True)
    atomic_write(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def matches(release: Release, current: Ids, services: Sequence[str]) -> bool:
    """The release runs exactly the current image of every service in scope."""
    return all(s in release["services"] and release["services"][s]["image_id"] == current.get(s) for s in services)


def is_rollback(release: Release) -> bool:
    """A healthy change made by a rollback. Entries written before `action` existed are known by
    the note the module then gave every rollback that had no note of the operator's."""
    if "action" in release:
        return release["action"] == "rolled_back"
    return bool(_LEGACY_ROLLBACK_NOTE.match(release.get("note") or ""))


def _runs(images: Ids, mark: Mapping[str, str]) -> bool:
    """`images` (service -> image id) run the release of `mark` on every service they share."""
    shared = [s for s in mark if s in images]
    return bool(shared) and all(images[s] == mark[s] for s in shared)


def left_by_rollback(releases: Sequence[Release]) -> list[dict[str, Any]]:
    """The releases that a rollback left and that have not run since, oldest first:
    [{"services": {service: image id}, "release": id or None, "at": time, "rollback": id}].

    A release stops being "left" once it runs again: a later healthy entry has its images (a
    deploy, a rollback that named it, a record), or a later change found it running (someone
    put it back by hand). Both are deliberate choices a default rollback must not override.
    """
    marks: list[dict[str, Any]] = []
    for entry in releases:
        seen: list[dict[str, str]] = []
        if entry.get("healthy"):
            seen.append(dict((s, v["image_id"]) for s, v in entry["services"].items()))
        before = dict((s, v["image_id"]) for s, v in (entry.get("from_services") or {}).items())
        if before:
            seen.append(before)
        marks = [m for m in marks if not any(_runs(images, m["services"]) for images in seen)]
        if entry.get("healthy") and is_rollback(entry) and before:
            marks.append(
                {
                    "services": before,
                    "release": entry.get("from_release"),
                    "at": entry.get("recorded_at"),
                    "rollback": entry["id"],
                }
            )
    return marks


def _left_mark(release: Release, marks: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    images = dict((s, v["image_id"]) for s, v in release["services"].items())
    for mark in reversed(marks):
        if _runs(images, mark["services"]):
            return mark
    return None


def standing_rollback(releases: Sequence[Release], current: Ids, services: Sequence[str]) -> Optional[Release]:
    """The rollback entry the project stands on, or None: the last change that stuck (the newest
    healthy entry; a record of the same images since is a snapshot, not a change) was a rollback,
    and the project still runs its images. A rollback with no target run then changes nothing,
    instead of returning to the release that rollback left."""
    for entry in reversed(releases):
        if not entry.get("healthy"):
            continue
        if entry.get("action") == "recorded" and matches(entry, current, services):
            continue
        return entry if is_rollback(entry) and matches(entry, current, services) else None
    return None


def rollback_candidates(releases: Sequence[Release], current: Ids, services: Sequence[str]) -> list[Release]:
    """The healthy releases a rollback may name to go further back, newest first, one per set of
    images; those a rollback left are not among them (returning there is a forward move)."""
    marks = left_by_rollback(releases)
    seen: set[tuple[str, ...]] = set()
    found: list[Release] = []
    for release in reversed(releases):
        if not release.get("healthy") or any(s not in release["services"] for s in services):
            continue
        key = tuple(release["services"][s]["image_id"] for s in services)
        if key in seen or matches(release, current, services) or _left_mark(release, marks):
            seen.add(key)
            continue
        seen.add(key)
        found.append(release)
    return found


def choose_target(releases: Sequence[Release], current: Ids, services: Sequence[str]) -> Release:
    """The release a default rollback returns to, or raises HistoryError saying why none.

    The current state is located in the history (its newest matching entry); the target is the
    newest healthy release older than that whose images differ and that no rollback left (see
    left_by_rollback): a rollback run twice must not undo the first. When the current state is
    not in the history, the newest such release of the whole history is the target.
    """
    if not releases:
        raise HistoryError(
            "no release history yet: name the target with images (for example the runbook's "
            "`previous` tag) or record releases after each deploy (state: recorded)"
        )
    position = None
    for index in range(len(releases) - 1, -1, -1):
        if matches(releases[index], current, services):
            position = index
            break
    candidates = releases[:position] if position is not None else releases
    marks = left_by_rollback(releases)
    passed: list[dict[str, Any]] = []
    for release in reversed(candidates):
        missing = [s for s in services if s not in release["services"]]
        if not release.get("healthy") or missing or matches(release, current, services):
            continue
        mark = _left_mark(release, marks)
        if mark:
            if not any(m is mark for m in passed):
                passed.append(mark)
            continue
        return release
    where = "before release %s (running now)" % releases[position]["id"] if position is not None else "in the history"
    left = "".join(
        "; release %s was left by the rollback %s at %s" % (m["release"] or "(not recorded)", m["rollback"], m["at"])
        for m in passed
    )
    raise HistoryError(
        "no earlier healthy release %s for services %s%s; a rollback without a target never returns to "
        "a release a rollback left: name a release or images" % (where, ", ".join(services), left)
    )


def _references(release_services: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(sorted(set(v.get("reference") or v["image_id"] for v in release_services.values())))


def default_rollback(releases: Sequence[Release], current: Ids, services: Sequence[str]) -> dict[str, Any]:
    """What a rollback with no target does: {"standing": entry, "candidates": [...]} when the
    project already stands where a rollback brought it (nothing to do), else {"target": release}.
    Raises HistoryError when there is no release to return to."""
    standing = standing_rollback(releases, current, services)
    if standing is not None:
        return {"standing": standing, "candidates": rollback_candidates(releases, current, services)}
    return {"target": choose_target(releases, current, services)}


def standing_message(project: Optional[str], standing: Release, candidates: Sequence[Release]) -> str:
    """Where the project stands after an earlier rollback, and how to go further back."""
    before = standing.get("from_services") or {}
    origin = ""
    if standing.get("from_release"):
        origin = " from release %s%s" % (standing["from_release"], " (%s)" % _references(before) if before else "")
    elif before:
        origin = " from %s (not in the history)" % _references(before)
    text = (
        "project %s already runs release %s (%s), where the rollback at %s brought it%s; nothing was changed: a "
        "rollback without a target never returns to a release a rollback left. "
        % (
            project,
            standing["id"],
            _references(standing["services"]),
            standing.get("recorded_at") or "(unknown time)",
            origin,
        )
    )
    if candidates:
        text += "To go further back, name a release (release: ID): %s" % "; ".join(
            "%s (%s, recorded at %s)" % (r["id"], _references(r["services"]), r.get("recorded_at")) for r in candidates
        )
    else:
        text += "No older healthy release is recorded; to go elsewhere, name the images"
    if standing.get("from_release"):
        text += ". To return to release %s, name it or deploy it again" % standing["from_release"]
    return text


def newest_match(releases: Sequence[Release], ids: Ids, services: Sequence[str]) -> Optional[Release]:
    """The newest release that runs exactly ``ids`` on every service in scope."""
    for entry in reversed(releases):
        if matches(entry, ids, services):
            return entry
    return None


def already_recorded(last: Optional[Release], ids: Ids, services: Sequence[str], healthy: bool) -> bool:
    """Recording ``ids`` (with this verdict) would repeat ``last``, the newest entry of the history."""
    return bool(
        last
        and matches(last, ids, services)
        and last.get("healthy") == healthy
        and set(last["services"]) == set(services)
    )


def named_release(releases: Sequence[Release], wanted: str, services: Sequence[str], path: str) -> Release:
    """The release ``wanted`` of the history (at ``path``), with an image for every service, or HistoryError."""
    found = [r for r in releases if r["id"] == wanted]
    if not found:
        newest = ", ".join(r["id"] for r in releases[-5:]) or "none"
        raise HistoryError("release %s is not in the history %s (newest: %s)" % (wanted, path, newest))
    missing = [s for s in services if s not in found[0]["services"]]
    if missing:
        raise HistoryError("release %s has no image for service(s) %s" % (wanted, ", ".join(missing)))
    return found[0]


def known_reference(releases: Sequence[Release], service: str, image_id: str) -> Optional[str]:
    """The reference the history knows ``image_id`` of ``service`` by (newest first), or None."""
    for entry in reversed(releases):
        recorded = entry["services"].get(service)
        if recorded and recorded["image_id"] == image_id and recorded.get("reference"):
            return str(recorded["reference"])
    return None


def new_entry(
    images: Mapping[str, Mapping[str, Any]],
    healthy: bool,
    when: datetime,
    action: str,
    compose_hash: str,
    note: str,
    before: Optional[Mapping[str, Optional[Mapping[str, Any]]]] = None,
    from_release: Optional[str] = None,
) -> Release:
    """A history entry for ``images`` (service -> {reference, image_id, digest}). A deploy or a
    rollback also says what ran ``before`` (service -> image or None) and the release that was
    (``from_release``): for a rollback, the release it left, which a later rollback without a
    target must not return to (left_by_rollback)."""
    services = dict((s, dict(images[s])) for s in images)
    entry: Release = {
        "id": release_id(services, when),
        "recorded_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "healthy": healthy,
        "compose_hash": compose_hash,
        "services": services,
        "note": note or "",
        "action": action,
    }
    if action != "recorded":
        entry["from_release"] = from_release
        entry["from_services"] = dict(
            (s, {"reference": v["reference"], "image_id": v["image_id"]}) for s, v in (before or {}).items() if v
        )
    return entry


def add_entry(history: History, entry: Release, project: Optional[str], size: int) -> History:
    """``history`` with ``entry`` as its newest release, at most ``size`` releases kept (in place).
    A healthy rollback marks the release it left (rolled_back_at, rolled_back_to), for whoever
    reads the history."""
    if entry.get("healthy") and entry["action"] == "rolled_back" and entry.get("from_release"):
        for left in reversed(history["releases"]):
            if left["id"] == entry["from_release"]:
                left.update(rolled_back_at=entry["recorded_at"], rolled_back_to=entry["id"])
                break
    history["project"] = project
    history["releases"].append(entry)
    del history["releases"][:-size]
    return history


def summary_item(release: Release) -> dict[str, Any]:
    """A release as compose_rollback returns it (RV history, RV candidates)."""
    item = {
        "id": release["id"],
        "recorded_at": release.get("recorded_at"),
        "healthy": release.get("healthy"),
        "action": release.get("action"),
        "services": dict((s, v.get("reference")) for s, v in release["services"].items()),
    }
    for key in ("from_release", "rolled_back_at", "rolled_back_to"):
        if release.get(key):
            item[key] = release[key]
    return item


class ProjectLock:
    """An exclusive flock on <history>.lock; a second run waits up to `wait` seconds, then fails
    saying who holds it."""

    def __init__(self, path: str, wait: float) -> None:
        self.path = path
        self.wait = wait
        self.handle: Any = None

    def __enter__(self) -> ProjectLock:
        os.makedirs(os.path.dirname(self.path) or ".", mode=0o750, exist_ok=True)
        self.handle = open(self.path, "a+", encoding="utf-8")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    self.handle.seek(0)
                    holder = self.handle.read().strip() or "unknown"
                    self.handle.close()
                    raise LockBusy(
                        "another run holds the lock %s (%s); try again when it is done" % (self.path, holder)
                    ) from exc
                time.sleep(0.2)
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write("pid %d since %s" % (os.getpid(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        self.handle.flush()
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.handle.seek(0)
        self.handle.truncate()
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False
