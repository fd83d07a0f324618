# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Backup files on disk: names with a time in them, and what their bytes say.

Shared by backup_verify (which reads backups) and pg_backup / pg_restore (which write and
choose them). Nothing here connects to a database; the custom-format checks run pg_restore
on the file only.

* ``compile_pattern`` turns a strftime-like file name pattern into a matcher and formatter.
* ``list_backups`` lists the backups of a directory, oldest first, with the time taken from
  the name (never from mtime); ``backup_files`` describes explicit files the same way
  (``backup_entry``).
* ``verify_stream`` reads a file once, with bounded memory, and checks everything the bytes
  can tell: gzip header, CRC and length of every member, the ``.sha256`` sidecar, the
  completion marker of a plain dump where pg_dump writes it (``DumpEndScanner``, also used
  by pg_backup on its own output); custom-format dumps also go through ``pg_restore``.
* ``verify_header`` is the cheap level: magic bytes, the start of the dump, the gzip trailer.
* ``find_gaps`` and ``size_vs_median`` are the pure parts of the retention and size checks.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
import queue
import re
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import threading
import time
import types
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, Union

# Python 3.9 is the oldest the collection's modules run on (zoneinfo, dict[...] at run time).
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ansible_collections.stronghold.ops.plugins.module_utils._findings import median

inflate_lib: types.ModuleType
try:
    # ISA-L's inflate is about 1.7x faster than zlib's (measured in shared/anchors/cert_backup.md)
    # and has the same API; optional, zlib otherwise.
    from isal import isal_zlib as inflate_lib

    INFLATE_BACKEND = "isal"
except ImportError:
    inflate_lib = zlib
    INFLATE_BACKEND = "zlib"

# A check of a file: {name, status, detail, duration}.
Check = dict[str, Any]

DEFAULT_PATTERN = "backup_%Y%m%d_%H%M%S.sql.gz"
# The runbook's names, per dump format: the one default of pg_backup, backup_verify and pg_restore.
DEFAULT_PATTERNS = {"plain": DEFAULT_PATTERN, "custom": "backup_%Y%m%d_%H%M%S.dump"}


def default_pattern(fmt: str = "plain") -> str:
    """The file name pattern used when the ``pattern`` option is unset, for dump format ``fmt``."""
    try:
        return DEFAULT_PATTERNS[fmt]
    except KeyError:
        raise ValueError("unknown dump format %r: use %s" % (fmt, " or ".join(sorted(DEFAULT_PATTERNS)))) from None


# pg_dump ends a plain dump with this line; since the CVE-2025-8714 fix (15.14, 16.10, 17.6)
# a "\unrestrict KEY" line follows it. Where it counts is DumpEndScanner's business.
DUMP_COMPLETE_MARKER = b"-- PostgreSQL database dump complete"
DUMP_HEADER = b"-- PostgreSQL database dump"
GZIP_MAGIC = b"\x1f\x8b"
CUSTOM_MAGIC = b"PGDMP"

READ_SIZE = 256 * 1024  # bytes read from the file at a time (larger is no faster, see bench)
INFLATE_LIMIT = 256 * 1024  # most bytes one decompress() call may return
HEAD_WINDOW = 64 * 1024  # decompressed bytes kept to recognise the dump's header
HASH_QUEUE = 2  # chunks waiting for the hashing thread (bounds memory)

_DIRECTIVES = {
    # directive: (group name, regular expression, strftime width)
    "Y": ("year", r"\d{4}", 4),
    "m": ("month", r"\d{2}", 2),
    "d": ("day", r"\d{2}", 2),
    "H": ("hour", r"\d{2}", 2),
    "M": ("minute", r"\d{2}", 2),
    "S": ("second", r"\d{2}", 2),
}
_REQUIRED = ("year", "month", "day")


class BackupPattern:
    """A compiled file name pattern: ``match(name)`` gives the naive time, ``format(dt)`` the name."""

    def __init__(self, pattern: str, tokens: list[tuple[str, str]], regex: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._tokens = tokens
        self._regex = regex

    def match(self, filename: str) -> Optional[datetime.datetime]:
        """The naive datetime written in ``filename``, or None when it does not match (or is no date)."""
        found = self._regex.match(filename)
        if not found:
            return None
        values = dict((key, int(value)) for key, value in found.groupdict().items())
        try:
            return datetime.datetime(
                values["year"],
                values["month"],
                values["day"],
                values.get("hour", 0),
                values.get("minute", 0),
                values.get("second", 0),
            )
        except ValueError:
            return None

    def format(self, dt: datetime.datetime) -> str:
        """The file name of a backup taken at ``dt`` (its own wall-clock fields, no conversion)."""
        parts = []
        for kind, value in self._tokens:
            if kind == "text":
                parts.append(value)
            else:
                parts.append("%0*d" % (_DIRECTIVES[value][2], getattr(dt, _DIRECTIVES[value][0])))
        return "".join(parts)

    def glob(self) -> str:
        """A shell glob that every matching name also matches (for messages and find)."""
        return "".join(value if kind == "text" else "?" * _DIRECTIVES[value][2] for kind, value in self._tokens)

    def __repr__(self) -> str:
        return "BackupPattern(%r)" % self.pattern


# A pattern option as the listing functions take it: compiled, the text, or None for the default.
PatternArg = Union[BackupPattern, str, None]


def compile_pattern(pattern: Optional[str] = None) -> BackupPattern:
    """Compile a strftime-like pattern such as ``backup_%Y%m%d_%H%M%S.sql.gz``.

    Directives: ``%Y %m %d %H %M %S`` and ``%%``; everything else is literal text. A pattern
    needs at least ``%Y``, ``%m`` and ``%d`` (the time of a backup comes from its name), each
    at most once, and must be a file name (no ``/``). Raises ValueError saying what is wrong.
    """
    if pattern is None:
        pattern = DEFAULT_PATTERN
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("the backup file name pattern must be a non-empty string, got %r" % (pattern,))
    if "/" in pattern or "\0" in pattern:
        raise ValueError("the backup file name pattern %r must be a file name, without a directory" % pattern)
    tokens = []
    text = []
    seen = set()
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char != "%":
            text.append(char)
            index += 1
            continue
        if index + 1 >= len(pattern):
            raise ValueError("the backup file name pattern %r ends with a lone %%" % pattern)
        directive = pattern[index + 1]
        index += 2
        if directive == "%":
            text.append("%")
            continue
        if directive not in _DIRECTIVES:
            raise ValueError(
                "unknown directive %%%s in the backup file name pattern %r (supported: %s and %%%%)"
                % (directive, pattern, " ".join("%" + d for d in _DIRECTIVES))
            )
        if directive in seen:
            raise ValueError("directive %%%s appears twice in the backup file name pattern %r" % (directive, pattern))
        seen.add(directive)
        if text:
            tokens.append(("text", "".join(text)))
            text = []
        tokens.append(("field", directive))
    if text:
        tokens.append(("text", "".join(text)))
    names = set(_DIRECTIVES[d][0] for d in seen)
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ValueError(
            "the backup file name pattern %r has no time fields for %s: it needs at least %%Y, %%m and %%d "
            "(and usually %%H%%M%%S), since the time of a backup is read from its name" % (pattern, ", ".join(missing))
        )
    regex = "".join(
        re.escape(value) if kind == "text" else "(?P<%s>%s)" % (_DIRECTIVES[value][0], _DIRECTIVES[value][1])
        for kind, value in tokens
    )
    return BackupPattern(pattern, tokens, re.compile(regex + r"\Z"))


def resolve_timezone(tz: Optional[str]) -> Optional[datetime.tzinfo]:
    """A tzinfo from ``UTC``, ``local`` (the host's zone) or an IANA name such as ``Europe/Paris``."""
    if tz is None or tz in ("UTC", "utc", "Z"):
        return datetime.timezone.utc
    if tz == "local":
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone %r: %s" % (tz, exc)) from exc


def pattern_or_default(pattern: Optional[str], fmt: str = "plain") -> str:
    """The ``pattern`` option, or when unset (None) the runbook's name for dump format ``fmt`` (``auto``: plain)."""
    if pattern is not None:
        return pattern
    return default_pattern("custom" if fmt == "custom" else "plain")


def read_backup_files(params: Mapping[str, Any], fmt: str, problems: list[str]) -> Optional[BackupPattern]:
    """The compiled ``pattern`` option of the shared backup file options (``pattern_or_default``), or None.

    What is wrong with ``pattern`` or ``timezone`` is appended to ``problems``, so that a module
    reports every bad option at once.
    """
    pattern = None
    try:
        pattern = compile_pattern(pattern_or_default(params.get("pattern"), fmt))
    except ValueError as exc:
        problems.append(str(exc))
    try:
        resolve_timezone(params.get("timezone"))
    except ValueError as exc:
        problems.append(str(exc))
    return pattern


def aware_time(
    naive: datetime.datetime, zone: Optional[datetime.tzinfo]
) -> tuple[Optional[datetime.datetime], Optional[str]]:
    """(aware datetime, None) for the naive time of a name read in ``zone`` (None: the host's), or (None, why).

    Years 1 and 9999 are legal in a name, but such a time may have no UTC equivalent
    (``datetime`` stops at year 1 and 9999): it is refused here rather than overflowing later.
    """
    try:
        when = naive.astimezone() if zone is None else naive.replace(tzinfo=zone)
        when.astimezone(datetime.timezone.utc)
    except (OverflowError, ValueError) as exc:
        return None, "the time in the name, %s, cannot be placed in time zone %s (%s)" % (
            naive.isoformat(),
            "local" if zone is None else zone,
            exc,
        )
    return when, None


def backup_entry(path: str, naive: Optional[datetime.datetime], zone: Optional[datetime.tzinfo]) -> dict[str, Any]:
    """One backup as listed: ``{path, name, time, size, mtime}`` and ``time_error`` or ``error`` when there is one.

    ``naive`` is the time its name matched (None: the name does not match), ``zone`` the
    tzinfo it is read in (None: the host's). ``time`` is aware, or None when the name has no time
    or one without a UTC equivalent (``time_error`` says why). An entry that is no regular file (a
    FIFO, a dangling symlink, a directory) has ``size`` None and ``error`` saying why, so that a
    caller reports it instead of losing it.
    """
    when, why = aware_time(naive, zone) if naive is not None else (None, None)
    item: dict[str, Any] = {"path": path, "name": os.path.basename(path), "time": when, "size": None, "mtime": None}
    if why:
        item["time_error"] = why
    try:
        info = os.stat(path)
    except OSError as exc:
        item["error"] = "cannot stat: %s" % (exc.strerror or exc)
    else:
        item["mtime"] = info.st_mtime
        if stat.S_ISREG(info.st_mode):
            item["size"] = info.st_size
        else:
            item["error"] = "not a regular file (%s)" % _file_kind(info.st_mode)
    return item


def list_backups(directory: str, pattern: PatternArg = None, tz: Optional[str] = "UTC") -> list[dict[str, Any]]:
    """The backups in ``directory`` whose names match ``pattern``, oldest first (``backup_entry`` each).

    Sidecars (``.sha256``) are never backups. Raises OSError when the directory cannot be read.
    """
    compiled = pattern if isinstance(pattern, BackupPattern) else compile_pattern(pattern)
    zone = resolve_timezone(tz)
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            naive = compiled.match(entry.name)
            if naive is None or entry.name.endswith(".sha256"):
                continue
            found.append(backup_entry(os.path.join(directory, entry.name), naive, zone))
    # By the time written in the name (times of one zone compare as written, DST folds included).
    found.sort(key=lambda item: (compiled.match(item["name"]), item["name"]))
    return found


def backup_files(paths: Iterable[str], pattern: PatternArg = None, tz: Optional[str] = "UTC") -> list[dict[str, Any]]:
    """Explicit backup files, in the given order (``backup_entry`` each); a name that does not match has no time."""
    compiled = pattern if isinstance(pattern, BackupPattern) else compile_pattern(pattern)
    zone = resolve_timezone(tz)
    return [backup_entry(path, compiled.match(os.path.basename(path)), zone) for path in paths]


def _regular_file(path: str) -> None:
    """Raise OSError unless ``path`` is a regular file: opening a FIFO would wait for a writer forever."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "not a regular file (%s)" % _file_kind(info.st_mode))


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "unknown type"


# --- pure parts of the retention and size checks ----------------------------------------------


def find_gaps(
    times: Iterable[datetime.datetime], expected_interval: Optional[float], factor: float = 1.5
) -> list[dict[str, Any]]:
    """Gaps between consecutive backup times (sorted or not) longer than ``factor * expected_interval``.

    ``times`` are datetimes, ``expected_interval`` seconds. Returns a list of
    ``{after, before, seconds}`` (the two datetimes around the gap).
    """
    if expected_interval is None or expected_interval <= 0:
        raise ValueError("the expected interval between backups must be positive, got %r" % (expected_interval,))
    ordered = sorted(times)
    gaps = []
    for earlier, later in zip(ordered, ordered[1:]):
        seconds = (later - earlier).total_seconds()
        if seconds > factor * expected_interval:
            gaps.append({"after": earlier, "before": later, "seconds": seconds})
    return gaps


def size_vs_median(size: float, previous_sizes: Iterable[Optional[float]]) -> tuple[Optional[float], Optional[float]]:
    """(median of ``previous_sizes``, shrink in percent of that median) or (None, None) without history.

    A positive shrink means ``size`` is smaller than the median; growth gives a negative value.
    """
    sizes = [s for s in previous_sizes if s is not None]
    if not sizes:
        return None, None
    mid = median(sizes)
    if mid is None or mid <= 0:
        return mid, None
    return mid, round((mid - size) * 100.0 / mid, 2)


# --- reading the bytes ------------------------------------------------------------------------


def _check(name: str, status: str, detail: str, started: float) -> Check:
    return {"name": name, "status": status, "detail": detail, "duration": round(time.monotonic() - started, 4)}


def sniff_format(head: bytes) -> str:
    """``gzip``, ``custom`` or ``plain`` from the first bytes of a file (``empty`` for none)."""
    if not head:
        return "empty"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(CUSTOM_MAGIC):
        return "custom"
    return "plain"


def read_sidecar(path: str) -> tuple[str, Optional[str]]:
    """(hex digest, file name) from a sha256sum line ``<hex>  <name>`` (``*name`` for binary mode).

    Raises ValueError when the file is not in that format, OSError when it cannot be read.
    """
    with open(path, "rb") as handle:
        data = handle.read(4096)
    line = data.decode("utf-8", "replace").strip().splitlines()[0] if data.strip() else ""
    found = re.match(r"^\\?([0-9a-fA-F]{64})(?: [ *](.+))?$", line)
    if not found:
        raise ValueError("%s is not in sha256sum format ('<64 hex digits>  <file name>'): %r" % (path, line[:100]))
    return found.group(1).lower(), found.group(2)


class _Hasher:
    """SHA-256 in a second thread, so hashing overlaps inflating (both release the GIL)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self._queue: queue.Queue[Optional[bytes]] = queue.Queue(HASH_QUEUE)
        self._thread = threading.Thread(target=self._run, name="sha256")
        self._thread.daemon = True
        self._thread.start()

    def _run(self) -> None:
        update = self.digest.update
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self.digest.hexdigest()

    def stop(self) -> None:
        """Let the thread end without waiting for it (the reading failed)."""
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            # Two chunks still waiting: the thread hashes them and then finds the end mark.
            threading.Thread(target=self._queue.put, args=(None,), daemon=True).start()


def _error_text(exc: BaseException) -> str:
    return "%s: %s" % (type(exc).__name__, exc)


def map_ordered(func: Callable[[Any], Any], items: list[Any], workers: int = 1) -> list[tuple[Any, Optional[str]]]:
    """``(func(item), None)`` or ``(None, "Type: message")`` of what it raised, for each item, in order.

    With ``workers`` above 1 the items are taken in order by that many threads (daemon threads:
    a process that is interrupted or killed never waits for them). Reading a backup holds the
    GIL about a third of the time (the completion marker's scanner is Python), so threads
    gain little: map_in_processes is the parallel way, this is its fallback without fork.
    """
    results: list[tuple[Any, Optional[str]]] = [(None, None)] * len(items)

    def one(index: int) -> None:
        try:
            results[index] = (func(items[index]), None)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # The caller reports the error for this item; the other items are still read.
            results[index] = (None, _error_text(exc))

    if workers <= 1 or len(items) <= 1:
        for index in range(len(items)):
            one(index)
        return results
    indexes = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(indexes, None)
            if index is None:
                return
            one(index)

    threads = [
        threading.Thread(target=work, name="backup-reader-%d" % number, daemon=True)
        for number in range(min(workers, len(items)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent ends (Linux), so that no worker outlives it."""
    try:
        # pylint: disable-next=import-outside-toplevel
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent ended before prctl
        os._exit(1)


def _worker_process(func: Callable[[Any], Any], items: list[Any], tasks_fd: int, answers_fd: int, parent: int) -> None:
    """A forked worker: reads item indexes, one a line, answers one JSON line each, until EOF."""
    code = 0
    try:
        _die_with_parent(parent)
        with os.fdopen(tasks_fd, "rb") as tasks, os.fdopen(answers_fd, "wb") as answers:
            for line in tasks:
                index = int(line)
                try:
                    answer = json.dumps({"result": func(items[index])})
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    answer = json.dumps({"error": _error_text(exc)})
                answers.write(answer.encode() + b"\n")
                answers.flush()
    except BaseException:  # pylint: disable=broad-exception-caught
        code = 1
    finally:
        # Never the parent's exit handlers nor its buffered output (the module's JSON).
        os._exit(code)  # pylint: disable=protected-access


class _Worker:
    def __init__(self, pid: int, tasks_fd: int) -> None:
        self.pid = pid
        self.tasks_fd: Optional[int] = tasks_fd
        self.index: Optional[int] = None
        self.buffer = b""


def map_in_processes(func: Callable[[Any], Any], items: list[Any], workers: int = 1) -> list[tuple[Any, Optional[str]]]:
    """What map_ordered returns, ``func`` run by ``workers`` forked processes (results as JSON).

    Each worker is handed the next item as soon as it is free, so a large file does not hold
    back the others. A worker that dies (killed, out of memory) makes its item an error ("the
    worker process ended ..."); the items not handed out yet go to the others, or are read here
    when none is left. Whatever happens (an exception, Ctrl-C, the end), every worker is killed
    and waited for; a worker also dies with this process (PR_SET_PDEATHSIG), so none is left
    behind, and nothing is written to disk. Without fork, or for one item, map_ordered.
    """
    if workers <= 1 or len(items) <= 1 or not hasattr(os, "fork"):
        return map_ordered(func, items, workers)
    results: list[tuple[Any, Optional[str]]] = [(None, None)] * len(items)
    pending = list(range(len(items)))
    pending.reverse()
    children: dict[int, _Worker] = {}
    selector = selectors.DefaultSelector()
    parent = os.getpid()

    def hand(worker: _Worker) -> None:
        if worker.tasks_fd is None:
            return
        if not pending:
            os.close(worker.tasks_fd)
            worker.tasks_fd = None
            return
        worker.index = pending.pop()
        try:
            os.write(worker.tasks_fd, b"%d\n" % worker.index)
        except OSError:
            # Already gone: its end of the answers pipe reports it.
            pass

    try:
        for _number in range(min(workers, len(items))):
            tasks_read, tasks_write = os.pipe()
            answers_read, answers_write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child never returns
                selector.close()
                os.close(tasks_write)
                os.close(answers_read)
                for fd, sibling in children.items():
                    # A sibling's pipes held open here would hide its end of the tasks.
                    os.close(fd)
                    if sibling.tasks_fd is not None:
                        os.close(sibling.tasks_fd)
                _worker_process(func, items, tasks_read, answers_write, parent)
            os.close(tasks_read)
            os.close(answers_write)
            worker = _Worker(pid, tasks_write)
            children[answers_read] = worker
            selector.register(answers_read, selectors.EVENT_READ)
            hand(worker)
        while selector.get_map():
            for key, _mask in selector.select():
                fd = int(key.fd)
                worker = children[fd]
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    selector.unregister(fd)
                    if worker.index is not None:
                        results[worker.index] = (None, "the worker process ended before it was done")
                        worker.index = None
                    if worker.tasks_fd is not None:
                        os.close(worker.tasks_fd)
                        worker.tasks_fd = None
                    continue
                worker.buffer += chunk
                while b"\n" in worker.buffer and worker.index is not None:
                    line, worker.buffer = worker.buffer.split(b"\n", 1)
                    try:
                        answer = json.loads(line)
                        results[worker.index] = (answer.get("result"), answer.get("error"))
                    except ValueError as exc:
                        results[worker.index] = (None, "unreadable answer of the worker process: %s" % exc)
                    worker.index = None
                    hand(worker)
        # Every worker ended early: what nobody took is read here.
        pending.reverse()
        for index, outcome in zip(pending, map_ordered(func, [items[i] for i in pending])):
            results[index] = outcome
    finally:
        selector.close()
        for fd, worker in children.items():
            for own in (fd, worker.tasks_fd):
                if own is not None:
                    try:
                        os.close(own)
                    except OSError:
                        pass
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(worker.pid, 0)
    return results


GZIP_MAX_HEADER = 1024 * 1024  # a longer header (FEXTRA, FNAME, FCOMMENT) is refused


def _parse_gzip_header(header: bytearray) -> Optional[int]:
    """Length of the gzip member header at the start of ``header``, None when more bytes are needed.

    Raises ValueError saying what is wrong (RFC 1952, section 2.3).
    """
    if len(header) < 10:
        if not GZIP_MAGIC.startswith(bytes(header[:2])):
            raise ValueError("no gzip magic bytes (1f 8b)")
        return None
    if header[2] != 8:
        raise ValueError("compression method %d is not deflate (8)" % header[2])
    flags = header[3]
    if flags & 0xE0:
        raise ValueError("reserved header flag bits are set (0x%02x)" % flags)
    length = 10
    if flags & 0x04:  # FEXTRA
        if len(header) < length + 2:
            return None
        length += 2 + struct.unpack("<H", bytes(header[length : length + 2]))[0]
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            if len(header) < length:
                return None
            end = header.find(b"\0", length)
            if end == -1:
                return None
            length = end + 1
    if flags & 0x02:  # FHCRC: the low 16 bits of the CRC32 of the header before it
        if len(header) < length + 2:
            return None
        expected = struct.unpack("<H", bytes(header[length : length + 2]))[0]
        actual = zlib.crc32(bytes(header[:length])) & 0xFFFF
        if expected != actual:
            raise ValueError(
                "header CRC16 mismatch: the header says 0x%04x, its bytes give 0x%04x" % (expected, actual)
            )
        length += 2
    if len(header) < length:
        return None
    return length


class _GzipStream:
    """Inflate gzip members one after the other, checking each member's header, CRC32 and ISIZE.

    The header and the 8-byte trailer are read here and the deflate data inflated raw
    (wbits=-15), rather than letting zlib check the whole member (wbits=31): zlib and ISA-L
    then cannot throw away the output of their last call with a trailer error, nor word a
    length error as a checksum error, and every failure says what failed and where (member,
    compressed offset, uncompressed bytes). Memory is bounded by ``INFLATE_LIMIT`` per call.
    ``sink`` receives the inflated bytes in order.
    """

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        self.sink = sink
        self.members = 0
        self.part = "between"  # between, header, body or trailer
        self.decompressor: Any = None
        self.header = bytearray()
        self.trailer = bytearray()
        self.member_start = 0  # compressed offset of the current member
        self.body_start = 0  # compressed offset of its deflate data
        self.member_out = 0
        self.crc = 0
        self.uncompressed = 0
        self.offset = 0  # compressed bytes consumed so far
        self.error: Optional[str] = None
        # (member, member_start, body_start, uncompressed before the member) of a deflate error
        self.error_at: Optional[tuple[int, int, int, int]] = None
        self.trailing = 0
        self.trailing_at = 0  # compressed offset of the first trailing byte (when there are some)
        self.trailing_nonzero = False

    def _where(self) -> str:
        return "gzip member %d (starting at compressed byte %d)" % (self.members, self.member_start)

    def _out(self, out: bytes) -> None:
        if out:
            self.member_out += len(out)
            self.uncompressed += len(out)
            self.crc = inflate_lib.crc32(out, self.crc)
            self.sink(out)

    def feed(self, data: bytes) -> bool:
        """Read ``data``; returns False once an error is recorded (nothing more is read)."""
        while data and not self.error:
            if self.part == "between":
                if self.trailing or not GZIP_MAGIC.startswith(data[:2]):
                    # Bytes after the last member that do not start a new one.
                    if not self.trailing:
                        self.trailing_at = self.offset
                    self.trailing += len(data)
                    self.offset += len(data)
                    if data.strip(b"\0"):
                        self.trailing_nonzero = True
                    return True
                self.part = "header"
                self.members += 1
                self.member_start = self.offset
                del self.header[:]
            if self.part == "header":
                had = len(self.header)
                self.header.extend(data[: GZIP_MAX_HEADER + 1 - had])
                try:
                    length = _parse_gzip_header(self.header)
                except ValueError as exc:
                    self.error = "%s has a bad header: %s" % (self._where(), exc)
                    return False
                if length is None:
                    if len(self.header) > GZIP_MAX_HEADER:
                        self.error = "%s has a header longer than %d bytes" % (self._where(), GZIP_MAX_HEADER)
                        return False
                    self.offset += len(data)
                    return True
                used = length - had
                self.offset += used
                data = data[used:]
                self.part = "body"
                self.body_start = self.offset
                self.decompressor = inflate_lib.decompressobj(-15)
                self.crc = 0
                self.member_out = 0
            if self.part == "body":
                rest = self._inflate(data)
                if rest is None:
                    return False
                data = rest
            if self.part == "trailer" and data:
                need = 8 - len(self.trailer)
                self.trailer.extend(data[:need])
                self.offset += min(need, len(data))
                data = data[need:]
                if len(self.trailer) == 8:
                    self._check_trailer()
        return not self.error

    def _inflate(self, data: bytes) -> Optional[bytes]:
        """Inflate ``data``; what follows the end of the deflate data, or None after an error."""
        decompress = self.decompressor.decompress
        before = self.uncompressed - self.member_out
        try:
            while data:
                out = decompress(data, INFLATE_LIMIT)
                self._out(out)
                if self.decompressor.eof:
                    rest = self.decompressor.unused_data
                    self.offset += len(data) - len(rest)
                    self.part = "trailer"
                    del self.trailer[:]
                    return rest
                left = self.decompressor.unconsumed_tail
                self.offset += len(data) - len(left)
                data = left
        except inflate_lib.error as exc:
            self.error = "%s: corrupt deflate data (%s) in the compressed bytes %d to %d" % (
                self._where(),
                exc,
                self.offset,
                self.offset + len(data) - 1,
            )
            self.error_at = (self.members, self.member_start, self.body_start, before)
            return None
        return b""

    def _check_trailer(self) -> None:
        crc, isize = struct.unpack("<II", bytes(self.trailer))
        actual_size = self.member_out & 0xFFFFFFFF
        problems = []
        if crc != self.crc:
            problems.append("CRC32 mismatch: the trailer says 0x%08x, the inflated data gives 0x%08x" % (crc, self.crc))
        if isize != actual_size:
            problems.append(
                "length mismatch: the trailer says %d bytes (ISIZE, modulo 4 GiB), the member inflated to %d bytes"
                % (isize, actual_size)
            )
        if problems:
            self.error = (
                "%s: %s; its deflate data inflated completely to %d bytes (%d uncompressed bytes in all), trailer at "
                "compressed byte %d"
                % (self._where(), " and ".join(problems), self.member_out, self.uncompressed, self.offset - 8)
            )
        self.part = "between"
        self.decompressor = None

    def drain(self) -> None:
        """Output an inflater still holds once the input has ended (ISA-L buffers some; zlib none)."""
        while self.part == "body" and not self.error:
            try:
                out = self.decompressor.decompress(b"", INFLATE_LIMIT)
            except inflate_lib.error as exc:
                self.error = "%s: corrupt deflate data (%s) at the end of the file, compressed byte %d" % (
                    self._where(),
                    exc,
                    self.offset,
                )
                return
            self._out(out)
            if self.decompressor.eof:
                self.part = "trailer"
                del self.trailer[:]
                rest = self.decompressor.unused_data
                if rest:
                    self.offset -= len(rest)
                    self.feed(rest)
                return
            if not out:
                return

    def locate(self, path: str) -> None:
        """Make a deflate error exact: the compressed byte where inflating fails and the bytes inflated before it.

        Called after the pass, on the error path only: the member's deflate data is inflated
        again with zlib from its start, in small steps, from a copy of the inflater taken
        before each step (ISA-L's inflater cannot be copied).
        """
        if self.error_at is None:
            return
        member, member_start, body_start, before = self.error_at
        found = _find_deflate_error(path, body_start)
        if found is None:
            return
        position, inflated, message = found
        self.error = (
            "gzip member %d (starting at compressed byte %d): corrupt deflate data (%s) at compressed byte %d; "
            "%d bytes of this member inflated before it (%d uncompressed bytes in all)"
            % (member, member_start, message, position, inflated, before + inflated)
        )

    def finish(self) -> tuple[str, str]:
        """The gzip check as (status, detail)."""
        self.drain()
        if self.error:
            return "failed", self.error
        if self.part == "header":
            return "failed", "truncated: the file ends inside the header of %s" % self._where()
        if self.part == "body":
            # No count of inflated bytes here: from a stream cut inside a deflate block, zlib and
            # ISA-L emit a few bytes more or less (1590909 against 1590907 on a real cut dump),
            # and the message must be the same with both.
            return "failed", (
                "truncated: the file ends at compressed byte %d inside the deflate data of %s; the rest of it "
                "and its CRC and length trailer are missing" % (self.offset, self._where())
            )
        if self.part == "trailer":
            return "failed", (
                "truncated: the file ends inside the 8-byte CRC and length trailer of %s (%d of its bytes are "
                "there); its deflate data inflated completely to %d bytes (%d in all)"
                % (self._where(), len(self.trailer), self.member_out, self.uncompressed)
            )
        if self.members == 0:
            return "failed", "no gzip member found"
        detail = "%d gzip member%s, CRC and length verified, %d uncompressed bytes" % (
            self.members,
            "" if self.members == 1 else "s",
            self.uncompressed,
        )
        if self.trailing_nonzero:
            return "failed", "%s, then %d bytes of trailing garbage from compressed byte %d (not a gzip member)" % (
                detail,
                self.trailing,
                self.trailing_at,
            )
        if self.trailing:
            return "warning", "%s, then %d trailing zero bytes (gzip ignores them)" % (detail, self.trailing)
        return "ok", detail


def _find_deflate_error(path: str, body_start: int, step: int = 4096) -> Optional[tuple[int, int, str]]:
    """(compressed offset of the failing byte, bytes inflated before it, zlib's message) or None."""
    decompressor = zlib.decompressobj(-15)
    inflated = 0
    position = body_start
    try:
        with open(path, "rb") as handle:
            handle.seek(body_start)
            while True:
                piece = handle.read(step)
                if not piece:
                    return None
                saved = decompressor.copy()
                try:
                    inflated += _inflate_count(decompressor, piece)
                except zlib.error:
                    decompressor = saved
                    for index in range(len(piece)):
                        try:
                            inflated += _inflate_count(decompressor, piece[index : index + 1])
                        except zlib.error as exc:
                            return position + index, inflated, str(exc)
                    return None
                if decompressor.eof:
                    return None
                position += len(piece)
    except OSError:
        return None


def _inflate_count(decompressor: Any, data: bytes) -> int:
    count = 0
    while data:
        count += len(decompressor.decompress(data, INFLATE_LIMIT))
        if decompressor.eof:
            break
        data = decompressor.unconsumed_tail
    return count


# --- where a plain dump ends ------------------------------------------------------------------

# Bytes the scanner keeps back at the end of a chunk so that every token it looks at (``--``,
# ``$tag$``, the marker line, ``\.`` and its line end) is whole; a dollar-quote tag longer than
# this is not recognised as one (pg_dump's are ``$$``, ``$_$``, ``$__$`` ...).
_LOOKAHEAD = 256
_NORMAL = 0
_LINE = 1  # the rest of a -- comment or of a psql backslash command
_TO_COPY = 2  # the rest of the line of a COPY ... FROM stdin statement
_COPY = 3  # COPY data rows
_SQUOTE = 4
_DQUOTE = 5
_DOLLAR = 6
_BLOCK = 7
_STATE_NAMES = {
    _SQUOTE: "a quoted string",
    _DQUOTE: "a quoted identifier",
    _DOLLAR: "a dollar-quoted string",
    _BLOCK: "a /* */ comment",
}
_CODE_TOKENS = re.compile(rb"--|/\*|['\"$;\\]")
_ESCAPE_STRING_TOKENS = re.compile(rb"['\\]")
_BLOCK_TOKENS = re.compile(rb"/\*|\*/")
_DOLLAR_TAG = re.compile(rb"\$(?:[A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9]*)?\$")
_IDENT_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$" + bytes(range(0x80, 0x100))
)
_COPY_FROM_STDIN = re.compile(rb"\bFROM\s+STDIN\b", re.IGNORECASE)
_STD_STRINGS = re.compile(rb"^SET\s+standard_conforming_strings\s*(?:=|TO)\s*'?(on|off)\b", re.IGNORECASE)


def _is_line_end(buf: bytes, index: int, final: bool) -> bool:
    """True when ``buf[index:]`` starts with a line end (LF or CRLF), or is the end of the input."""
    if index >= len(buf):
        return final
    return buf[index] == 0x0A or buf[index : index + 2] == b"\r\n"


class DumpEndScanner:
    """Where a plain pg_dump script ends, found in one streaming pass with constant memory.

    pg_dump writes ``-- PostgreSQL database dump complete`` as the last SQL line of a complete
    dump (followed by ``--``, blank lines and, since 17.6/16.10/15.14 (CVE-2025-8714), a
    ``\\unrestrict KEY`` line). The same text can be DATA: a row of a COPY block, a line of a
    string literal (``--inserts``) or of a function body. So the script is lexed as psql reads
    it: quoted strings (``'...'``, ``E'...'``, ``standard_conforming_strings``), quoted
    identifiers, dollar quotes, ``--`` and ``/* */`` comments, statements ended by ``;`` outside
    parentheses, psql backslash commands, and the data rows of ``COPY ... FROM stdin``, which
    end at a line that is exactly ``\\.``. The dump is complete when the marker is a whole line
    (LF or CRLF) outside any statement, string, comment and COPY block, and nothing but blank
    lines, ``--`` comment lines and ``\\unrestrict`` lines follows it.

    ``feed(data)`` any number of times, then ``finish()`` gives ``(complete, detail)``.
    """

    def __init__(self) -> None:
        self._carry = b""
        self._base = 0  # offset in the script of the first byte of the carry
        self._line = 1  # line number at self._line_pos of the current buffer
        self._line_pos = 0
        self._prev = 0x0A  # byte before the next one to read; the start is a line start
        self._state = _NORMAL
        self._statement = False  # code since the last ; (or the start)
        self._watch = False  # the statement's first bytes are still being collected
        self._head = b""  # first bytes of the statement's code
        self._copy_tail: Optional[bytes] = None  # last bytes of a COPY statement's code
        self._paren = 0
        self._escape = False
        self._tag = b""  # the closing tag of the dollar quote being read
        self._depth = 0
        self._std_strings = True
        self._opened_line = 0  # line where the string, comment or COPY block began
        self._copy_of = ""
        self.copy_blocks = 0
        self.marker_line: Optional[int] = None  # the marker line that still ends the script, if any
        self.marker_offset = 0  # its offset in the script (when there is one)
        self._spoiled: Optional[tuple[int, str, int]] = None  # why the last marker line seen is not the end
        self._data_markers = 0  # marker lines seen inside data (COPY rows, strings)
        self.size = 0

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        buf = self._carry + data if self._carry else data
        stop = len(buf) - _LOOKAHEAD
        if stop <= 0:
            self._carry = bytes(buf)
            return
        self._run(buf, stop, False)
        self._carry = bytes(buf[stop:])

    def finish(self) -> tuple[bool, str]:
        """(complete, detail): whether the script ends as pg_dump ends a complete dump, and why not."""
        buf = self._carry
        self._carry = b""
        self._run(buf, len(buf), True)
        if self._state == _COPY or self._state == _TO_COPY:
            return (
                False,
                "the script ends inside the COPY data of %s (its COPY statement is on line %d): the dump was cut%s"
                % (self._copy_of, self._opened_line, self._data_note()),
            )
        if self._state in _STATE_NAMES:
            return False, "the script ends inside %s begun on line %d: the dump was cut%s" % (
                _STATE_NAMES[self._state],
                self._opened_line,
                self._data_note(),
            )
        if self.marker_line is not None and not self._statement:
            return True, "completion marker on line %d, %d bytes before the end, after %d COPY block%s" % (
                self.marker_line,
                self.size - self.marker_offset - len(DUMP_COMPLETE_MARKER),
                self.copy_blocks,
                "" if self.copy_blocks == 1 else "s",
            )
        if self._statement:
            return False, "the script ends inside an SQL statement (%s...): the dump was cut%s" % (
                self._head[:40].decode("utf-8", "replace"),
                self._data_note(),
            )
        if self._spoiled is not None:
            return (
                False,
                "the completion marker on line %d is followed by %s on line %d: not the end of one dump"
                % self._spoiled,
            )
        return False, "no completion marker line ('%s') at the top level of the script: the dump did not finish%s" % (
            DUMP_COMPLETE_MARKER.decode(),
            self._data_note(),
        )

    def _data_note(self) -> str:
        if not self._data_markers:
            return ""
        return " (the marker text seen %d time%s is data inside a COPY block, string or comment)" % (
            self._data_markers,
            "" if self._data_markers == 1 else "s",
        )

    def _line_at(self, buf: bytes, pos: int) -> int:
        self._line += buf.count(b"\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def _prev_byte(self, buf: bytes, pos: int) -> int:
        return buf[pos - 1] if pos > 0 else self._prev

    def _spoil(self, buf: bytes, pos: int, what: str) -> None:
        if self.marker_line is not None:
            self._spoiled = (self.marker_line, what, self._line_at(buf, pos))
            self.marker_line = None
            self.marker_offset = 0

    def _code(self, buf: bytes, pos: int, text: bytes) -> None:
        # Parentheses are counted, not lexed one by one: psql ends a statement at a ; outside them.
        self._paren += text.count(b"(") - text.count(b")")
        if not self._statement:
            self._spoil(buf, pos + len(text) - len(text.lstrip()), "SQL")
            self._statement = True
            self._watch = True
            self._head = text.lstrip()
        elif self._watch:
            self._head += text
        if self._copy_tail is not None:
            self._copy_tail = (self._copy_tail + text)[-256:]
        if self._watch and len(self._head) >= 4:
            # Only SET (standard_conforming_strings) and COPY (FROM stdin) statements matter; a
            # chunk may end inside their first word, so it is judged once four bytes are known.
            # Until the head is cut to 64 bytes below, it holds the whole statement so far.
            word = self._head[:4].upper()
            if word == b"COPY":
                if self._copy_tail is None:
                    self._copy_tail = self._head[-256:]
                if len(self._head) >= 64:
                    self._watch = False
            elif word[:3] != b"SET" or len(self._head) >= 64:
                self._watch = False
        self._head = self._head[:64]

    def _end_statement(self) -> None:
        head = self._head
        to_copy = self._copy_tail is not None and _COPY_FROM_STDIN.search(self._copy_tail)
        setting = _STD_STRINGS.match(head) if head[:3].upper() == b"SET" else None
        if setting:
            self._std_strings = setting.group(1).lower() == b"on"
        self._statement = False
        self._watch = False
        self._head = b""
        self._copy_tail = None
        self._paren = 0
        if to_copy:
            self._state = _TO_COPY
            self._copy_of = head.split(b"(")[0][4:].strip().decode("utf-8", "replace") or "a table"

    def _is_marker_line(self, buf: bytes, pos: int, final: bool) -> bool:
        end = pos + len(DUMP_COMPLETE_MARKER)
        return buf[pos:end] == DUMP_COMPLETE_MARKER and _is_line_end(buf, end, final)

    def _run(self, buf: bytes, stop: int, final: bool) -> None:  # pylint: disable=too-many-branches,too-many-statements
        pos = 0
        while pos < stop:
            state = self._state
            if state == _COPY:
                if (
                    self._prev_byte(buf, pos) == 0x0A
                    and buf[pos : pos + 2] == b"\\."
                    and _is_line_end(buf, pos + 2, final)
                ):
                    self._state = _NORMAL
                    self.copy_blocks += 1
                    pos += 2
                    continue
                found = buf.find(b"\n\\.", pos, stop + 2)
                self._count_data_markers(buf, pos, stop if found == -1 else found)
                pos = stop if found == -1 else found + 1
                continue
            if state == _NORMAL:
                match = _CODE_TOKENS.search(buf, pos, stop + 1)
                end = match.start() if match is not None and match.start() < stop else stop
                hot = self._statement and not self._watch and self._copy_tail is None
                if end > pos:
                    if hot:
                        self._paren += buf.count(b"(", pos, end) - buf.count(b")", pos, end)
                    elif self._statement or buf[pos:end].strip():
                        # Inside a statement whitespace counts too: "FROM stdin" may come a byte at a time.
                        self._code(buf, pos, buf[pos:end])
                if match is None or end == stop:
                    pos = stop
                    continue
                token = match.group()
                if token == b"--":
                    if (
                        not self._statement
                        and self._prev_byte(buf, end) == 0x0A
                        and self._is_marker_line(buf, end, final)
                    ):
                        self.marker_line = self._line_at(buf, end)
                        self.marker_offset = self._base + end
                        self._spoiled = None
                    self._state = _LINE
                    pos = end + 2
                elif token == b"/*":
                    self._spoil(buf, end, "a /* */ comment")
                    self._opened_line = self._line_at(buf, end)
                    self._state, self._depth = _BLOCK, 1
                    pos = end + 2
                elif token == b"\\":
                    # psql reads a backslash command to the end of its line.
                    if not buf.startswith(b"\\unrestrict", end):
                        self._spoil(buf, end, "a psql command")
                    self._state = _LINE
                    pos = end + 1
                elif token == b"'" or token == b'"':
                    if not hot:
                        self._code(buf, end, token)
                    if token == b"'":
                        before = self._prev_byte(buf, end)
                        # E'...' (an E that does not end a longer word) or standard_conforming_strings off
                        self._escape = not self._std_strings or (
                            before in (0x45, 0x65) and (end < 2 or buf[end - 2] not in _IDENT_BYTES)
                        )
                        if not self._escape:
                            # The common case (--inserts) without a turn through the loop per string.
                            found = buf.find(b"'", end + 1, stop)
                            while found != -1 and buf[found + 1 : found + 2] == b"'":
                                found = buf.find(b"'", found + 2, stop)
                            if found != -1:
                                self._count_data_markers(buf, end + 1, found)
                                pos = found + 1
                                continue
                    self._opened_line = self._line_at(buf, end)
                    self._state = _SQUOTE if token == b"'" else _DQUOTE
                    pos = end + 1
                elif token == b"$":
                    if not hot:
                        self._code(buf, end, token)
                    tag = None if self._prev_byte(buf, end) in _IDENT_BYTES else _DOLLAR_TAG.match(buf, end)
                    if tag is None:
                        pos = end + 1
                    else:
                        self._opened_line = self._line_at(buf, end)
                        self._state, self._tag = _DOLLAR, tag.group()
                        pos = tag.end()
                else:  # ;
                    if not hot:
                        self._code(buf, end, token)
                    pos = end + 1
                    if self._paren <= 0:
                        self._end_statement()
                        if self._state == _TO_COPY:
                            self._opened_line = self._line_at(buf, end)
                continue
            if state == _LINE or state == _TO_COPY:
                found = buf.find(b"\n", pos, stop)
                if found == -1:
                    pos = stop
                else:
                    pos = found + 1
                    self._state = _COPY if state == _TO_COPY else _NORMAL
                continue
            if state == _SQUOTE or state == _DQUOTE:
                quote = 0x27 if state == _SQUOTE else 0x22
                if state == _SQUOTE and self._escape:
                    match = _ESCAPE_STRING_TOKENS.search(buf, pos, stop)
                    found = -1 if match is None else match.start()
                else:
                    found = buf.find(b"'" if quote == 0x27 else b'"', pos, stop)
                if found == -1:
                    self._count_data_markers(buf, pos, stop)
                    pos = stop
                elif buf[found] == 0x5C:  # a backslash escapes the next byte in E'...'
                    pos = found + 2
                elif found + 1 < len(buf) and buf[found + 1] == quote:
                    pos = found + 2  # a doubled quote stays inside
                else:
                    self._count_data_markers(buf, pos, found)
                    self._state = _NORMAL
                    pos = found + 1
                continue
            if state == _DOLLAR:
                found = buf.find(self._tag, pos)
                if found == -1 or found >= stop:
                    self._count_data_markers(buf, pos, stop)
                    pos = stop
                else:
                    self._count_data_markers(buf, pos, found)
                    pos = found + len(self._tag)
                    self._state, self._tag = _NORMAL, b""
                continue
            # _BLOCK
            match = _BLOCK_TOKENS.search(buf, pos, stop + 1)
            if match is None or match.start() >= stop:
                pos = stop
                continue
            self._depth += 1 if match.group() == b"/*" else -1
            if self._depth == 0:
                self._state = _NORMAL
            pos = match.end()
        if stop > 0:
            self._line_at(buf, stop)
            self._prev = buf[stop - 1]
        self._line_pos = 0
        self._base += stop

    def _count_data_markers(self, buf: bytes, start: int, end: int) -> None:
        # Only for the message: the marker text inside COPY rows, strings or comments.
        self._data_markers += buf.count(DUMP_COMPLETE_MARKER, start, end)


def find_pg_restore(explicit: Optional[str] = None) -> Optional[str]:
    """The pg_restore to use: ``explicit``, else the one in PATH, else the newest under /usr/lib/postgresql."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("pg_restore")
    if found:
        return found
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_restore")

    def version(path: str) -> int:
        try:
            return int(path.split("/")[4])
        except (IndexError, ValueError):
            return 0

    candidates.sort(key=version)
    return candidates[-1] if candidates else None


def _run_pg_restore(
    pg_restore: str, arguments: list[str], path: str, timeout: Optional[float]
) -> tuple[Optional[int], bytes, str, float]:
    """(exit code or None when it could not run, stdout, stderr tail or reason, seconds) of one pg_restore run.

    Popen rather than run_command: this is shared code that has no AnsibleModule (pg_backup and
    pg_restore call it too), and the output to /dev/null may be large.
    """
    started = time.monotonic()
    try:
        # No AnsibleModule here (see the docstring), as in _pgdump.py.
        with subprocess.Popen(  # pylint: disable=ansible-bad-function
            [pg_restore] + arguments + [path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc:
            deadline = None if timeout is None else started + timeout
            while True:
                # communicate() overflows beyond about 24 days (epoll's milliseconds): wait a day at a time.
                wait = None if deadline is None else max(0.0, min(deadline - time.monotonic(), 86400.0))
                try:
                    stdout, stderr = proc.communicate(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    if deadline is not None and time.monotonic() < deadline:
                        continue
                    proc.kill()
                    proc.communicate()
                    return (
                        None,
                        b"",
                        "pg_restore %s did not finish within %ss" % (" ".join(arguments), timeout),
                        time.monotonic() - started,
                    )
    except OSError as exc:
        return None, b"", "cannot run %s: %s" % (pg_restore, exc), time.monotonic() - started
    return proc.returncode, stdout, stderr.decode("utf-8", "replace").strip()[-1000:], time.monotonic() - started


def check_custom(
    path: str, pg_restore: Optional[str] = None, timeout: Optional[float] = None
) -> tuple[list[Check], Optional[int]]:
    """pg_restore's two checks of a custom-format dump: the table of contents and a full read.

    ``pg_restore --list`` reads only the table of contents and passes a dump cut in half;
    ``pg_restore -f /dev/null`` writes the whole script, so it reads (and inflates) every data
    block and fails on a short file. Returns (checks, toc_entries).
    """
    checks: list[Check] = []
    binary = find_pg_restore(pg_restore)
    if binary is None:
        for name in ("toc", "data_read"):
            checks.append(
                {
                    "name": name,
                    "status": "failed",
                    "detail": "pg_restore not found (install the PostgreSQL client)",
                    "duration": 0.0,
                }
            )
        return checks, None
    entries = None
    started = time.monotonic()
    code, stdout, stderr, elapsed = _run_pg_restore(binary, ["--list"], path, timeout)
    if code == 0:
        lines = [line for line in stdout.decode("utf-8", "replace").splitlines() if line and not line.startswith(";")]
        entries = len(lines)
        data = sum(1 for line in lines if " TABLE DATA " in line)
        checks.append(
            {
                "name": "toc",
                "status": "ok",
                "detail": "table of contents with %d entries (%d TABLE DATA)" % (entries, data),
                "duration": round(elapsed, 4),
            }
        )
    else:
        reason = stderr if code is None else "pg_restore --list exited %d: %s" % (code, stderr or "no message")
        checks.append(_check("toc", "failed", reason, started))
    started = time.monotonic()
    code, stdout, stderr, elapsed = _run_pg_restore(binary, ["-f", os.devnull], path, timeout)
    if code == 0:
        checks.append(
            {
                "name": "data_read",
                "status": "ok",
                "detail": "pg_restore read every entry and data block",
                "duration": round(elapsed, 4),
            }
        )
    else:
        reason = stderr if code is None else "pg_restore -f /dev/null exited %d: %s" % (code, stderr or "no message")
        checks.append(_check("data_read", "failed", reason, started))
    return checks, entries


def _sidecar_check(path: str, sidecar: bool, digest: Optional[str]) -> tuple[Check, Optional[str]]:
    started = time.monotonic()
    sidecar_path = path + ".sha256"
    if not sidecar:
        return _check("sha256", "skipped", "sidecar check disabled", started), None
    if not os.path.lexists(sidecar_path):
        return _check("sha256", "skipped", "no sidecar %s" % os.path.basename(sidecar_path), started), None
    try:
        expected, named = read_sidecar(sidecar_path)
    except (OSError, ValueError) as exc:
        return _check("sha256", "failed", "cannot read the sidecar: %s" % exc, started), None
    name = os.path.basename(path)
    if digest is None:
        return _check(
            "sha256", "failed", "the file could not be read to the end, so its checksum is unknown", started
        ), expected
    if expected != digest:
        return _check(
            "sha256", "failed", "sha256 %s does not match the sidecar's %s" % (digest, expected), started
        ), expected
    if named is not None and os.path.basename(named.strip()) != name:
        return _check(
            "sha256", "warning", "sha256 matches, but the sidecar names %s, not %s" % (named.strip(), name), started
        ), expected
    return _check("sha256", "ok", "sha256 matches the sidecar", started), expected


def verify_stream(
    path: str,
    fmt: str = "auto",
    sidecar: bool = True,
    pg_restore: Optional[str] = None,
    timeout: Optional[float] = None,
    read_size: int = READ_SIZE,
) -> dict[str, Any]:
    """Read ``path`` once with bounded memory and check what its bytes can tell.

    ``fmt``: ``auto`` (from the magic bytes), ``plain`` (SQL, gzipped or not) or ``custom``
    (pg_dump -Fc). Returns ``{ok, checks, sha256, size, format, compressed, gzip_members,
    uncompressed_bytes, marker_found, bytes_read, seconds, throughput_mbps, sidecar_sha256}``.
    ``checks`` has one entry per check, in order: ``read``, ``format``, ``gzip``, ``sha256``,
    ``header``, ``marker`` for plain dumps; ``read``, ``format``, ``sha256``, ``toc``,
    ``data_read`` for custom ones. ``ok`` is False when any check failed.
    """
    if fmt not in ("auto", "plain", "custom"):
        raise ValueError("fmt must be auto, plain or custom, got %r" % (fmt,))
    begun = time.monotonic()
    checks: list[Check] = []
    result: dict[str, Any] = {
        "path": path,
        "ok": False,
        "checks": checks,
        "sha256": None,
        "size": None,
        "format": None,
        "inflate_backend": INFLATE_BACKEND,
        "compressed": None,
        "gzip_members": None,
        "uncompressed_bytes": None,
        "marker_found": None,
        "bytes_read": 0,
        "seconds": None,
        "throughput_mbps": None,
        "sidecar_sha256": None,
    }
    started = time.monotonic()
    hasher = None
    gz = None
    raw_head = b""
    head = bytearray()
    scanner = DumpEndScanner()

    def take(data: bytes) -> None:
        if len(head) < HEAD_WINDOW:
            head.extend(data[: HEAD_WINDOW - len(head)])
        scanner.feed(data)

    read_error = None
    try:
        _regular_file(path)
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            result["size"] = info.st_size
            hasher = _Hasher()
            first = handle.read(read_size)
            raw_head = first[:16]
            kind = sniff_format(first)
            if kind == "gzip":
                gz = _GzipStream(take)
            chunk = first
            while chunk:
                result["bytes_read"] += len(chunk)
                hasher.update(chunk)
                if gz is not None:
                    gz.feed(chunk)
                elif kind == "plain":
                    take(chunk)
                chunk = handle.read(read_size)
    except OSError as exc:
        read_error = exc.strerror or str(exc)
    except BaseException:
        if hasher is not None:
            hasher.stop()
        raise
    digest = hasher.hexdigest() if hasher is not None else None
    if read_error is not None:
        checks.append(_check("read", "failed", "cannot read %s: %s" % (path, read_error), started))
        digest = None
    else:
        checks.append(_check("read", "ok", "%d bytes read" % result["bytes_read"], started))
        result["sha256"] = digest
    elapsed = time.monotonic() - started

    kind = sniff_format(raw_head) if read_error is None else "unreadable"
    result["compressed"] = kind == "gzip"
    if kind == "gzip":
        detected = "plain"
    elif kind in ("custom", "plain"):
        detected = kind
    else:
        detected = None
    result["format"] = detected
    started = time.monotonic()
    if read_error is not None:
        checks.append(_check("format", "skipped", "the file could not be read", started))
    elif kind == "empty":
        checks.append(_check("format", "failed", "the file is empty (0 bytes)", started))
    elif fmt != "auto" and detected != fmt:
        checks.append(
            _check(
                "format",
                "failed",
                "expected a %s dump, found %s%s" % (fmt, detected, " (gzip)" if kind == "gzip" else ""),
                started,
            )
        )
    else:
        checks.append(
            _check("format", "ok", "%s dump%s" % (detected, ", gzip-compressed" if kind == "gzip" else ""), started)
        )

    started = time.monotonic()
    if gz is not None:
        status, detail = gz.finish()
        if gz.error_at is not None:
            gz.locate(path)
            detail = gz.error or detail
        checks.append({"name": "gzip", "status": status, "detail": detail, "duration": round(elapsed, 4)})
        result["gzip_members"] = gz.members
        result["uncompressed_bytes"] = gz.uncompressed
    elif detected == "plain":
        checks.append(_check("gzip", "skipped", "not gzip-compressed", started))
        result["uncompressed_bytes"] = result["bytes_read"]

    sidecar_check, expected = _sidecar_check(path, sidecar, digest)
    checks.append(sidecar_check)
    result["sidecar_sha256"] = expected

    if detected == "plain":
        started = time.monotonic()
        content = bytes(head)
        if not content and gz is not None and gz.error:
            checks.append(
                _check("header", "skipped", "the gzip stream is corrupt before any content could be read", started)
            )
        elif not content:
            checks.append(_check("header", "failed", "no dump content", started))
        elif DUMP_HEADER in content[:4096]:
            checks.append(_check("header", "ok", "starts as a pg_dump plain dump", started))
        else:
            checks.append(
                _check(
                    "header",
                    "warning",
                    "the first bytes are not pg_dump's header ('%s')" % DUMP_HEADER.decode(),
                    started,
                )
            )
        started = time.monotonic()
        complete, detail = scanner.finish()
        result["marker_found"] = complete
        if gz is not None and gz.error:
            result["marker_found"] = None
            checks.append(
                _check(
                    "marker", "skipped", "the gzip stream is corrupt, so the end of the dump cannot be read", started
                )
            )
        elif complete:
            checks.append(_check("marker", "ok", detail, started))
        else:
            checks.append(_check("marker", "failed", detail, started))
    elif detected == "custom":
        custom_checks, entries = check_custom(path, pg_restore=pg_restore, timeout=timeout)
        checks.extend(custom_checks)
        result["toc_entries"] = entries

    result["seconds"] = round(time.monotonic() - begun, 4)
    if elapsed > 0 and result["bytes_read"]:
        result["throughput_mbps"] = round(result["bytes_read"] / elapsed / 1e6, 1)
    result["ok"] = not any(c["status"] == "failed" for c in checks)
    return result


def verify_header(path: str, fmt: str = "auto") -> dict[str, Any]:
    """The cheap level: magic bytes, the start of the dump, and for gzip the ISIZE trailer.

    Reads at most 64 KiB from the start and 8 bytes from the end. Returns ``{ok, checks,
    format, compressed, size, isize}``; ``isize`` is the uncompressed size modulo 4 GiB that the
    last gzip member claims (of that member only when there are several).
    """
    checks: list[Check] = []
    result: dict[str, Any] = {
        "path": path,
        "ok": False,
        "checks": checks,
        "format": None,
        "compressed": None,
        "size": None,
        "isize": None,
    }
    started = time.monotonic()
    try:
        _regular_file(path)
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            result["size"] = info.st_size
            head = handle.read(HEAD_WINDOW)
            trailer = b""
            if info.st_size >= 18:
                handle.seek(-8, os.SEEK_END)
                trailer = handle.read(8)
    except OSError as exc:
        checks.append(_check("read", "failed", "cannot read %s: %s" % (path, exc.strerror or exc), started))
        return result
    checks.append(_check("read", "ok", "first %d and last %d bytes read" % (len(head), len(trailer)), started))
    kind = sniff_format(head)
    detected = "plain" if kind == "gzip" else (kind if kind in ("plain", "custom") else None)
    result["format"] = detected
    result["compressed"] = kind == "gzip"
    started = time.monotonic()
    if kind == "empty":
        checks.append(_check("format", "failed", "the file is empty (0 bytes)", started))
        return result
    if fmt != "auto" and detected != fmt:
        checks.append(_check("format", "failed", "expected a %s dump, found %s" % (fmt, detected), started))
        return result
    checks.append(
        _check("format", "ok", "%s dump%s" % (detected, ", gzip-compressed" if kind == "gzip" else ""), started)
    )
    started = time.monotonic()
    if kind == "gzip":
        if len(trailer) == 8:
            result["isize"] = struct.unpack("<I", trailer[4:])[0]
        start = b""
        try:
            decompressor = inflate_lib.decompressobj(31)
            start = decompressor.decompress(head, HEAD_WINDOW)
        except inflate_lib.error as exc:
            checks.append(_check("header", "failed", "the first gzip member is corrupt: %s" % exc, started))
            return _finish(result)
        if DUMP_HEADER in start[:4096]:
            checks.append(
                _check(
                    "header",
                    "ok",
                    "gzip of a pg_dump plain dump (last member claims %s uncompressed bytes mod 4 GiB)"
                    % (result["isize"],),
                    started,
                )
            )
        elif not start:
            checks.append(_check("header", "failed", "the gzip stream has no content at its start", started))
        else:
            checks.append(_check("header", "warning", "gzip whose first bytes are not pg_dump's header", started))
    elif kind == "custom":
        version = ".".join(str(b) for b in bytearray(head[5:8])) if len(head) >= 8 else "?"
        checks.append(_check("header", "ok", "pg_dump custom archive, format version %s" % version, started))
    elif DUMP_HEADER in head[:4096]:
        checks.append(_check("header", "ok", "starts as a pg_dump plain dump", started))
    else:
        checks.append(_check("header", "warning", "the first bytes are not pg_dump's header", started))
    return _finish(result)


def _finish(result: dict[str, Any]) -> dict[str, Any]:
    result["ok"] = not any(c["status"] == "failed" for c in result["checks"])
    return result
