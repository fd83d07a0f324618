# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Timestamps of log records for log_scan: which line starts a record, and when it was written.

A ``TimeFormat`` holds one compiled regular expression matched at the start of a line (with
``re.MULTILINE`` it also finds record starts inside a block) and a parser from its match to
epoch seconds. Built-in formats:

* ``iso8601`` / ``python``: ``2026-12-05T09:21:10.177Z``, ``2026-12-05 09:21:10+01:00`` and the
  Django/Python logging default ``2026-12-05 09:21:10,177`` (comma before the milliseconds).
* ``gunicorn``: the first ``[05/Dec/2026:09:21:10 +0000]`` of the line (access logs).
* any other string: a ``strptime`` format, turned into a regular expression directive by
  directive, so that only the text it can match is handed to ``strptime``.

Times without an offset are read in the given IANA zone; each minute's epoch is cached, so a
parse costs a dict lookup and some arithmetic, not a datetime construction per line.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9 on a target
    ZoneInfo = None  # type: ignore[assignment,misc]
    ZoneInfoNotFoundError = KeyError  # type: ignore[assignment,misc]

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError

BUILT_IN = ("auto", "iso8601", "python", "gunicorn")

_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}

_ISO = (
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r"[ ]?(Z|[+-]\d\d(?::?\d\d)?)?(?![\d:])"
)
_GUNICORN = r"^[^\n\[]*\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]"

# strptime directives and the text each can match (the rest of a format is literal).
_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d\d",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "f": r"\d{1,6}",
    "j": r"\d{1,3}",
    "b": r"[A-Za-z]{3}",
    "h": r"[A-Za-z]{3}",
    "B": r"[A-Za-z]+",
    "a": r"[A-Za-z]{3}",
    "A": r"[A-Za-z]+",
    "p": r"[AaPp][Mm]",
    "z": r"(?:Z|[+-]\d\d:?\d\d)",
    "Z": r"[A-Za-z]{1,5}",
    "%": "%",
}


class TimeFormatError(FindingError):
    """A timestamp format, time zone or time value given by the user is not usable."""


def zone(name: str) -> Any:
    """The tzinfo for an IANA name; UTC without zoneinfo."""
    text = (name or "").strip()
    if not text:
        raise TimeFormatError("timezone cannot be empty")
    if text.upper() in ("UTC", "Z", "ETC/UTC"):
        return timezone.utc
    if ZoneInfo is None:  # pragma: no cover
        raise TimeFormatError("timezone %r needs Python 3.9 (zoneinfo) on the target; use UTC" % text)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise TimeFormatError("timezone: unknown time zone %r (use an IANA name such as Europe/Berlin)" % text) from exc


class TimeFormat:
    """One timestamp format: ``regex`` matches a record's first line, ``parse`` gives epoch seconds."""

    def __init__(self, name: str, tz: Any, year: int = 1970) -> None:
        self.name = name
        self.tz = tz
        self.year = year
        self._minutes: dict[Any, float] = {}
        self.parse: Callable[[Any], float]
        if name in ("iso8601", "python"):
            self.regex = re.compile(_ISO, re.MULTILINE)
            self.parse = self._parse_iso
        elif name == "gunicorn":
            self.regex = re.compile(_GUNICORN, re.MULTILINE)
            self.parse = self._parse_gunicorn
        elif name == "auto":
            raise TimeFormatError("auto is resolved per file (detect)")
        else:
            self.regex = re.compile("^" + strptime_regex(name), re.MULTILINE)
            self._year_given = any(d in name for d in ("%Y", "%y"))
            self._offset_given = "%z" in name
            self.parse = self._parse_strptime

    def __repr__(self) -> str:
        return "TimeFormat(%r)" % self.name

    def _minute(self, key: tuple[int, ...], offset: Optional[str]) -> float:
        """Epoch of a minute (year, month, day, hour, minute) with an offset text or the zone."""
        cached = self._minutes.get((key, offset))
        if cached is not None:
            return cached
        year, month, day, hour, minute = key
        seconds: float
        if offset:
            seconds = calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0)) - _offset_seconds(offset)
        elif self.tz is timezone.utc:
            seconds = calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))
        else:
            seconds = datetime(year, month, day, hour, minute, tzinfo=self.tz).timestamp()
        if len(self._minutes) > 100000:
            self._minutes.clear()
        self._minutes[(key, offset)] = float(seconds)
        return float(seconds)

    def _parse_iso(self, match: Any) -> float:
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        base = self._minute((int(year), int(month), int(day), int(hour), int(minute)), offset)
        value = base + int(second)
        if fraction:
            value += int(fraction) / 10.0 ** len(fraction)
        return value

    def _parse_gunicorn(self, match: Any) -> float:
        day, month_name, year, hour, minute, second, offset = match.groups()
        month = _MONTHS.get(month_name)
        if month is None:
            raise ValueError("unknown month %r" % month_name)
        return self._minute((int(year), month, int(day), int(hour), int(minute)), offset) + int(second)

    def _parse_strptime(self, match: Any) -> float:
        text = match.group(0)
        moment = datetime.strptime(text, self.name)
        if not self._year_given:
            moment = moment.replace(year=self.year)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment.timestamp()

    def line_time(self, line: str) -> Optional[float]:
        """Epoch seconds of a line that starts a record, None for a continuation line."""
        match = self.regex.match(line)
        if match is None:
            return None
        try:
            return self.parse(match)
        except (ValueError, OverflowError):
            return None


def _offset_seconds(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    return sign * (hours * 3600 + minutes * 60)


def strptime_regex(fmt: str) -> str:
    """A regular expression for the text a strptime format matches; TimeFormatError on odd formats."""
    if not fmt or not fmt.strip():
        raise TimeFormatError("timestamp_format cannot be empty")
    if len(fmt) > 200:
        raise TimeFormatError("timestamp_format is too long (%d characters, at most 200)" % len(fmt))
    parts = []
    index = 0
    directives = set()
    while index < len(fmt):
        char = fmt[index]
        if char == "%":
            if index + 1 >= len(fmt):
                raise TimeFormatError("timestamp_format %r ends with a lone %%" % fmt)
            directive = fmt[index + 1]
            if directive not in _DIRECTIVES:
                raise TimeFormatError(
                    "timestamp_format %r: directive %%%s is not supported (use %s, or iso8601, python, gunicorn)"
                    % (fmt, directive, " ".join("%" + d for d in _DIRECTIVES if d != "%"))
                )
            parts.append(_DIRECTIVES[directive])
            directives.add(directive)
            index += 2
        elif char.isspace():
            parts.append(r"\s+")
            while index < len(fmt) and fmt[index].isspace():
                index += 1
        else:
            parts.append(re.escape(char))
            index += 1
    if not directives & {"H", "I"} or not directives & {"d", "j"}:
        raise TimeFormatError(
            "timestamp_format %r must give at least the day (%%d or %%j) and the hour (%%H or %%I)" % fmt
        )
    if fmt.lstrip() != fmt:
        raise TimeFormatError("timestamp_format %r: the timestamp starts the line, so no leading space" % fmt)
    return "".join(parts)


def time_format(name: str, tz: Any, year: int) -> TimeFormat:
    """A TimeFormat checked against a real time (strptime formats round-trip), or TimeFormatError."""
    text = name if name in BUILT_IN else name
    result = TimeFormat(text, tz, year)
    if text not in BUILT_IN:
        sample = datetime(year, 12, 5, 9, 21, 10, 177000, tzinfo=timezone.utc).strftime(text)
        match = result.regex.match(sample)
        try:
            if match is None:
                raise ValueError("the format does not match its own output %r" % sample)
            result.parse(match)
        except (ValueError, OverflowError) as exc:
            raise TimeFormatError("timestamp_format %r cannot be used: %s" % (text, exc)) from exc
    return result


def detect(sample: str, tz: Any, year: int) -> Optional[TimeFormat]:
    """The built-in format of the first timestamped line of ``sample``, None when none is recognised."""
    candidates = [TimeFormat("iso8601", tz, year), TimeFormat("gunicorn", tz, year)]
    best = None
    best_at = len(sample) + 1
    for candidate in candidates:
        match = candidate.regex.search(sample)
        if match is not None and match.start() < best_at:
            best, best_at = candidate, match.start()
    return best


def parse_instant(text: str, tz: Any) -> float:
    """Epoch seconds of an ISO 8601 time given as an option (until); TimeFormatError otherwise."""
    value = (text or "").strip()
    if not value:
        raise TimeFormatError("until cannot be empty")
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value.replace(",", "."))
    except ValueError as exc:
        raise TimeFormatError(
            "until: cannot read %r as an ISO 8601 time (example: 2026-12-05T09:00:00Z)" % text
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError) as exc:
        raise TimeFormatError("until: %r is out of range" % text) from exc


def iso(epoch: Optional[float]) -> Optional[str]:
    """UTC ISO 8601 text of epoch seconds (None stays None)."""
    if epoch is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=epoch)).isoformat()
