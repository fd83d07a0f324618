# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real log files for the log_scan integration target, and what the module must find in them.

    make_logs.py main DIR UNTIL       rotated family, edges, tracebacks, security, access, Berlin
    make_logs.py big PATH UNTIL MIB   a file of MIB MiB (one record a second, repeated blocks)
    make_logs.py rotating DIR UNTIL   the two files the watcher rotates and truncates mid-scan
    make_logs.py watch DIR SECONDS    wait until a process holds DIR/app.log open, then rename it
                                      (logrotate create) and truncate DIR/trunc.log (copytruncate)

Every command prints the expected results as JSON (UNTIL is epoch seconds; the window is
(UNTIL - 1h, UNTIL]); the expected counts are computed here from the records written, not
copied from the module.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/opt/venv/lib/python3.11/site-packages/django/core/handlers/exception.py", line 55, in inner\n'
    "    response = get_response(request)\n"
    '  File "/app/core/views.py", line 91, in account_transactions\n'
    '    limit = int(request.GET.get("limit", "20"))\n'
    "ValueError: ERROR invalid literal for int() with base 10: 'all'\n"
)


def stamp(epoch, fmt="python"):
    whole = int(epoch)
    millis = int(round((epoch - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    if fmt == "python":
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + ",%03d" % millis
    if fmt == "gunicorn":
        return time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime(whole))
    raise ValueError(fmt)


def record(epoch, kind):
    if kind == "error":
        return "%s ERROR django.request [pid 18] Internal Server Error: /api/v1/accounts/1/\n%s" % (
            stamp(epoch),
            TRACEBACK,
        )
    return "%s INFO core [pid 1] recomputed balances: 0 account(s) changed in 10 ms\n" % stamp(epoch)


def write(path, records, mtime, compressed=False):
    data = "".join(record(t, k) for t, k in records).encode()
    if compressed:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        with open(path, "wb") as handle:
            handle.write(data)
    os.utime(path, (mtime, mtime))


def family(first, last):
    """A record every 10 s; every minute's :30 record is an ERROR with its traceback."""
    out = []
    second = first
    while second < last:
        out.append((float(second), "error" if second % 60 == 30 else "info"))
        second += 10
    return out


def main_case(directory, until):
    start = until - 3600
    app = os.path.join(directory, "app.log")
    old = family(until - 9000, until - 5400)
    crossing = family(until - 5400, until - 3000)
    rotated = family(until - 3000, until - 1800)
    live = family(until - 1800, until + 600)
    # The edges: exactly the start is outside (the window is start-exclusive), a millisecond
    # later is inside; exactly the end is inside, a millisecond later outside.
    crossing += [(start - 0.001, "error"), (start, "error"), (start + 0.001, "error")]
    crossing.sort()
    live += [(until, "error"), (until + 0.001, "error")]
    live.sort()
    # A corrupt archive whose mtime is before the window: opening it would be a finding.
    with open(app + ".4.gz", "wb") as handle:
        handle.write(b"\x1f\x8b" + b"not really gzip" * 100)
    os.utime(app + ".4.gz", (until - 7200, until - 7200))
    write(app + "-20261205.gz", old + crossing, until - 3000, compressed=True)
    write(app + ".1", rotated, until - 1800)
    write(app, live, until + 600)
    every = old + crossing + rotated + live
    inside = [(t, k) for t, k in every if start < t <= until]
    errors = sum(1 for t, k in inside if k == "error")
    expected = {
        "errors": errors,
        "error_lines": 2 * errors,  # the ERROR line and the traceback's last line
        "tracebacks": errors,
        "last_error": stamp(max(t for t, k in inside if k == "error")),
        # For the second of two runs with state_path: (until - 30 min, until].
        "errors_second_half": sum(1 for t, k in every if k == "error" and until - 1800 < t <= until),
    }
    # Security events: 11 failed logins of ops from 10.0.0.7 within 50 minutes (above 10 an hour),
    # 10 of admin from 10.0.0.8 within 30 minutes (not above), 5 of ops before the window.
    lines = []
    for index in range(5):
        lines.append((start - 600 + index, "ops", "10.0.0.7"))
    for index in range(11):
        lines.append((start + 300 + index * 300, "ops", "10.0.0.7"))
    for index in range(10):
        lines.append((start + 600 + index * 180, "admin", "10.0.0.8"))
    lines.sort()
    with open(os.path.join(directory, "security.log"), "w") as handle:
        for epoch, user, address in lines:
            handle.write(
                '%s WARNING security [pid 18] security_event=failed_login username="%s" client_ip=%s '
                "reason=invalid_credentials\n" % (stamp(epoch), user, address)
            )
    os.utime(os.path.join(directory, "security.log"), (until, until))
    expected["failed_logins"] = 21
    expected["failed_logins_worst"] = {"count": 11, "group": "10.0.0.7", "start": start + 300, "end": start + 3300}
    # Access log (gunicorn, request time in microseconds): 20 requests before the window, then
    # 100 in it, 7 of them 5xx, 90 answered in 50 ms and 10 in 300 ms.
    with open(os.path.join(directory, "access.log"), "w") as handle:
        for index in range(120):
            epoch = start - 200 + index * 10 if index < 20 else start + 1 + (index - 20) * 30
            status = 503 if index >= 20 and index % 15 == 0 else (500 if index < 20 else 200)
            micros = 300000 if index >= 20 and index % 10 == 5 else 50000
            handle.write(
                '127.0.0.1 - - %s "GET /api/v1/accounts/?page=%d HTTP/1.1" %d 512 "-" "python-requests/2.32" %d\n'
                % (stamp(epoch, "gunicorn"), index, status, micros)
            )
    os.utime(os.path.join(directory, "access.log"), (until, until))
    statuses = [503 if i % 15 == 0 else 200 for i in range(20, 120)]
    expected["access"] = {"requests": 100, "errors_5xx": sum(1 for s in statuses if s == 503)}
    # A strptime format in Berlin local time (UTC+1 in December): 30 records a minute apart in
    # the window's last half hour. Read as UTC they would all be an hour late, past the window.
    with open(os.path.join(directory, "berlin.log"), "w") as handle:
        for index in range(30):
            epoch = until - 29 * 60 + index * 60
            local = time.gmtime(epoch + 3600)
            handle.write("%s app: tick %d\n" % (time.strftime("%d.%m.%Y %H:%M:%S", local), index))
    os.utime(os.path.join(directory, "berlin.log"), (until, until))
    expected["berlin"] = 30
    return expected


def big(path, until, mib):
    """MIB MiB of one record a second ending at UNTIL, an ERROR at :00 of every other minute.

    Written as minute blocks from two templates (the minute put in by str.replace), so a GiB
    takes seconds, not the minutes a format call per line would.
    """
    mark = "@@@@@@@@@@@@@@@@"
    templates = []
    for with_error in (False, True):
        lines = []
        for second in range(60):
            kind = "error" if with_error and second == 0 else "info"
            lines.append(record(0, kind).replace(stamp(0)[:16], mark, 1).replace(":00,000", ":%02d,000" % second, 1))
        templates.append("".join(lines))
    minutes = int(mib * 2**20 / len(templates[0].encode()))
    first = (until // 60 - minutes) * 60
    errors_at = []
    with open(path, "wb") as handle:
        for index in range(minutes):
            minute = first + index * 60
            with_error = (minute // 60) % 2 == 0
            if with_error:
                errors_at.append(minute)
            prefix = time.strftime("%Y-%m-%d %H:%M", time.gmtime(minute))
            handle.write(templates[with_error].replace(mark, prefix).encode())
    last = first + minutes * 60 - 1
    os.utime(path, (last, last))
    start = last - 3600
    return {
        "size": os.path.getsize(path),
        "errors": sum(1 for t in errors_at if start < t <= last),
        "until": last,
    }


def rotating(directory, until):
    """app.log.1 (about 90 MB in the window, so the scan takes a while), app.log (renamed mid-scan)
    and trunc.log (truncated mid-scan), with their counts: ERROR records in the app family,
    WARNING records in trunc.log."""
    start = until - 3600
    mark = "@@@@@@@@@@@@@@@@"
    per_second = 300
    lines = []
    for second in range(60):
        for part in range(per_second):
            kind = "error" if part % 100 == 0 else "info"
            text = record(0, kind).replace(stamp(0)[:16], mark, 1)
            lines.append(text.replace(":00,000", ":%02d,%03d" % (second, part * 3), 1))
    template = "".join(lines)
    errors_per_minute = 60 * per_second // 100
    app = os.path.join(directory, "app.log")
    with open(app + ".1", "wb") as handle:
        for minute in range(start + 60, start + 3060, 60):
            handle.write(template.replace(mark, time.strftime("%Y-%m-%d %H:%M", time.gmtime(minute))).encode())
    os.utime(app + ".1", (start + 3060, start + 3060))
    live = family(start + 3060, until)
    write(app, live, until)
    out = []
    for second in range(start + 1, until, 5):
        out.append("%s WARNING core [pid 2] disk almost full\n" % stamp(second))
    with open(os.path.join(directory, "trunc.log"), "w") as handle:
        handle.write("".join(out))
    os.utime(os.path.join(directory, "trunc.log"), (until, until))
    return {
        "errors": 50 * errors_per_minute + sum(1 for t, k in live if k == "error"),
        "warnings": len(out),
    }


def holder_of(path):
    """A Python process (other than us) holding `path` open, or None."""
    target = os.stat(path)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if b"python" not in handle.read():
                    continue
        except OSError:
            continue
        fd_dir = "/proc/%s/fd" % pid
        try:
            for fd in os.listdir(fd_dir):
                try:
                    info = os.stat(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
                    return int(pid)
        except OSError:
            continue
    return None


def watch(directory, seconds):
    app = os.path.join(directory, "app.log")
    trunc = os.path.join(directory, "trunc.log")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = holder_of(app)
        if pid is not None:
            # logrotate "create": .1 -> .2, live -> .1, a new live file.
            os.rename(app + ".1", app + ".2")
            os.rename(app, app + ".1")
            with open(app, "w") as handle:
                handle.write(record(time.time() + 86400, "error"))
            # logrotate "copytruncate" without the copy: the file is emptied under the reader.
            os.truncate(trunc, 0)
            with open(trunc, "a") as handle:
                handle.write("%s WARNING core [pid 2] after the truncation\n" % stamp(time.time() + 86400))
            still = holder_of(app + ".1") == pid
            return {"acted": True, "pid": pid, "reader_still_open": still}
        time.sleep(0.002)
    return {"acted": False}


def run():
    command = sys.argv[1]
    if command == "main":
        result = main_case(sys.argv[2], int(sys.argv[3]))
    elif command == "big":
        result = big(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif command == "rotating":
        result = rotating(sys.argv[2], int(sys.argv[3]))
    elif command == "watch":
        result = watch(sys.argv[2], float(sys.argv[3]))
        with open(os.path.join(sys.argv[2], "watch.json"), "w") as handle:
            json.dump(result, handle)
    else:
        raise SystemExit("unknown command %r" % command)
    print(json.dumps(result))


if __name__ == "__main__":
    run()
