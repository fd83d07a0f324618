# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Trends over the kept run reports, as pure functions over plain data (first version: interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def series_from_reports(reports: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One series per metric, host and target (interface stub: none yet)."""
    return []
