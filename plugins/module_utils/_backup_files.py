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
  the name (never from mtime).
* ``verify_stream`` reads a file once, with bounded memory, and checks everything the bytes
  can tell: gzip CRC and length of every member, the ``.sha256`` sidecar, the completion
  marker of a plain dump; custom-format dumps also go through ``pg_restore``.
* ``verify_header`` is the cheap level: magic bytes, the start of the dump, the gzip trailer.
* ``find_gaps`` and ``size_vs_median`` are the pure parts of the retention and size checks.
"""

from __future__ import annotations

import collections
import datetime
import glob
import hashlib
import os
import re
import shutil
import stat
import struct
import subprocess
import threading
import time
import zlib

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 never runs this collection's modules
    queue = None

try:
    # ISA-L's inflate is about 1.7x faster than zlib's (measured in shared/anchors/cert_backup.md)
    # and has the same API; optional, zlib otherwise.
    from isal import isal_zlib as inflate_lib
    INFLATE_BACKEND = "isal"
except ImportError:
    inflate_lib = zlib
    INFLATE_BACKEND = "zlib"

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9 on the target: only UTC and local
    ZoneInfo = None
    ZoneInfoNotFoundError = KeyError

DEFAULT_PATTERN = "backup_%Y%m%d_%H%M%S.sql.gz"

# pg_dump ends a plain dump with this line; since the CVE-2025-8714 fix (15.14, 16.10, 17.6)
# a "\unrestrict KEY" line follows it, so it is searched in the tail, not as the last line.
DUMP_COMPLETE_MARKER = b"-- PostgreSQL database dump complete"
DUMP_HEADER = b"-- PostgreSQL database dump"
GZIP_MAGIC = b"\x1f\x8b"
CUSTOM_MAGIC = b"PGDMP"

READ_SIZE = 256 * 1024         # bytes read from the file at a time (larger is no faster, see bench)
INFLATE_LIMIT = 256 * 1024     # most bytes one decompress() call may return
TAIL_WINDOW = 64 * 1024         # decompressed bytes kept to search the marker in
HEAD_WINDOW = 64 * 1024         # decompressed bytes kept to recognise the dump's header
HASH_QUEUE = 2                  # chunks waiting for the hashing thread (bounds memory)

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

    def __init__(self, pattern, tokens, regex):
        self.pattern = pattern
        self._tokens = tokens
        self._regex = regex

    def match(self, filename):
        """The naive datetime written in ``filename``, or None when it does not match (or is no date)."""
        found = self._regex.match(filename)
        if not found:
            return None
        values = dict((key, int(value)) for key, value in found.groupdict().items())
        try:
            return datetime.datetime(values["year"], values["month"], values["day"],
                                     values.get("hour", 0), values.get("minute", 0), values.get("second", 0))
        except ValueError:
            return None

    def format(self, dt):
        """The file name of a backup taken at ``dt`` (its own wall-clock fields, no conversion)."""
        parts = []
        for kind, value in self._tokens:
            if kind == "text":
                parts.append(value)
            else:
                parts.append("%0*d" % (_DIRECTIVES[value][2], getattr(dt, _DIRECTIVES[value][0])))
        return "".join(parts)

    def glob(self):
        """A shell glob that every matching name also matches (for messages and find)."""
        return "".join(value if kind == "text" else "?" * _DIRECTIVES[value][2] for kind, value in self._tokens)

    def __repr__(self):
        return "BackupPattern(%r)" % self.pattern


def compile_pattern(pattern=None):
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
            raise ValueError("unknown directive %%%s in the backup file name pattern %r (supported: %s and %%%%)" % (
                directive, pattern, " ".join("%" + d for d in _DIRECTIVES)))
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
        raise ValueError("the backup file name pattern %r has no time fields for %s: it needs at least %%Y, %%m and %%d "
                         "(and usually %%H%%M%%S), since the time of a backup is read from its name" % (
                             pattern, ", ".join(missing)))
    regex = "".join(re.escape(value) if kind == "text" else "(?P<%s>%s)" % (_DIRECTIVES[value][0], _DIRECTIVES[value][1])
                    for kind, value in tokens)
    return BackupPattern(pattern, tokens, re.compile(regex + r"\Z"))


def resolve_timezone(tz):
    """A tzinfo from ``UTC``, ``local`` (the host's zone) or an IANA name such as ``Europe/Paris``."""
    if tz is None or tz in ("UTC", "utc", "Z"):
        return datetime.timezone.utc
    if tz == "local":
        return None
    if ZoneInfo is None:
        raise ValueError("time zone %r needs Python 3.9+ (zoneinfo) on the target; use UTC or local" % (tz,))
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone %r: %s" % (tz, exc))


def localize(naive, tz="UTC"):
    """An aware datetime from the naive time of a file name read in zone ``tz``."""
    zone = resolve_timezone(tz)
    if zone is None:
        return naive.astimezone()
    return naive.replace(tzinfo=zone)


def list_backups(directory, pattern=None, tz="UTC"):
    """The backups in ``directory`` whose names match ``pattern``, oldest first.

    Each is ``{path, name, time, size, mtime}`` with ``time`` aware (the name read in ``tz``),
    ``mtime`` a POSIX timestamp. Entries that match but are no regular file (a FIFO, a dangling
    symlink, a directory) are listed with ``size`` and ``mtime`` None and ``error`` saying why,
    so that a caller reports them instead of losing them. Sidecars (``.sha256``) never match a
    pattern that ends with the dump's extension. Raises OSError when the directory cannot be read.
    """
    compiled = pattern if isinstance(pattern, BackupPattern) else compile_pattern(pattern)
    zone = resolve_timezone(tz)
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            naive = compiled.match(entry.name)
            if naive is None or entry.name.endswith(".sha256"):
                continue
            when = naive.astimezone() if zone is None else naive.replace(tzinfo=zone)
            item = {"path": os.path.join(directory, entry.name), "name": entry.name, "time": when,
                    "size": None, "mtime": None}
            try:
                info = os.stat(item["path"])
            except OSError as exc:
                item["error"] = "cannot stat: %s" % (exc.strerror or exc)
            else:
                if stat.S_ISREG(info.st_mode):
                    item["size"] = info.st_size
                    item["mtime"] = info.st_mtime
                else:
                    item["error"] = "not a regular file (%s)" % _file_kind(info.st_mode)
                    item["mtime"] = info.st_mtime
            found.append(item)
    found.sort(key=lambda item: (item["time"], item["name"]))
    return found


def _regular_file(path):
    """Raise OSError unless ``path`` is a regular file: opening a FIFO would wait for a writer forever."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "not a regular file (%s)" % _file_kind(info.st_mode))


def _file_kind(mode):
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "unknown type"


# --- pure parts of the retention and size checks ----------------------------------------------

def find_gaps(times, expected_interval, factor=1.5):
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


def median(values):
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of no values")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def size_vs_median(size, previous_sizes):
    """(median of ``previous_sizes``, shrink in percent of that median) or (None, None) without history.

    A positive shrink means ``size`` is smaller than the median; growth gives a negative value.
    """
    sizes = [s for s in previous_sizes if s is not None]
    if not sizes:
        return None, None
    mid = median(sizes)
    if mid <= 0:
        return mid, None
    return mid, round((mid - size) * 100.0 / mid, 2)


# --- reading the bytes ------------------------------------------------------------------------

def _check(name, status, detail, started):
    return {"name": name, "status": status, "detail": detail, "duration": round(time.monotonic() - started, 4)}


def sniff_format(head):
    """``gzip``, ``custom`` or ``plain`` from the first bytes of a file (``empty`` for none)."""
    if not head:
        return "empty"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(CUSTOM_MAGIC):
        return "custom"
    return "plain"


def read_sidecar(path):
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

    def __init__(self):
        self.digest = hashlib.sha256()
        self._queue = queue.Queue(HASH_QUEUE)
        self._thread = threading.Thread(target=self._run, name="sha256")
        self._thread.daemon = True
        self._thread.start()

    def _run(self):
        update = self.digest.update
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            update(chunk)

    def update(self, chunk):
        self._queue.put(chunk)

    def hexdigest(self):
        self._queue.put(None)
        self._thread.join()
        return self.digest.hexdigest()


class _GzipStream:
    """Inflate gzip members one after the other, checking each member's CRC32 and ISIZE.

    zlib with wbits=31 verifies the trailer of a member itself ("incorrect data check",
    "incorrect length check"); what follows a member's end in ``unused_data`` is the next
    member. Memory is bounded by ``max_length`` and by keeping only a head and a tail window.
    """

    def __init__(self):
        self.members = 0
        self.in_member = False
        self.decompressor = None
        self.uncompressed = 0
        self.head = bytearray()
        self.tail = collections.deque()
        self.tail_bytes = 0
        self.error = None
        self.trailing = 0
        self.trailing_nonzero = False
        self.compressed_offset = 0

    def _keep(self, out):
        if not out:
            return
        self.uncompressed += len(out)
        if len(self.head) < HEAD_WINDOW:
            self.head.extend(out[:HEAD_WINDOW - len(self.head)])
        self.tail.append(out)
        self.tail_bytes += len(out)
        while self.tail_bytes - len(self.tail[0]) >= TAIL_WINDOW:
            self.tail_bytes -= len(self.tail.popleft())

    def feed(self, data):
        """Inflate ``data``; returns False once an error is recorded (nothing more is read)."""
        if self.error:
            return False
        while data:
            if self.trailing or (not self.in_member and not data.startswith(GZIP_MAGIC[:len(data)])):
                # Bytes after the last member that do not start a new one.
                self.trailing += len(data)
                if data.strip(b"\0"):
                    self.trailing_nonzero = True
                return True
            if not self.in_member:
                self.decompressor = inflate_lib.decompressobj(31)
                self.in_member = True
                self.members += 1
            decompress = self.decompressor.decompress
            try:
                while data:
                    out = decompress(data, INFLATE_LIMIT)
                    self._keep(out)
                    if self.decompressor.eof:
                        break
                    data = self.decompressor.unconsumed_tail
            except inflate_lib.error as exc:
                self.error = "gzip member %d is corrupt: %s (after %d uncompressed bytes)" % (
                    self.members, exc, self.uncompressed)
                return False
            if self.decompressor.eof:
                self.in_member = False
                data = self.decompressor.unused_data
            else:
                data = b""
        return True

    def drain(self):
        """Output an inflater still holds once the input has ended (ISA-L buffers some; zlib none)."""
        while self.in_member and not self.error:
            try:
                out = self.decompressor.decompress(b"", INFLATE_LIMIT)
            except inflate_lib.error as exc:
                self.error = "gzip member %d is corrupt: %s (after %d uncompressed bytes)" % (self.members, exc, self.uncompressed)
                return
            self._keep(out)
            if self.decompressor.eof:
                self.in_member = False
                rest = self.decompressor.unused_data
                if rest:
                    self.feed(rest)
                return
            if not out:
                return

    def finish(self):
        """The gzip check as (status, detail)."""
        self.drain()
        if self.error:
            return "failed", self.error
        if self.in_member:
            return "failed", ("truncated: the file ends inside gzip member %d, after %d uncompressed bytes "
                              "(its CRC and length trailer is missing)" % (self.members, self.uncompressed))
        if self.members == 0:
            return "failed", "no gzip member found"
        detail = "%d gzip member%s, CRC and length verified, %d uncompressed bytes" % (
            self.members, "" if self.members == 1 else "s", self.uncompressed)
        if self.trailing_nonzero:
            return "failed", "%s, then %d bytes of trailing garbage" % (detail, self.trailing)
        if self.trailing:
            return "warning", "%s, then %d trailing zero bytes (gzip ignores them)" % (detail, self.trailing)
        return "ok", detail

    def tail_bytes_joined(self):
        return b"".join(self.tail)[-TAIL_WINDOW:]


def find_pg_restore(explicit=None):
    """The pg_restore to use: ``explicit``, else the one in PATH, else the newest under /usr/lib/postgresql."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("pg_restore")
    if found:
        return found
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_restore")

    def version(path):
        try:
            return int(path.split("/")[4])
        except (IndexError, ValueError):
            return 0

    candidates.sort(key=version)
    return candidates[-1] if candidates else None


def _run_pg_restore(pg_restore, arguments, path, timeout):
    """(exit code or None when it could not run, stdout, stderr tail or reason, seconds) of one pg_restore run.

    Popen rather than run_command: this is shared code that has no AnsibleModule (pg_backup and
    pg_restore call it too), and the output to /dev/null may be large.
    """
    started = time.monotonic()
    try:
        # No AnsibleModule here (see the docstring), as in _pgdump.py.
        with subprocess.Popen([pg_restore] + arguments + [path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                              stderr=subprocess.PIPE) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                return None, b"", "pg_restore %s did not finish within %ss" % (" ".join(arguments), timeout), time.monotonic() - started
    except OSError as exc:
        return None, b"", "cannot run %s: %s" % (pg_restore, exc), time.monotonic() - started
    return proc.returncode, stdout, stderr.decode("utf-8", "replace").strip()[-1000:], time.monotonic() - started


def check_custom(path, pg_restore=None, timeout=None):
    """pg_restore's two checks of a custom-format dump: the table of contents and a full read.

    ``pg_restore --list`` reads only the table of contents and passes a dump cut in half;
    ``pg_restore -f /dev/null`` writes the whole script, so it reads (and inflates) every data
    block and fails on a short file. Returns (checks, toc_entries).
    """
    checks = []
    binary = find_pg_restore(pg_restore)
    if binary is None:
        for name in ("toc", "data_read"):
            checks.append({"name": name, "status": "failed", "detail": "pg_restore not found (install the PostgreSQL client)",
                           "duration": 0.0})
        return checks, None
    entries = None
    started = time.monotonic()
    code, stdout, stderr, elapsed = _run_pg_restore(binary, ["--list"], path, timeout)
    if code == 0:
        lines = [line for line in stdout.decode("utf-8", "replace").splitlines() if line and not line.startswith(";")]
        entries = len(lines)
        data = sum(1 for line in lines if " TABLE DATA " in line)
        checks.append({"name": "toc", "status": "ok", "detail": "table of contents with %d entries (%d TABLE DATA)" % (entries, data),
                       "duration": round(elapsed, 4)})
    else:
        reason = stderr if code is None else "pg_restore --list exited %d: %s" % (code, stderr or "no message")
        checks.append(_check("toc", "failed", reason, started))
    started = time.monotonic()
    code, stdout, stderr, elapsed = _run_pg_restore(binary, ["-f", os.devnull], path, timeout)
    if code == 0:
        checks.append({"name": "data_read", "status": "ok", "detail": "pg_restore read every entry and data block",
                       "duration": round(elapsed, 4)})
    else:
        reason = stderr if code is None else "pg_restore -f /dev/null exited %d: %s" % (code, stderr or "no message")
        checks.append(_check("data_read", "failed", reason, started))
    return checks, entries


def _sidecar_check(path, sidecar, digest):
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
        return _check("sha256", "failed", "the file could not be read to the end, so its checksum is unknown", started), expected
    if expected != digest:
        return _check("sha256", "failed", "sha256 %s does not match the sidecar's %s" % (digest, expected), started), expected
    if named is not None and os.path.basename(named.strip()) != name:
        return _check("sha256", "warning", "sha256 matches, but the sidecar names %s, not %s" % (named.strip(), name),
                      started), expected
    return _check("sha256", "ok", "sha256 matches the sidecar", started), expected


def verify_stream(path, fmt="auto", sidecar=True, pg_restore=None, timeout=None, read_size=READ_SIZE):
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
    checks = []
    result = {"path": path, "ok": False, "checks": checks, "sha256": None, "size": None, "format": None,
              "inflate_backend": INFLATE_BACKEND, "compressed": None, "gzip_members": None, "uncompressed_bytes": None, "marker_found": None,
              "bytes_read": 0, "seconds": None, "throughput_mbps": None, "sidecar_sha256": None}
    started = time.monotonic()
    hasher = None
    gz = None
    raw_head = b""
    plain_head = bytearray()
    plain_tail = collections.deque()
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
                gz = _GzipStream()
            chunk = first
            tail_len = 0
            while chunk:
                result["bytes_read"] += len(chunk)
                hasher.update(chunk)
                if gz is not None:
                    gz.feed(chunk)
                elif kind == "plain":
                    if len(plain_head) < HEAD_WINDOW:
                        plain_head.extend(chunk[:HEAD_WINDOW - len(plain_head)])
                    plain_tail.append(chunk)
                    tail_len += len(chunk)
                    while tail_len - len(plain_tail[0]) >= TAIL_WINDOW:
                        tail_len -= len(plain_tail.popleft())
                chunk = handle.read(read_size)
    except OSError as exc:
        read_error = exc.strerror or str(exc)
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
        checks.append(_check("format", "failed", "expected a %s dump, found %s%s" % (
            fmt, detected, " (gzip)" if kind == "gzip" else ""), started))
    else:
        checks.append(_check("format", "ok", "%s dump%s" % (detected, ", gzip-compressed" if kind == "gzip" else ""), started))

    started = time.monotonic()
    if gz is not None:
        status, detail = gz.finish()
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
        if gz is not None:
            head = bytes(gz.head)
            tail = gz.tail_bytes_joined()
        else:
            head = bytes(plain_head)
            tail = b"".join(plain_tail)[-TAIL_WINDOW:]
        if not head and gz is not None and gz.error:
            checks.append(_check("header", "skipped", "the gzip stream is corrupt before any content could be read", started))
        elif not head:
            checks.append(_check("header", "failed", "no dump content", started))
        elif DUMP_HEADER in head[:4096]:
            checks.append(_check("header", "ok", "starts as a pg_dump plain dump", started))
        else:
            checks.append(_check("header", "warning", "the first bytes are not pg_dump's header ('%s')" % DUMP_HEADER.decode(), started))
        started = time.monotonic()
        position = tail.rfind(DUMP_COMPLETE_MARKER)
        result["marker_found"] = position >= 0
        if gz is not None and gz.error:
            checks.append(_check("marker", "skipped", "the gzip stream is corrupt, so its end cannot be read", started))
        elif position >= 0:
            after = len(tail) - position - len(DUMP_COMPLETE_MARKER)
            checks.append(_check("marker", "ok", "completion marker found %d bytes before the end" % after, started))
        else:
            checks.append(_check("marker", "failed", "'%s' not in the last %d bytes: the dump did not finish" % (
                DUMP_COMPLETE_MARKER.decode(), TAIL_WINDOW), started))
    elif detected == "custom":
        custom_checks, entries = check_custom(path, pg_restore=pg_restore, timeout=timeout)
        checks.extend(custom_checks)
        result["toc_entries"] = entries

    result["seconds"] = round(time.monotonic() - begun, 4)
    if elapsed > 0 and result["bytes_read"]:
        result["throughput_mbps"] = round(result["bytes_read"] / elapsed / 1e6, 1)
    result["ok"] = not any(c["status"] == "failed" for c in checks)
    return result


def verify_header(path, fmt="auto"):
    """The cheap level: magic bytes, the start of the dump, and for gzip the ISIZE trailer.

    Reads at most 64 KiB from the start and 8 bytes from the end. Returns ``{ok, checks,
    format, compressed, size, isize}``; ``isize`` is the uncompressed size modulo 4 GiB that the
    last gzip member claims (of that member only when there are several).
    """
    checks = []
    result = {"path": path, "ok": False, "checks": checks, "format": None, "compressed": None, "size": None, "isize": None}
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
    checks.append(_check("format", "ok", "%s dump%s" % (detected, ", gzip-compressed" if kind == "gzip" else ""), started))
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
            checks.append(_check("header", "ok", "gzip of a pg_dump plain dump (last member claims %s uncompressed bytes mod 4 GiB)" % (
                result["isize"],), started))
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


def _finish(result):
    result["ok"] = not any(c["status"] == "failed" for c in result["checks"])
    return result
