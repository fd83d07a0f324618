# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""A trend series drawn as a small inline SVG chart (first version: interface)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape


def render_chart_svg(series: dict[str, Any], width: int = 240, height: int = 64) -> str:
    """A small inline SVG of ``series`` (interface stub: the title only)."""
    title = escape(str(series.get("title", "")))
    return (
        '<svg class="trend" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d"><title>%s</title></svg>'
        % (width, height, width, height, title)
    )
