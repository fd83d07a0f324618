# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Files written so that a reader never sees half of them."""

from __future__ import annotations

import os
import tempfile
from typing import Any


def atomic_write(path: str, text: str, mode: int = 0o640) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it over
    ``path``: a run killed midway leaves the old file or the new one, never a torn one."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_documents(directory: str, plan: dict[str, Any]) -> None:
    """Write a report's documents and their latest copies atomically, then remove the older runs'
    files that retention names (run_report and fleet_report: ``plan`` as _report.plan_files makes
    its ``paths`` and ``removed``, with ``documents`` by kind)."""
    os.makedirs(directory, mode=0o750, exist_ok=True)
    for kind, text in plan["documents"].items():
        atomic_write(plan["paths"][kind], text)
        atomic_write(plan["paths"]["latest_" + kind], text)
    for path in plan["removed"]:
        os.unlink(path)
