# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""pg_dump into a backup file and restores from one, with pipefail semantics.

Shared by pg_backup (dump_to_file), pg_restore (everything) and backup_verify's restore level
(restore_file, create_database, drop_database).

The client programs run under subprocess.Popen, not AnsibleModule.run_command: run_command
keeps a program's whole output in memory, and a dump (or the SQL fed to psql) is streamed
through here in 1 MiB chunks whatever its size.

Connections use the collection's option names (module_utils/_postgres.py). The client
programs get a libpq connection string on their command line WITHOUT the password; the
password travels in the PGPASSWORD environment variable only, so it never shows in ``ps``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import tempfile
import threading
import time
import zlib
from typing import IO, Any, Optional, cast

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._backup_files import DUMP_COMPLETE_MARKER, DumpEndScanner
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, parse_duration
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import connect, connection_kwargs, sql

# pg_dump writes this line at the end of a complete plain dump; _backup_files.DumpEndScanner
# says whether it is where pg_dump writes it (backup_verify judges backups with the same rule).
COMPLETION_MARKER = DUMP_COMPLETE_MARKER
CHUNK = 1024 * 1024
STDERR_TAIL = 4000
CUSTOM_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
# Longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes); longer names are truncated.
MAX_IDENTIFIER_BYTES = 63


class DumpError(Exception):
    """A dump that did not produce a backup; nothing that looks like a backup was left."""


def _quote_conninfo(value: Any) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def client_connection(
    params: dict[str, Any], dbname: str, application_name: str = "stronghold.ops"
) -> tuple[str, dict[str, str]]:
    """(connection string without password, environment) for pg_dump, psql and pg_restore."""
    kwargs = connection_kwargs(params, dbname, application_name)
    env = dict(os.environ)
    password = kwargs.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    conninfo = " ".join(
        "%s=%s" % (key, _quote_conninfo(value)) for key, value in kwargs.items() if value is not None and value != ""
    )
    # A session_role becomes the role of the client session, as SET ROLE does in connect().
    if params.get("session_role"):
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c role=%s" % params["session_role"]).strip()
    return conninfo, env


def find_program(module: AnsibleModule, params: dict[str, Any], name: str) -> str:
    """Path of a PostgreSQL client program: in O(pg_bin_dir) when given, else on PATH."""
    bin_dir = params.get("pg_bin_dir")
    if bin_dir:
        path = os.path.join(bin_dir, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise DumpError("%s not found or not executable in pg_bin_dir %s" % (name, bin_dir))
        return path
    path = module.get_bin_path(name, required=False)
    if not path:
        raise DumpError("%s not found on PATH; install the PostgreSQL client or set pg_bin_dir" % name)
    return path


def describe_returncode(program: str, returncode: int) -> str:
    if returncode < 0:
        try:
            signame = signal.Signals(-returncode).name
        except ValueError:
            signame = "signal %d" % -returncode
        return "%s was killed by %s" % (program, signame)
    return "%s exited with status %d" % (program, returncode)


def _tail(handle: IO[bytes]) -> str:
    handle.flush()
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - STDERR_TAIL))
    return handle.read().decode("utf-8", "replace").strip()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass


# Seconds: the longest timeout pg_backup and pg_restore accept for a pg_dump, psql or pg_restore
# run (a month is far beyond any real dump; a typo such as 30000000 is refused, not waited for).
MAX_TIMEOUT = 30 * 86400


def seconds_text(seconds: Optional[float]) -> str:
    """``90`` for 90.0 seconds, ``0.5`` for half a second: a number of seconds as a person writes it."""
    if seconds is None:
        return "no"
    return "%d" % seconds if float(seconds).is_integer() else "%g" % seconds


def timeout_problem(timeout: Optional[float]) -> Optional[str]:
    """What is wrong with a timeout of ``timeout`` seconds (None for no limit), or None."""
    if timeout is not None and not 1 <= timeout <= MAX_TIMEOUT:
        return "timeout must be between 1 second and %d (30 days), got %s" % (MAX_TIMEOUT, seconds_text(timeout))
    return None


def read_timeout(value: Any) -> Optional[float]:
    """Seconds of a ``timeout`` option, a duration (``90``, ``"30m"``), or None when it is unset.

    Raises FindingError naming the option when it is no duration or outside 1 second to 30 days
    (MAX_TIMEOUT); a number too large or negative for any duration gets the same bound message.
    """
    if value is None or value == "":
        return None
    try:
        seconds = parse_duration(value)
    except FindingError as exc:
        try:
            if isinstance(value, bool):
                raise ValueError("a boolean") from exc
            seconds = float(value)
        except (TypeError, ValueError, OverflowError):
            raise FindingError("timeout: %s" % exc) from exc
    problem = timeout_problem(seconds)
    if problem:
        raise FindingError(problem)
    return seconds


class _Deadline:
    """Kills the processes when the timeout expires; ``expired`` says whether it did.

    The watcher waits at most a day at a time. One wait for the whole timeout is bounded by the
    platform's ``threading.TIMEOUT_MAX`` (about 292 years on 64-bit Linux, less on others):
    beyond it the thread dies at start and the run has no limit at all.
    """

    def __init__(self, timeout: Optional[float], procs: list[subprocess.Popen]) -> None:
        self.expired = False
        self.cancelled = threading.Event()
        self.end = time.monotonic() + timeout if timeout else None
        self.thread: Optional[threading.Thread] = None
        if self.end is not None:
            self.thread = threading.Thread(target=self._watch, args=(procs,), daemon=True)
            self.thread.start()

    def _watch(self, procs: list[subprocess.Popen]) -> None:
        while self.end is not None and not self.cancelled.is_set():
            left = self.end - time.monotonic()
            if left <= 0:
                self.expired = True
                for proc in procs:
                    _kill(proc)
                return
            self.cancelled.wait(min(left, 86400.0))

    def cancel(self) -> None:
        self.cancelled.set()


def fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sidecar_path(path: str) -> str:
    return path + ".sha256"


def _disk_error(exc: OSError, directory: str, written: int) -> DumpError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DumpError(
            "no space left on the device of %s after %d bytes of backup were written; "
            "the partial file was removed and no backup was written" % (directory, written)
        )
    return DumpError(
        "cannot write the backup in %s: %s; the partial file was removed" % (directory, exc.strerror or exc)
    )


def dump_to_file(
    module: AnsibleModule,
    params: dict[str, Any],
    dbname: str,
    directory: str,
    name: str,
    fmt: str = "plain",
    compression_level: int = 6,
    dump_options: Optional[list[str]] = None,
    timeout: Optional[float] = None,
    mode: int = 0o600,
) -> dict[str, Any]:
    """Dump database ``dbname`` into ``directory/name`` and return what was written.

    ``fmt`` is ``plain`` (SQL, gzipped here in-process) or ``custom`` (pg_dump -Fc, compressed by
    pg_dump). The dump goes into a hidden temporary file in ``directory`` (``.NAME.XXXX.partial``),
    hashed as it is written. Only when pg_dump exited 0 (and, for plain SQL, the stream ends with
    pg_dump's completion marker where pg_dump writes it: see _backup_files.DumpEndScanner) is
    the file fsynced, its ``NAME.sha256`` sidecar (sha256sum
    format) written, the file linked to its final name (never over an existing file) and the
    directory fsynced. Any failure (pg_dump failing or killed, a full disk, a timeout) removes
    the temporary file and raises DumpError: a failed dump never leaves a file that looks like a
    backup.

    Returns ``{path, name, size, sha256, duration, format, sidecar, uncompressed_size}``.
    """
    started = time.monotonic()
    final = os.path.join(directory, name)
    for existing in (final, sidecar_path(final)):
        if os.path.lexists(existing):
            raise DumpError("%s already exists; a backup is never overwritten" % existing)
    pg_dump = find_program(module, params, "pg_dump")
    conninfo, env = client_connection(params, dbname, "stronghold.ops.pg_backup")
    cmd = [pg_dump, "--no-password", "--format=" + ("custom" if fmt == "custom" else "plain")]
    if fmt == "custom":
        cmd.append("--compress=%d" % compression_level)
    cmd += list(dump_options or []) + ["--dbname=" + conninfo]

    try:
        fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".partial", dir=directory)
    except OSError as exc:
        raise DumpError("cannot create a file in %s: %s" % (directory, exc.strerror or exc)) from exc
    sidecar = sidecar_path(final)
    sidecar_written = False
    written = 0
    raw = 0
    digest = hashlib.sha256()
    scanner = DumpEndScanner() if fmt == "plain" else None
    proc = None
    deadline = None
    try:
        with os.fdopen(fd, "wb") as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
                cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, close_fds=True
            )
            deadline = _Deadline(timeout, [proc])
            compressor = zlib.compressobj(compression_level, zlib.DEFLATED, 31) if fmt == "plain" else None
            pipe = cast(IO[bytes], proc.stdout)  # stdout=PIPE
            try:
                while True:
                    chunk = pipe.read(CHUNK)
                    if not chunk:
                        break
                    raw += len(chunk)
                    if scanner is not None:
                        scanner.feed(chunk)
                    if compressor is not None:
                        chunk = compressor.compress(chunk)
                    if chunk:
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                if compressor is not None:
                    chunk = compressor.flush()
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                _kill(proc)
                proc.wait()
                raise _disk_error(exc, directory, written) from exc
            returncode = proc.wait()
            deadline.cancel()
            if deadline.expired:
                raise DumpError(
                    "pg_dump did not finish within %s seconds and was stopped; no backup was written"
                    % seconds_text(timeout)
                )
            if returncode != 0:
                raise DumpError(
                    "%s; no backup was written. pg_dump said: %s"
                    % (describe_returncode("pg_dump", returncode), _tail(err) or "(nothing)")
                )
            if scanner is not None:
                complete, why = scanner.finish()
                if not complete:
                    raise DumpError(
                        "pg_dump exited 0 but its output does not end as a complete dump (%s); no backup was written"
                        % why
                    )
        os.chmod(tmp, mode)
        checksum = digest.hexdigest()
        try:
            _write_sidecar(sidecar, checksum, name, mode)
            sidecar_written = True
            os.link(tmp, final)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise DumpError(
                    "%s appeared while the dump ran; a backup is never overwritten"
                    % (sidecar if not sidecar_written else final)
                ) from exc
            raise _disk_error(exc, directory, written) from exc
        os.unlink(tmp)
        fsync_directory(directory)
    except BaseException:
        if proc is not None:
            _kill(proc)
            proc.wait()
        if deadline is not None:
            deadline.cancel()
        for leftover in [tmp] + ([sidecar] if sidecar_written else []):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        raise
    finally:
        if proc is not None and proc.stdout:
            proc.stdout.close()
    return {
        "path": final,
        "name": name,
        "size": written,
        "uncompressed_size": raw if fmt == "plain" else None,
        "sha256": checksum,
        "sidecar": sidecar,
        "format": fmt,
        "duration": round(time.monotonic() - started, 3),
    }


def _write_sidecar(path: str, checksum: str, name: str, mode: int) -> None:
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("%s  %s\n" % (checksum, name))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        # link, not rename: never over a sidecar that is there already (EEXIST).
        os.link(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def detect_format(path: str) -> str:
    """``gzip`` (plain SQL gzipped), ``custom`` (pg_dump -Fc) or ``plain`` (uncompressed SQL)."""
    with open(path, "rb") as handle:
        head = handle.read(5)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == CUSTOM_MAGIC:
        return "custom"
    return "plain"


def restore_file(
    module: AnsibleModule,
    params: dict[str, Any],
    path: str,
    dbname: str,
    fmt: str = "auto",
    timeout: Optional[float] = None,
    no_owner: bool = True,
) -> dict[str, Any]:
    """Restore the backup ``path`` into the EXISTING database ``dbname``.

    ``fmt``: ``auto`` (from the file's first bytes), ``plain`` (SQL; gzip-compressed or not, told
    by its first bytes), ``gzip`` (the same) or ``custom``. Plain SQL is decompressed here and piped into
    ``psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f -``; a custom dump goes to
    ``pg_restore --exit-on-error --single-transaction [--no-owner]``. Pipefail semantics: a
    decompression error (corrupt or truncated gzip) kills psql before its COMMIT, so the whole
    transaction rolls back, and the result is ``ok: false``; so is any SQL error, psql or
    pg_restore exiting non-zero, or ``timeout`` seconds passing.

    ``params`` holds the collection's connection options (login_host, login_port, login_user,
    login_password, login_unix_socket, ssl_mode, ..., and optionally pg_bin_dir); the password
    goes to the client in PGPASSWORD, never on its command line. ``module`` is used to find the
    client programs on PATH. ``no_owner`` (custom format only) skips ownership commands, for
    scratch restores where the dump's roles may not exist.

    Returns ``{ok, duration, stderr_tail, command, error, format}`` (``format`` as restored:
    ``gzip``, ``plain`` or ``custom``); ``command`` is the argv
    without secrets, ``error`` a one-line reason when not ok. Never raises for a failed restore;
    raises DumpError only when a client program cannot be found.
    """
    started = time.monotonic()
    if fmt not in ("auto", "plain", "gzip", "custom"):
        raise ValueError("fmt must be auto, plain, gzip or custom, got %r" % (fmt,))
    if fmt != "custom":
        try:
            detected = detect_format(path)
        except OSError as exc:
            return {
                "ok": False,
                "duration": 0.0,
                "stderr_tail": "",
                "command": [],
                "format": fmt,
                "error": "cannot read %s: %s" % (path, exc.strerror or exc),
            }
        # plain means SQL, compressed or not (as in _backup_files.verify_stream).
        fmt = detected if fmt == "auto" or detected != "custom" else "plain"
    conninfo, env = client_connection(params, dbname, "stronghold.ops.restore")
    if fmt == "custom":
        program = "pg_restore"
        cmd = [find_program(module, params, "pg_restore"), "--no-password", "--exit-on-error", "--single-transaction"]
        if no_owner:
            cmd.append("--no-owner")
        cmd += ["--dbname=" + conninfo, path]
    else:
        program = "psql"
        cmd = [
            find_program(module, params, "psql"),
            "--no-password",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--dbname=" + conninfo,
            "-f",
            "-",
        ]
    result: dict[str, Any] = {"ok": False, "command": cmd, "format": fmt, "stderr_tail": "", "error": None}
    error = None
    with tempfile.TemporaryFile() as err:
        try:
            source = open(path, "rb")
        except OSError as exc:
            result.update(duration=0.0, error="cannot read %s: %s" % (path, exc.strerror or exc))
            return result
        with source:
            if fmt == "custom":
                proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
                    cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env, close_fds=True
                )
                deadline = _Deadline(timeout, [proc])
            else:
                proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
                    cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, env=env, close_fds=True
                )
                deadline = _Deadline(timeout, [proc])
                error = _feed(source, proc, fmt == "gzip")
                if error:
                    # Killed before its COMMIT: the single transaction rolls back on the server.
                    _kill(proc)
                else:
                    try:
                        cast(IO[bytes], proc.stdin).close()
                    except OSError:
                        pass
            returncode = proc.wait()
            deadline.cancel()
        result["stderr_tail"] = _tail(err)
    result["duration"] = round(time.monotonic() - started, 3)
    if deadline.expired:
        result["error"] = "the restore did not finish within %s seconds and was stopped (rolled back)" % seconds_text(
            timeout
        )
    elif error:
        result["error"] = error
    elif returncode != 0:
        reason = first_error_line(result["stderr_tail"])
        result["error"] = "%s (rolled back)%s" % (
            describe_returncode(program, returncode),
            ": " + reason if reason else "",
        )
    else:
        result["ok"] = True
    return result


def first_error_line(stderr: str) -> str:
    """The line that says what went wrong: psql and pg_restore follow it with LINE and caret lines."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "ERROR:" in line or "FATAL:" in line or "error:" in line:
            return line
    return lines[-1] if lines else ""


def _feed(source: IO[bytes], proc: subprocess.Popen, gzipped: bool) -> Optional[str]:
    """Copy the SQL into psql's stdin; a reason when the input is bad or psql went away early."""
    decompressor = zlib.decompressobj(31) if gzipped else None
    stdin = cast(IO[bytes], proc.stdin)  # stdin=PIPE
    try:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            if decompressor is None:
                stdin.write(chunk)
                continue
            while chunk:
                if decompressor.eof:
                    # A multi-member gzip file: the next member starts after the end of this one.
                    decompressor = zlib.decompressobj(31)
                # Bounded output per call: a highly compressed chunk never fills the memory.
                data = decompressor.decompress(chunk, 4 * CHUNK)
                if data:
                    stdin.write(data)
                chunk = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
        if decompressor is not None:
            data = decompressor.flush()
            if data:
                stdin.write(data)
            if not decompressor.eof:
                return "the gzip stream ends before the end of its last member (truncated or empty backup); the restore was stopped and rolled back"
    except zlib.error as exc:
        return "the gzip stream is corrupt (%s); the restore was stopped and rolled back" % exc
    except BrokenPipeError:
        return None
    except OSError as exc:
        return "cannot read the backup: %s; the restore was stopped and rolled back" % (exc.strerror or exc)
    return None


def admin_db(params: dict[str, Any]) -> str:
    """The database for CREATE/DROP/ALTER DATABASE: O(maintenance_db), default C(postgres)."""
    return params.get("maintenance_db") or "postgres"


def create_database(
    params: dict[str, Any],
    name: str,
    template: str = "template0",
    owner: Optional[str] = None,
    encoding: Optional[str] = None,
    lc_collate: Optional[str] = None,
    lc_ctype: Optional[str] = None,
) -> None:
    """CREATE DATABASE ``name`` from ``template`` (template0 by default, so nothing of template1
    leaks into a restore), optionally with an owner, encoding and locale. Connects through
    _postgres.connect() to the maintenance database (``params['maintenance_db']`` or
    ``postgres``). Raises psycopg errors or PostgresConnectError."""
    parts = [sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))]
    if owner:
        parts.append(sql.SQL("OWNER {}").format(sql.Identifier(owner)))
    if encoding:
        parts.append(sql.SQL("ENCODING {}").format(sql.Literal(encoding)))
    if lc_collate:
        parts.append(sql.SQL("LC_COLLATE {}").format(sql.Literal(lc_collate)))
    if lc_ctype:
        parts.append(sql.SQL("LC_CTYPE {}").format(sql.Literal(lc_ctype)))
    with connect(params, dbname=admin_db(params), application_name="stronghold.ops.restore") as conn:
        conn.execute(sql.SQL(" ").join(parts))


def drop_database(params: dict[str, Any], name: str, force: bool = False) -> None:
    """DROP DATABASE IF EXISTS ``name``; ``force`` adds WITH (FORCE) (PostgreSQL 13+), which
    terminates the sessions still connected to it. Same connection as create_database()."""
    query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    if force:
        query = sql.SQL("{} WITH (FORCE)").format(query)
    with connect(params, dbname=admin_db(params), application_name="stronghold.ops.restore") as conn:
        conn.execute(query)
