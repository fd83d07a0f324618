# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""A trend series (``_trends.series_from_reports``) drawn as a small inline SVG chart, pure.

The chart stands alone in an HTML page that works offline: no stylesheet, font or script is
referenced, colours are presentation attributes, every text is XML-escaped, and every number
written is finite (a series with no, one or all-equal points still draws).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Optional
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.stronghold.ops.plugins.module_utils._trends import downsample, number, parse_time

LINE = "#1f5fa8"
FORECAST = "#6b7f99"
THRESHOLD_COLOURS = {"warning": "#c77700", "critical": "#b3261e"}
# Characters XML 1.0 does not allow, even escaped: a target named with them must not break the page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LABEL_HEIGHT = 11
_PAD = 3
_LIMIT = 1e300
# A series handed over with more points than _trends keeps is thinned: the page stays small.
MAX_DRAWN = 500
MIN_WIDTH, MAX_WIDTH = 60, 2000
MIN_HEIGHT, MAX_HEIGHT = 30, 1000


def text(value: Any) -> str:
    """Text content, escaped, without the characters XML cannot hold."""
    return escape(_NOT_XML.sub("", str(value)))


def attr(value: Any) -> str:
    """An attribute value, quoted and escaped."""
    return quoteattr(_NOT_XML.sub("", str(value)))


def _num(value: float) -> str:
    """A coordinate: one decimal, no ``-0.0``."""
    shown = "%.1f" % value
    return "0" if shown in ("-0.0", "0.0") else shown.rstrip("0").rstrip(".")


def format_value(value: float, unit: str) -> str:
    """A value as a person reads it: bytes in binary units, large counts with k/M/G, at most 3 decimals."""
    if unit == "bytes":
        size = abs(value)
        for name in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
            if size < 1024 or name == "EiB":
                shown = ("%d" % size) if name == "B" else ("%.1f" % size if size < 1e4 else "%.2e" % size)
                return "%s%s %s" % ("-" if value < 0 else "", shown, name)
            size /= 1024.0
    size = abs(value)
    suffix = ""
    for name, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e4)):
        if size >= scale:
            size, suffix = size / (scale if name != "k" else 1e3), name
            break
    if size >= 1e4:
        shown = "%.2e" % size  # beyond tera: only an absurd value gets here
    elif size >= 100 or float(size).is_integer():
        shown = "%d" % round(size)
    elif size >= 10:
        shown = "%.1f" % size
    else:
        shown = ("%.2f" % size).rstrip("0").rstrip(".")
    sign = "-" if value < 0 and shown != "0" else ""
    spacer = "" if unit == "%" else " "
    return "%s%s%s%s%s" % (sign, shown, suffix, spacer if unit else "", unit)


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d")


def _clamp(value: float) -> float:
    # Two values near the float limit would make the span itself infinite.
    return max(-_LIMIT, min(_LIMIT, value))


def _usable(pairs: Any) -> list[tuple[float, float]]:
    """(epoch seconds, value) of the pairs with a parseable time and a finite value, oldest first."""
    found: list[tuple[float, float]] = []
    if not isinstance(pairs, list):
        return found
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        when: Optional[datetime] = parse_time(pair[0])
        value = number(pair[1])
        if when is not None and value is not None:
            found.append((when.timestamp(), _clamp(value)))
    found.sort(key=lambda p: p[0])
    return downsample(found, MAX_DRAWN)


def _span(low: float, high: float) -> tuple[float, float]:
    """A range that is never empty: all-equal values get a margin around them."""
    if high - low > 0 and math.isfinite(high - low):
        return low, high
    margin = max(abs(low) * 0.1, 1.0)
    return low - margin, high + margin


def _size(value: Any, default: int, low: int, high: int) -> int:
    given = number(value)
    return int(min(max(default if given is None else given, low), high))


def render_chart_svg(series: dict[str, Any], width: int = 240, height: int = 64) -> str:
    """A small inline ``<svg class="trend" role="img">`` of one series: its points as a line, the
    forecast dashed, the warning and critical thresholds as thin lines, the last value written at
    the top right, and a ``<title>`` a screen reader (or a hover) shows."""
    width = _size(width, 240, MIN_WIDTH, MAX_WIDTH)
    height = _size(height, 64, MIN_HEIGHT, MAX_HEIGHT)
    unit = str(series.get("unit") or "")
    points = _usable(series.get("points"))
    forecast = _usable(series.get("forecast"))
    thresholds = {}
    raw_thresholds = series.get("thresholds")
    if isinstance(raw_thresholds, dict):
        for name in ("warning", "critical"):
            value = number(raw_thresholds.get(name))
            if value is not None:
                thresholds[name] = _clamp(value)
    worsening = series.get("worsening") is True
    title = str(series.get("title") or series.get("key") or "trend")
    if points:
        title += ": last %s" % format_value(points[-1][1], unit)
    else:
        title += ": no data"
    if worsening:
        title += ", getting worse"
    if len(points) > 1:
        # What the drawing cannot say without axes: the span of time and of values.
        title += " (%d points, %s to %s, lowest %s, highest %s)" % (
            len(points),
            _day(points[0][0]),
            _day(points[-1][0]),
            format_value(min(p[1] for p in points), unit),
            format_value(max(p[1] for p in points), unit),
        )
    classes = "trend trend-worsening" if worsening else "trend"
    parts = [
        '<svg class="%s" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d"'
        ' data-metric=%s data-points="%d">'
        % (classes, width, height, width, height, attr(series.get("metric", "")), len(points)),
        "<title>%s</title>" % text(title),
    ]
    if not points:
        parts.append(
            '<text x="%s" y="%s" font-size="10" font-family="sans-serif" fill="#666" text-anchor="middle">no data</text>'
            % (_num(width / 2.0), _num(height / 2.0 + 3))
        )
        parts.append("</svg>")
        return "".join(parts)
    times = [p[0] for p in points + forecast]
    values = [p[1] for p in points + forecast] + list(thresholds.values())
    t_low, t_high = min(times), max(times)
    v_low, v_high = _span(min(values), max(values))
    left, right = float(_PAD), float(width - _PAD)
    top, bottom = float(_LABEL_HEIGHT + _PAD), float(height - _PAD)

    def x_of(when: float) -> float:
        if t_high <= t_low:
            return right  # one moment: the points stand at the newest end
        return left + (when - t_low) / (t_high - t_low) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - v_low) / (v_high - v_low) * (bottom - top)

    for name, value in thresholds.items():
        y = _num(y_of(value))
        parts.append(
            '<line class="trend-threshold trend-%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"'
            ' stroke-dasharray="2 2"><title>%s %s</title></line>'
            % (name, _num(left), y, _num(right), y, THRESHOLD_COLOURS[name], name, text(format_value(value, unit)))
        )
    if len(forecast) >= 2:
        parts.append(
            '<polyline class="trend-forecast" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"'
            ' points="%s"/>' % (FORECAST, " ".join("%s,%s" % (_num(x_of(t)), _num(y_of(v))) for t, v in forecast))
        )
    if len(points) >= 2:
        parts.append(
            '<polyline class="trend-line" fill="none" stroke="%s" stroke-width="1.5" stroke-linejoin="round"'
            ' points="%s"/>' % (LINE, " ".join("%s,%s" % (_num(x_of(t)), _num(y_of(v))) for t, v in points))
        )
    last_t, last_v = points[-1]
    colour = THRESHOLD_COLOURS["critical"] if worsening else LINE
    parts.append(
        '<circle class="trend-last-point" cx="%s" cy="%s" r="2" fill="%s"/>'
        % (_num(x_of(last_t)), _num(y_of(last_v)), colour)
    )
    parts.append(
        '<text class="trend-last" x="%s" y="%d" font-size="10" font-family="sans-serif" fill="%s"'
        ' text-anchor="end">%s</text>' % (_num(right), _LABEL_HEIGHT - 1, colour, text(format_value(last_v, unit)))
    )
    parts.append("</svg>")
    return "".join(parts)
