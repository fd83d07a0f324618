# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Records of a log stream for log_scan, block by block, without a Python loop per line.

A record is a line that starts with a timestamp plus the untimestamped lines that follow it
(a traceback). A scanner is fed text blocks that end at a line boundary; it keeps the last,
possibly unfinished record back for the next block, so a record is seen whole (unless it is
larger than ``MAX_PENDING``, then its lines are carried as the continuation of the record in
progress, which is still counted once).

For each pattern, ``re.finditer`` runs over the whole block (in C); only a match costs Python
work: find the start of its line, walk back to the record's timestamped line, deduplicate by
record (or line) and parse that record's time. A block entirely before the window costs two
timestamp parses; a block entirely inside it needs no time parse at all unless a pattern
keeps times (rates, groups) or the last records.

Everything here is pure: text in, counts out (unit tested with plain strings).
"""

from __future__ import annotations

import re
from array import array
from collections import deque
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import TimeFormat

# A record larger than this is not held back whole: its lines are carried as continuation.
MAX_PENDING = 4 * 1024 * 1024
# The text kept for each of the last records.
MAX_RECORD_TEXT = 8192
NO_GROUP = "(none)"
# How far out of order records may be near the window's edges and still be counted exactly.
JITTER_S = 60.0
BACKWARDS_S = 60.0


class Matcher:
    """One named pattern and what it found (count, times per group, last records)."""

    def __init__(
        self,
        name: str,
        regex: str,
        mode: str = "records",
        last: int = 10,
        group_by: Optional[str] = None,
        keep_times: bool = False,
    ) -> None:
        self.name = name
        self.regex, self.anchored = search_regex(regex)
        self.lines = mode == "lines"
        self.last_n = last
        self.group_by = group_by
        self.keep_times = keep_times or bool(group_by)
        self.count = 0
        self.times: dict[str, array] = {}
        self.group_counts: dict[str, int] = {}
        # (time, path, text, group) of the last records, per file; merged by the caller.
        self.last: list[tuple[float, str, str, Optional[str]]] = []
        self._last_key = -1

    def reset_file(self) -> None:
        """Keys restart with each file."""
        self._last_key = -1


class Scanner:
    """Feeds blocks of one file to the matchers, within ``start < time <= end``."""

    def __init__(self, fmt: TimeFormat, start: float, end: float, matchers: list[Matcher], path: str = "") -> None:
        self.fmt = fmt
        self.match_time = fmt.regex.match
        self.start = start
        self.end = end
        self.matchers = matchers
        self.path = path
        self.pending = ""
        self.base = 0  # characters of the stream before the current body
        self.carry_time: Optional[float] = None  # time of the record in progress at the body's start
        self.carry_key = -1
        self.done = False  # a record past the window's end was reached
        self.first_time: Optional[float] = None
        self.last_time: Optional[float] = None
        self.seen_timestamp = False
        # Blocks whose first record is more than BACKWARDS_S older than the previous block's
        # last: a DST fall-back read in local time, or two sources in one file. Bisection
        # assumes ascending times, so this is reported.
        self.backwards = 0
        self.backwards_at: Optional[float] = None
        self._previous_last: Optional[float] = None
        for matcher in matchers:
            matcher.reset_file()

    # --- blocks -------------------------------------------------------------------------

    def feed(self, block: str, final: bool = False) -> None:
        """One block ending at a line boundary (or the end of the stream when ``final``)."""
        if self.done:
            return
        text = self.pending + block if self.pending else block
        cut = len(text)
        if not final:
            last = self._last_record_start(text, len(text))
            # The last record may go on in the next block: held back whole (the body may be empty).
            if last is not None and len(text) - last <= MAX_PENDING:
                cut = last
        body, self.pending = text[:cut], text[cut:]
        if body:
            self._body(body)
            self.base += len(body)
        if final and self.pending:
            pending, self.pending = self.pending, ""
            self._body(pending)
            self.base += len(pending)

    def _last_record_start(self, text: str, end: int) -> Optional[int]:
        """Offset of the last line of ``text[:end]`` that starts with a timestamp."""
        position = text.rfind("\n", 0, end - 1) + 1 if end else 0
        while True:
            if self.match_time(text, position):
                return position
            if position == 0:
                return None
            position = text.rfind("\n", 0, position - 1) + 1

    def _time_at(self, text: str, position: int) -> Optional[float]:
        match = self.match_time(text, position)
        if match is None:
            return None
        try:
            return self.fmt.parse(match)
        except (ValueError, OverflowError):
            return None

    def _body(self, body: str) -> None:
        first = self.fmt.regex.search(body)
        head_end = first.start() if first is not None else len(body)
        carry_in = self.carry_time is not None and self.start < self.carry_time <= self.end
        if first is None:
            if carry_in and head_end:
                self._match(body, head_end, head_end, straddles=False)
            return
        self.seen_timestamp = True
        last_start = self._last_record_start(body, len(body))
        if last_start is None:  # cannot be: `first` starts a record
            last_start = first.start()
        t_first = self._time_at(body, first.start())
        t_last = self._time_at(body, last_start)
        went_back = None
        if t_first is not None and self._previous_last is not None and t_first < self._previous_last - BACKWARDS_S:
            went_back = t_first  # between the previous block and this one
        elif t_first is not None and t_last is not None and t_last < t_first - BACKWARDS_S:
            went_back = t_last  # inside this block (the place is known to the block)
        if went_back is not None:
            self.backwards += 1
            if self.backwards_at is None:
                self.backwards_at = went_back
        if t_last is not None:
            self._previous_last = t_last
        # Shortcuts by the block's first and last times keep JITTER_S away from the window's
        # edges: records a little out of order (several workers, one file) are checked one by one.
        if (
            t_first is not None
            and t_last is not None
            and t_last <= self.start - JITTER_S
            and not (carry_in and head_end)
        ):
            self._carry(t_last, last_start)
            return
        if t_first is not None and t_first > self.end + JITTER_S:
            if carry_in and head_end:
                self._match(body[:head_end], head_end, head_end, straddles=False)
            self.done = True
            return
        inside = (
            t_first is not None
            and t_last is not None
            and self.start + JITTER_S < t_first
            and t_last <= self.end - JITTER_S
        )
        self._match(body, head_end, len(body), straddles=not inside, carry_in=carry_in)
        self._span(body, head_end, inside, t_first, t_last)
        if t_last is not None:
            self._carry(t_last, last_start)
            if t_last > self.end + JITTER_S:
                self.done = True

    def _carry(self, time: float, position: int) -> None:
        self.carry_time = time
        self.carry_key = self.base + position

    def _span(self, body: str, head_end: int, inside: bool, t_first: Optional[float], t_last: Optional[float]) -> None:
        """First and last record times inside the window (exact, by walking records, only at the edges)."""
        if inside:
            if self.first_time is None:
                self.first_time = t_first
            self.last_time = t_last
            return
        for match in self.fmt.regex.finditer(body, head_end):
            try:
                time = self.fmt.parse(match)
            except (ValueError, OverflowError):
                continue
            if self.start < time <= self.end:
                if self.first_time is None:
                    self.first_time = time
                self.last_time = time

    # --- patterns -----------------------------------------------------------------------

    def _match(self, body: str, head_end: int, limit: int, straddles: bool, carry_in: bool = True) -> None:
        """Count the records (or lines) of ``body[:limit]`` that each matcher's regex matches."""
        match_time = self.match_time
        start, end, base = self.start, self.end, self.base
        padded = None
        for matcher in self.matchers:
            source, stop = body, limit
            if matcher.anchored:
                # "\n" + body: a match starting at its index k is a line starting at body[k].
                if padded is None:
                    padded = "\n" + body
                source, stop = padded, limit + 1
            # Inside the window a count needs no time; the last records get theirs at the end.
            need_time = straddles or matcher.keep_times
            recent: deque[tuple[int, int, Optional[float], Optional[str]]] = deque(maxlen=max(matcher.last_n, 1))
            last_key = matcher._last_key
            last_record = -2
            record_time: Optional[float] = None
            count = 0
            for found, line in line_matches(matcher.regex, source, stop, body, limit):
                if line < head_end:
                    if not carry_in:
                        continue
                    record = -1
                    key = self.carry_key
                else:
                    record = line
                    while not match_time(body, record):
                        record = body.rfind("\n", 0, record - 1) + 1
                    key = base + record
                if matcher.lines:
                    key = base + line
                if key == last_key:
                    continue
                last_key = key
                if need_time:
                    if record != last_record:
                        last_record = record
                        record_time = self.carry_time if record < 0 else self._time_at(body, record)
                    if record_time is None or not start < record_time <= end:
                        continue
                count += 1
                group = None
                if matcher.group_by:
                    group = found.group(matcher.group_by)
                    group = NO_GROUP if group is None else group
                    matcher.group_counts[group] = matcher.group_counts.get(group, 0) + 1
                if matcher.keep_times and record_time is not None:
                    times = matcher.times.get(group or NO_GROUP)
                    if times is None:
                        times = matcher.times[group or NO_GROUP] = array("d")
                    times.append(record_time)
                if matcher.last_n > 0:
                    recent.append((record, line, record_time if need_time else None, group))
            matcher._last_key = last_key
            matcher.count += count
            if matcher.last_n > 0:
                for record, _line, known, group in recent:
                    time = (
                        known if known is not None else (self.carry_time if record < 0 else self._time_at(body, record))
                    )
                    if time is not None:
                        matcher.last.append((time, self.path, self._record_text(body, record, head_end), group))
                if len(matcher.last) > 4 * matcher.last_n:
                    matcher.last.sort(key=lambda item: item[0])
                    del matcher.last[: -matcher.last_n]

    def _record_text(self, body: str, record: int, head_end: int) -> str:
        if record < 0:
            text = "[...]\n" + body[:head_end]
        else:
            line_end = body.find("\n", record)
            following = None if line_end < 0 else self.fmt.regex.search(body, line_end + 1)
            stop = following.start() if following is not None else len(body)
            text = body[record:stop]
        text = text.rstrip("\n")
        if len(text) > MAX_RECORD_TEXT:
            text = text[: MAX_RECORD_TEXT - 5] + "[...]"
        return text


def line_matches(regex: Any, source: str, stop: int, body: str, limit: int) -> Any:
    """``(match, line start in body)`` for the first match starting in each line of ``body[:limit]``.

    Not ``finditer``: a match that runs over a line end (``\\s*`` takes newlines) must not hide
    the next line, and an empty match after the last newline is no line. ``source`` is ``body``,
    or ``"\\n" + body`` for an anchored regex (its match at index k is the line at body[k]).
    """
    position = 0
    search = regex.search
    while True:
        found = search(source, position, stop)
        if found is None:
            return
        line = body.rfind("\n", 0, found.start()) + 1
        if line >= limit:
            return
        yield found, line
        end_of_line = body.find("\n", line)
        if end_of_line < 0:
            return
        # The next line starts at body[end_of_line + 1]: in a padded source that is the newline's index + 1 too.
        position = end_of_line + 1


def split_lines(block: bytes) -> tuple[bytes, bytes]:
    """``(complete lines, rest)``: a block cut after its last newline."""
    cut = block.rfind(b"\n") + 1
    return block[:cut], block[cut:]


def compile_pattern(regex: str) -> Any:
    """The regex as log_scan searches it: per line, so ``^`` and ``$`` are line anchors."""
    return re.compile(regex, re.MULTILINE)


def search_regex(regex: str) -> tuple[Any, bool]:
    """``(compiled, anchored)``: the fastest equivalent search of a pattern over a block of lines.

    Python's re has no fast path for a pattern that starts with ``^`` under MULTILINE: it tries
    the anchor at every character (about 1 s for 70 MB). ``\\n(?:rest)`` starts with a literal,
    so re jumps from newline to newline; the caller searches ``"\\n" + block``. Only a pattern
    whose leading ``^`` applies to all of it (no ``|`` outside groups) is rewritten.
    """
    if regex.startswith("^") and not _top_level_bar(regex[1:]):
        try:
            return re.compile("\\n(?:" + regex[1:] + ")", re.MULTILINE), True
        except re.error:
            pass  # such as a global flag (?i) that must stay at the start: searched as written
    return compile_pattern(regex), False


def _top_level_bar(text: str) -> bool:
    """True when ``text`` has a ``|`` outside every group and character class."""
    depth = 0
    index = 0
    in_class = False
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if text[index + 1 : index + 2] == "]" or text[index + 1 : index + 3] == "^]":
                index += 2 if text[index + 1] == "]" else 3
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


# gunicorn's access_log_format '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s':
# the combined format plus the request time; the user agent may hold anything, so the time is
# taken from the end of the line and the status right after the quoted request line.
GUNICORN_ACCESS = r'\] "(?:[^"\\\n]|\\.)*" (?P<status>\d{3}) (?:\d+|-) "[^\n]*" (?P<time>\d+(?:\.\d+)?)[ \t]*$'
TIME_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
TIME_STEP_MS = 0.01


class AccessScanner(Scanner):
    """Requests, 5xx answers and request times (in ms) of an access log within the window."""

    def __init__(self, fmt: TimeFormat, start: float, end: float, regex: Any, unit_ms: float, path: str = "") -> None:
        super().__init__(fmt, start, end, [], path)
        self.regex = regex
        self.unit_ms = unit_ms
        self.has_time = "time" in regex.groupindex
        self.requests = 0
        self.errors = 0
        self.unparsed = 0
        # Request times in units of TIME_STEP_MS, counted: memory grows with the distinct
        # times (a few thousand), not with the requests; percentiles stay exact to 10 us.
        self.times: dict[int, int] = {}

    def _match(self, body: str, head_end: int, limit: int, straddles: bool, carry_in: bool = True) -> None:
        start, end = self.start, self.end
        parse = self.fmt.parse
        search = self.regex.search
        for line_match in self.fmt.regex.finditer(body, head_end, limit):
            if straddles:
                try:
                    time = parse(line_match)
                except (ValueError, OverflowError):
                    continue
                if not start < time <= end:
                    continue
            line_end = body.find("\n", line_match.end())
            line = body[line_match.start() : line_end if line_end >= 0 else len(body)]
            found = search(line)
            if found is None:
                self.unparsed += 1
                continue
            self.requests += 1
            if found.group("status").startswith("5"):
                self.errors += 1
            if self.has_time and found.group("time") is not None:
                try:
                    step = int(round(float(found.group("time")) * self.unit_ms / TIME_STEP_MS))
                    self.times[step] = self.times.get(step, 0) + 1
                except ValueError:
                    pass
