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
import time

from ansible_collections.stronghold.ops.plugins.module_utils._files import atomic_write

SCHEMA = 1


class HistoryError(Exception):
    pass


class LockBusy(Exception):
    pass


def release_id(services, when):
    """A readable, sortable id: the UTC time and a short hash of the image ids."""
    digest = hashlib.sha256(json.dumps(sorted((s, v["image_id"]) for s, v in services.items())).encode()).hexdigest()
    return "%s-%s" % (when.strftime("%Y%m%dT%H%M%SZ"), digest[:8])


def load_history(path, project):
    """The history document; an empty one when the file does not exist yet."""
    if not os.path.exists(path):
        return {"schema": SCHEMA, "project": project, "releases": []}
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise HistoryError("cannot read the release history %s: %s; nothing was changed" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise HistoryError("the release history %s is not valid JSON (%s); fix or move it away, nothing was changed" % (path, exc))
    problem = history_problem(document, project)
    if problem:
        raise HistoryError("the release history %s is corrupted: %s; fix or move it away, nothing was changed" % (path, problem))
    return document


def history_problem(document, project):
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
    return None


def save_history(path, document):
    os.makedirs(os.path.dirname(path) or ".", mode=0o750, exist_ok=True)
    atomic_write(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def matches(release, current, services):
    """The release runs exactly the current image of every service in scope."""
    return all(s in release["services"] and release["services"][s]["image_id"] == current.get(s) for s in services)


def choose_target(releases, current, services):
    """The release a default rollback returns to, or raises HistoryError saying why none.

    The current state is located in the history (its newest matching entry); the target is the
    newest healthy release older than that whose images differ. When the current state is not
    in the history, the newest healthy release with different images is the target.
    """
    if not releases:
        raise HistoryError("no release history yet: name the target with images (for example the runbook's "
                           "`previous` tag) or record releases after each deploy (state: recorded)")
    position = None
    for index in range(len(releases) - 1, -1, -1):
        if matches(releases[index], current, services):
            position = index
            break
    candidates = releases[:position] if position is not None else releases
    for release in reversed(candidates):
        missing = [s for s in services if s not in release["services"]]
        if release.get("healthy") and not missing and not matches(release, current, services):
            return release
    where = "before release %s (running now)" % releases[position]["id"] if position is not None else "in the history"
    raise HistoryError("no earlier healthy release %s for services %s; name a release or images" % (where, ", ".join(services)))


class ProjectLock:
    """An exclusive flock on <history>.lock; a second run waits up to `wait` seconds, then fails
    saying who holds it."""

    def __init__(self, path, wait):
        self.path = path
        self.wait = wait
        self.handle = None

    def __enter__(self):
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
                    raise LockBusy("another run holds the lock %s (%s); try again when it is done" % (self.path, holder))
                time.sleep(0.2)
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write("pid %d since %s" % (os.getpid(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.seek(0)
        self.handle.truncate()
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False
