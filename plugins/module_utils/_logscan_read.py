# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The files of log_scan: which to read, where to start, and reading them in blocks.

* Rotated siblings are found by name (``.1``, ``-1``, dates, optional ``.gz``); gzip is
  recognised by its magic bytes, not by its name.
* Every file is opened before any is read and then followed by its descriptor: logrotate
  renaming a file meanwhile changes nothing we read. Files that are the same inode are read
  once; a rotated plain copy with the same first line as another file (copytruncate caught
  between copy and truncate) is read once, the larger of the two.
* A file whose mtime is before the window start is not opened: its last line cannot be later.
* A plain file is bisected on its timestamps (``find_start``); a gzip file is decompressed from
  the start and the scanner stops at the first record past the window's end.
* A plain file is read up to its size at opening; if it shrinks below the read position
  (truncated), reading stops there and the file says so.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from typing import Any, BinaryIO, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._logscan_records import (
    JITTER_S,
    AccessScanner,
    Matcher,
    Scanner,
    split_lines,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import TimeFormat, detect

BLOCK = 1024 * 1024
PROBE = 64 * 1024
# A bisection probe looks this far for a timestamped line before giving up on its half.
MAX_PROBE = 1024 * 1024
# How many first bytes of a file decide its timestamp format (timestamp_format=auto).
DETECT_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
GZIP_READ = 32 * 1024

_ROTATED = re.compile(
    r"^[.-](?:\d{1,4}|\d{4}-?\d\d-?\d\d(?:[_T.-]?\d\d(?:[-:]?\d\d(?:[-:]?\d\d)?)?)?|\d{10})(?:\.gz)?$"
)


class CountingFile:
    """A binary file that counts the bytes read from it (bisection probes included)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.bytes_read = 0
        # gzip asks for 128 KiB of compressed input at a time; capped, it stops closer to the
        # window's end (a short read is fine for a raw stream).
        self.cap: Optional[int] = None

    def read(self, size: int = -1) -> bytes:
        if self.cap is not None and (size < 0 or size > self.cap):
            size = self.cap
        data = self.handle.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def fileno(self) -> int:
        return self.handle.fileno()

    def close(self) -> None:
        self.handle.close()


def siblings(path: str) -> list[str]:
    """Rotated siblings of ``path`` in its directory, unordered; none when it cannot be listed."""
    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(base) and _ROTATED.match(name[len(base) :]):
            found.append(os.path.join(directory, name))
    return found


# --- bisection -----------------------------------------------------------------------------


def first_time_after(handle: Any, position: int, limit: int, fmt: TimeFormat) -> Optional[tuple[int, float]]:
    """``(offset, time)`` of the first timestamped line starting after ``position`` (or at 0), before ``limit``.

    The probe starts one byte early so that a line starting exactly at ``position`` counts,
    skips the rest of the line it lands in, and steps over continuation lines (a traceback).
    """
    offset = max(position - 1, 0)
    handle.seek(offset)
    wanted = min(PROBE, max(limit - offset, 0))
    data = b""
    while True:
        chunk = handle.read(wanted) if wanted > 0 else b""
        data += chunk
        text = data.decode("latin-1")  # one character per byte: offsets stay byte offsets
        begin = 0 if position == 0 else text.find("\n") + 1
        if position == 0 or begin > 0:
            for match in fmt.regex.finditer(text, begin):
                if offset + match.start() >= limit:
                    return None
                # A match cut by the end of the probe may be incomplete: read on.
                if match.end() == len(text) and chunk:
                    break
                try:
                    return offset + match.start(), fmt.parse(match)
                except (ValueError, OverflowError):
                    continue
        if not chunk or len(data) >= MAX_PROBE or offset + len(data) >= limit:
            return None
        wanted = min(PROBE, limit - offset - len(data))


def find_start(handle: Any, size: int, fmt: TimeFormat, start: float) -> int:
    """A line offset at or before the first record later than ``start`` (0 when unsure).

    Raising the low end only on a record seen at or before ``start`` keeps this safe: an
    unreadable probe lowers the high end, which only makes the forward read longer.
    """
    low, high = 0, size
    while high - low > PROBE:
        middle = (low + high) // 2
        found = first_time_after(handle, middle, high, fmt)
        if found is not None and found[1] <= start:
            low = found[0]
        else:
            high = middle
    return low


# --- files ---------------------------------------------------------------------------------


class LogFile:
    """One file to read: its report entry and, once opened, its descriptor."""

    def __init__(self, path: str, role: str) -> None:
        self.path = path
        self.role = role
        self.handle: Optional[CountingFile] = None
        self.compressed = False
        self.size = 0
        self.mtime = 0.0
        self.inode: Optional[tuple[int, int]] = None
        self.first_line = b""
        self.head = b""  # the first bytes of a plain file, for timestamp_format=auto
        self.skipped: Optional[str] = None
        self.first_time: Optional[float] = None
        self.last_time: Optional[float] = None
        self.timestamp_seen = False
        self.backwards = 0
        self.backwards_at: Optional[float] = None
        self.format_name: Optional[str] = None
        self.bytes_read = 0

    def report(self) -> dict[str, Any]:
        from ansible_collections.stronghold.ops.plugins.module_utils._logscan_time import iso

        return {
            "path": self.path,
            "role": self.role,
            "compressed": self.compressed,
            "size": self.size,
            "bytes_read": self.handle.bytes_read if self.handle is not None else self.bytes_read,
            "first_timestamp": iso(self.first_time),
            "last_timestamp": iso(self.last_time),
            "skipped_reason": self.skipped,
            "time_went_back": iso(self.backwards_at),
        }

    def open(self, start: float) -> None:
        """stat, skip when modified before ``start``, else open and fingerprint (the first line)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self.skipped = "missing"
            return
        except OSError as exc:
            self.skipped = "unreadable: %s" % (exc.strerror or exc)
            return
        self.size, self.mtime = info.st_size, info.st_mtime
        if not os.path.isfile(self.path):
            self.skipped = "unreadable: not a regular file"
            return
        if info.st_mtime < start:
            self.skipped = "modified before the window"
            return
        try:
            raw = open(self.path, "rb")
        except OSError as exc:
            self.skipped = "unreadable: %s" % (exc.strerror or exc)
            return
        info = os.fstat(raw.fileno())  # the inode we really hold (it may have been renamed meanwhile)
        self.size, self.mtime, self.inode = info.st_size, info.st_mtime, (info.st_dev, info.st_ino)
        self.handle = CountingFile(raw)
        head = self.handle.read(min(self.size, 4096))
        self.compressed = head[:2] == GZIP_MAGIC
        if self.compressed:
            self.handle.cap = GZIP_READ
        else:
            head += self.handle.read(max(min(self.size, DETECT_BYTES) - len(head), 0))
            self.head = head
            self.first_line = head.split(b"\n", 1)[0] if b"\n" in head else b""

    def opened(self) -> CountingFile:
        """The descriptor of a file that ``open`` opened (a programming error otherwise)."""
        if self.handle is None:
            raise ValueError("%s is not open" % self.path)
        return self.handle

    def close(self) -> None:
        if self.handle is not None:
            self.bytes_read = self.handle.bytes_read
            self.handle.close()


def _drop(item: LogFile, reason: str) -> None:
    item.skipped = reason
    item.close()
    item.handle = None


def drop_same_inode(files: list[LogFile]) -> None:
    """A file reached under two names (a path listed twice, a rename between listing and opening) is read once."""
    seen: dict[tuple[int, int], LogFile] = {}
    for item in files:
        if item.handle is None or item.inode is None:
            continue
        other = seen.get(item.inode)
        if other is not None:
            _drop(item, "same file as %s" % other.path)
        else:
            seen[item.inode] = item


def drop_copies(family: list[LogFile]) -> None:
    """Within one log's family, two plain files with the same first line are one content, read once.

    copytruncate copies the live file to ``.1`` and then truncates it: a scan between the two
    steps sees the same records twice. The larger file holds them all (the live one, when
    records came after the copy); on a tie the rotated copy is kept, since the live one is
    about to be truncated.
    """
    firsts: dict[bytes, LogFile] = {}
    for item in family:
        if item.handle is None or not item.first_line:
            continue
        twin = firsts.get(item.first_line)
        if twin is None:
            firsts[item.first_line] = item
            continue
        keep, drop = (item, twin) if item.size > twin.size else (twin, item)
        _drop(drop, "same content as %s (a copy made by copytruncate)" % keep.path)
        firsts[item.first_line] = keep


def blocks(item: LogFile, offset: int) -> Any:
    """Text blocks of a plain file from ``offset`` (a line start) to its size at opening; stops if truncated."""
    handle = item.opened()
    handle.seek(offset)
    position = offset
    rest = b""
    while position < item.size:
        data = handle.read(min(BLOCK, item.size - position))
        position += len(data)
        if os.fstat(handle.fileno()).st_size < position or not data:
            # Truncated (copytruncate) while read: this block may already be the new content,
            # so it is dropped; what is past the new end is not ours any more.
            item.skipped = "truncated during the scan"
            break
        lines, rest = split_lines(rest + data)
        if lines:
            yield lines.decode("utf-8", "replace"), False
    yield rest.decode("utf-8", "replace"), True


def gzip_blocks(item: LogFile) -> Any:
    """Text blocks of a gzip file from its start (the consumer stops at the window's end)."""
    handle = item.opened()
    handle.seek(0)
    rest = b""
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while True:
                data = stream.read(BLOCK)
                if not data:
                    break
                lines, rest = split_lines(rest + data)
                if lines:
                    yield lines.decode("utf-8", "replace"), False
    except (OSError, EOFError, zlib.error) as exc:
        # A cut or damaged archive: what was read counts, and the file says why it ended.
        item.skipped = "damaged gzip: %s" % exc
    yield rest.decode("utf-8", "replace"), True


def choose_format(item: LogFile, wanted: Any, tz: Any, year: int) -> Optional[TimeFormat]:
    """The file's TimeFormat: the given one, or the one detected in its first bytes (auto)."""
    if wanted != "auto":
        return wanted
    handle = item.opened()
    if item.compressed:
        handle.seek(0)
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                sample = stream.read(DETECT_BYTES)
        except (OSError, EOFError, zlib.error):
            sample = b""
    else:
        sample = item.head
    return detect(sample.decode("utf-8", "replace"), tz, year)


def read_file(item: LogFile, fmt: TimeFormat, scanner: Scanner, start: float) -> None:
    """Feed the part of one opened file that the window needs to ``scanner``."""
    if item.compressed:
        source = gzip_blocks(item)
    else:
        # A small file is read whole: probes would cost more than they save.
        # JITTER_S earlier: records a little out of order before the edge are still read.
        offset = find_start(item.opened(), item.size, fmt, start - JITTER_S) if item.size > BLOCK else 0
        source = blocks(item, offset)
    for text, final in source:
        scanner.feed(text, final)
        if scanner.done:
            break
    if hasattr(source, "close"):
        source.close()
    item.first_time, item.last_time = scanner.first_time, scanner.last_time
    item.timestamp_seen = scanner.seen_timestamp
    item.backwards, item.backwards_at = scanner.backwards, scanner.backwards_at
    if item.role != "rotated" and item.skipped is None:
        try:
            now = os.stat(item.path)
            if item.inode is not None and (now.st_dev, now.st_ino) != item.inode:
                item.skipped = "rotated during the scan (read whole, as it was when opened)"
        except OSError:
            item.skipped = "rotated during the scan (read whole, as it was when opened)"


def file_set(paths: list[str], rotated: bool, role: str) -> list[list[LogFile]]:
    """Per path, its family: the rotated siblings (oldest first by mtime), then the path itself."""
    families: list[list[LogFile]] = []
    for path in paths:
        rotated_files: list[tuple[float, str]] = []
        if rotated:
            for name in siblings(path):
                try:
                    rotated_files.append((os.stat(name).st_mtime, name))
                except OSError:
                    continue
        family = [LogFile(name, "rotated" if role == "live" else role) for dummy, name in sorted(rotated_files)]
        family.append(LogFile(path, role))
        families.append(family)
    return families


def scan(settings: dict[str, Any], window: dict[str, Any]) -> dict[str, Any]:
    """Observe: read every file the window needs; counts per matcher, access metrics, file reports."""
    start, end = window["start"], window["end"]
    tz, year = settings["tz"], settings["year"]
    matchers = [
        Matcher(p["name"], p["regex"], p["mode"], p["last"], p["group_by"], keep_times=p["rate"] is not None)
        for p in settings["patterns"]
    ]
    access = settings["access"]
    families = file_set(settings["paths"], settings["rotated"], "live")
    if access:
        families += file_set([access["path"]], access["rotated"], "access")
    everything = [item for family in families for item in family]
    # Every file is opened before any is read: a rename by logrotate meanwhile cannot make us
    # read one content twice (under its old and new names) or skip it.
    for item in everything:
        item.open(start)
    drop_same_inode(everything)
    for family in families:
        drop_copies(family)
    access_scanners: list[AccessScanner] = []
    try:
        for item in everything:
            if item.handle is None:
                continue
            wanted = access["fmt"] if item.role == "access" else settings["fmt"]
            fmt = choose_format(item, wanted, tz, year)
            if fmt is None:
                item.skipped = "no timestamp recognised in its first %d KiB" % (DETECT_BYTES // 1024)
                continue
            item.format_name = fmt.name
            scanner: Scanner
            if item.role == "access":
                scanner = AccessScanner(fmt, start, end, access["compiled"], access["unit_ms"], item.path)
                access_scanners.append(scanner)
            else:
                scanner = Scanner(fmt, start, end, matchers, item.path)
            read_file(item, fmt, scanner, start)
    finally:
        for item in everything:
            item.close()
    return {
        "matchers": matchers,
        "files": everything,
        "access": access_scanners,
    }
