# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""State kept between runs (``state_path`` of pg_health, log_scan and resource_check).

One small JSON file per module and host: ``{"kind": ..., "version": N, "saved_at": epoch, "data": {...}}``.
Reading never fails a run because of the file: a missing file is a first run; an unreadable,
cut, foreign or newer-version file is treated as no state, and the reason is returned so the
module can say so in an ``info`` finding. Writing is atomic (``_files.atomic_write``, mode 0600)
so a run killed midway leaves the old state or the new one, and is skipped in check mode by
the caller.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._files import atomic_write

# A state file is a few KiB; anything much larger is not ours (or is damaged): never load it.
MAX_STATE_BYTES = 64 * 1024 * 1024


class StateError(Exception):
    """The state cannot be written (directory missing, not writable, disk full)."""


def load_state(path: Optional[str], kind: str, version: int) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """``(data, problem)``: the saved data, or None and why not (None when there was simply no file)."""
    if not path:
        return None, None
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, "cannot read the state file %s (%s); starting without it" % (path, exc.strerror or exc)
    if size > MAX_STATE_BYTES:
        return None, "the state file %s is %d bytes, too large to be ours; starting without it" % (path, size)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        return None, "the state file %s is unreadable or cut (%s); starting without it" % (path, exc)
    if not isinstance(document, dict) or document.get("kind") != kind or not isinstance(document.get("data"), dict):
        return None, "the state file %s is not a %s state file; starting without it" % (path, kind)
    if document.get("version") != version:
        return None, "the state file %s has version %r, this module writes %d; starting without it" % (
            path,
            document.get("version"),
            version,
        )
    data: dict[str, Any] = document["data"]
    saved_at = document.get("saved_at")
    if isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool):
        data.setdefault("_saved_at", float(saved_at))
    return data, None


def save_state(path: str, kind: str, version: int, data: dict[str, Any], now: Optional[float] = None) -> None:
    """Write the state atomically (0600: it can name users, queries and client addresses)."""
    document = {
        "kind": kind,
        "version": version,
        "saved_at": time.time() if now is None else now,
        "data": {key: value for key, value in data.items() if key != "_saved_at"},
    }
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)
        atomic_write(path, text, mode=0o600)
    except (OSError, TypeError, ValueError) as exc:
        raise StateError("cannot write the state file %s: %s" % (path, getattr(exc, "strerror", None) or exc)) from exc
