#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""log_scan of the last 24 h against `grep -c` / `zgrep -c`, on a 2 GiB log of 30 days plus 5 rotated .gz files.

The data (generated under /tmp, deleted at the end whatever happens):

  * app.log: about 2 GiB in the Django/Python logging format (`2026-12-05 09:21:10,177 INFO ...`),
    30 days ending at the bench's `until`, about 400 lines a minute: INFO lines, failed logins
    (`security_event=failed_login username="..." client_ip=...`) from a few users and addresses,
    and ERROR records with a 7-line traceback under them. Minutes differ (8 variants), so the
    counts are not a multiple of one block.
  * app.log.1.gz .. app.log.5.gz: the five periods before, each --gz-mib MiB uncompressed (gzip -1),
    with their mtime at the end of their period (as logrotate leaves them).

Sides, alternating, --runs times each, files in the page cache (read once before, untimed):

  * grep: what ops type, one `LC_ALL=C grep -c -E PATTERN app.log` per pattern and one
    `LC_ALL=C zgrep -c -E PATTERN app.log.N.gz` per pattern and archive (the fastest grep locale).
  * log_scan: the module process alone (`python -m ...log_scan args.json`, what AnsiballZ runs),
    since 24h, until fixed, the same patterns, peak RSS from wait4; and once through
    ansible-playbook, for the wall time a user sees (Ansible's start-up included).

Counts: the module counts the window, grep the whole files. To prove the counts the same, grep
also runs, untimed, over exactly the window: `tail -c +OFFSET app.log | grep -c`, where OFFSET
is the byte where the window's first minute starts (recorded by the generator; the window
starts on a minute boundary and no line is stamped exactly on it). Three patterns: ERROR lines
and failed logins are one line per record, so records = grep's lines; `Traceback` with
`mode: lines` (grep's own counting); and `ValueError` (the traceback's last line) in records mode,
one per record.

Goals (issue 12): at least 20x faster than grep, counts identical, module peak RSS under 64 MiB.
Nothing here asserts a time: it prints a Markdown table and exits 0 when it could measure.

    .venv/bin/python bench/log_scan.py [--runs 3] [--gib 2] [--gz-mib 256]   (after make collection-link)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import playbook_env, timed_playbook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".build", "collections")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
MINUTE_MARK = "@@@@@@@@@@@@@@@@"  # replaced by "YYYY-MM-DD HH:MM" for each minute
USERS = ["ops", "admin", "root", "jdoe", "backup"]
IPS = ["127.0.0.1", "10.0.0.7", "192.0.2.44", "198.51.100.9"]
PATTERNS = [
    {"name": "errors", "regex": r"^\S+ \S+ ERROR ", "mode": "records"},
    {
        "name": "failed_logins",
        "regex": r'security_event=failed_login username="(?P<user>[^"]*)" client_ip=(?P<ip>\S+)',
        "mode": "records",
        "group_by": "ip",
        "rate": {"count": 10, "per": "1h"},
    },
    {"name": "traceback_lines", "regex": r"^Traceback \(most recent call last\)", "mode": "lines"},
    {"name": "value_errors", "regex": r"^ValueError: ", "mode": "records"},
]
# The same patterns for grep -E (POSIX classes instead of \S, no named groups).
GREP = {
    "errors": r"^[^ ]+ [^ ]+ ERROR ",
    "failed_logins": r'security_event=failed_login username="[^"]*" client_ip=[^ ]+',
    "traceback_lines": r"^Traceback \(most recent call last\)",
    "value_errors": r"^ValueError: ",
}
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/opt/venv/lib/python3.11/site-packages/django/core/handlers/exception.py", line 55, in inner\n'
    "    response = get_response(request)\n"
    '  File "/app/core/views.py", line 91, in account_transactions\n'
    '    limit = int(request.GET.get("limit", "20"))\n'
    "ValueError: invalid literal for int() with base 10: 'all'\n"
)


def log(message):
    print(message, file=sys.stderr, flush=True)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


def minute_template(variant, lines_per_minute):
    """One minute of log, with MINUTE_MARK where the minute goes; variants differ in their mix."""
    out = []
    for index in range(lines_per_minute):
        second = index * 60.0 / lines_per_minute + 0.0105  # never exactly on the minute
        stamp = "%s:%02d,%03d" % (MINUTE_MARK, int(second), int(second * 1000) % 1000)
        if index % 97 == variant:
            out.append(
                "%s ERROR django.request [pid %d] Internal Server Error: /api/v1/accounts/%d/transactions/\n%s"
                % (stamp, 17 + variant % 2, index, TRACEBACK)
            )
        elif index % (53 + variant) == 0:
            out.append(
                '%s WARNING security [pid 18] security_event=failed_login username="%s" client_ip=%s '
                "reason=invalid_credentials\n" % (stamp, USERS[(index + variant) % 5], IPS[(index * 7 + variant) % 4])
            )
        elif index % 11 == 0:
            out.append("%s WARNING django.request [pid 17] Unauthorized: /api/v1/auth/login/\n" % stamp)
        else:
            out.append(
                "%s INFO core [pid 1] recomputed balances: %d account(s) changed in %d ms\n"
                % (stamp, index % 7, 10 + index % 120)
            )
    return "".join(out)


def write_period(path, first_minute, minutes, lines_per_minute, compressed, offsets=None):
    """Write `minutes` minutes of log starting at epoch minute `first_minute`; mtime at the end."""
    templates = [minute_template(v, lines_per_minute) for v in range(8)]
    opener = (lambda p: gzip.open(p, "wb", compresslevel=1)) if compressed else (lambda p: open(p, "wb"))
    written = 0
    with opener(path) as handle:
        for index in range(minutes):
            epoch = (first_minute + index) * 60
            if offsets is not None:
                offsets[epoch] = written
            block = templates[index % 8].replace(MINUTE_MARK, time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch)))
            data = block.encode()
            handle.write(data)
            written += len(data)
    end = (first_minute + minutes) * 60
    os.utime(path, (end, end))
    return written


def run_module(args_path):
    """(wall seconds, peak RSS KiB, result) of the module process alone."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    start = time.monotonic()
    child = subprocess.Popen(
        [PYTHON, "-m", "ansible_collections.stronghold.ops.plugins.modules.log_scan", args_path],
        env=env,
        stdout=subprocess.PIPE,
        cwd="/",
    )
    output = child.stdout.read()
    dummy, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    result = json.loads(output)
    if child.returncode != 0 or result.get("failed"):
        raise SystemExit("log_scan failed: %s" % result.get("msg"))
    return wall, usage.ru_maxrss, result


def run_grep(files):
    """(wall seconds, those of grep on the plain file, counts per pattern): one grep -c / zgrep -c per pattern and file."""
    env = dict(os.environ, LC_ALL="C")
    counts = {}
    plain = 0.0
    start = time.monotonic()
    for name, regex in GREP.items():
        total = 0
        for path in files:
            tool = "zgrep" if path.endswith(".gz") else "grep"
            began = time.monotonic()
            done = subprocess.run([tool, "-c", "-E", regex, path], env=env, capture_output=True, text=True, check=False)
            if tool == "grep":
                plain += time.monotonic() - began
            if done.returncode not in (0, 1):
                raise SystemExit("%s failed: %s" % (tool, done.stderr))
            total += int(done.stdout.strip() or 0)
        counts[name] = total
    return time.monotonic() - start, plain, counts


def window_counts(path, offset):
    """grep -c over exactly the window: the bytes from the window's first minute on."""
    env = dict(os.environ, LC_ALL="C")
    counts = {}
    for name, regex in GREP.items():
        done = subprocess.run(
            "tail -c +%d %s | grep -c -E '%s'" % (offset + 1, path, regex.replace("'", "'\\''")),
            shell=True,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        counts[name] = int(done.stdout.strip() or 0)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gib", type=float, default=2.0, help="size of the live log")
    parser.add_argument("--gz-mib", type=int, default=256, help="uncompressed size of each rotated archive")
    parser.add_argument("--days", type=int, default=30)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)
    root = tempfile.mkdtemp(prefix="stronghold-bench-logscan-", dir="/tmp")
    try:
        bench(root, options)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench(root, options):
    minutes = options.days * 1440
    sample = minute_template(0, 400).encode()
    lines_per_minute = max(10, int(400 * options.gib * 2**30 / minutes / len(sample)))
    until_minute = int(time.time() // 60)
    until = until_minute * 60
    first = until_minute - minutes
    live = os.path.join(root, "app.log")
    offsets = {}
    log(
        "generating %s (%.2f GiB, %d lines a minute over %d days)" % (live, options.gib, lines_per_minute, options.days)
    )
    started = time.monotonic()
    size = write_period(live, first, minutes, lines_per_minute, False, offsets)
    archives = []
    gz_minutes = max(60, int(options.gz_mib * 2**20 / (size / minutes)))
    for number in range(1, 6):
        path = os.path.join(root, "app.log.%d.gz" % number)
        write_period(path, first - number * gz_minutes, gz_minutes, lines_per_minute, True)
        archives.append(path)
    log("generated in %.0f s" % (time.monotonic() - started))
    window_start = until - 86400
    offset = offsets[window_start]
    args = {
        "paths": [live],
        "since": "24h",
        "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until)),
        "patterns": [dict(p, last=10) for p in PATTERNS],
    }
    args_path = os.path.join(root, "args.json")
    with open(args_path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    files = [live] + archives
    for path in files:  # into the page cache, untimed
        with open(path, "rb") as handle:
            while handle.read(8 << 20):
                pass
    expected = window_counts(live, offset)
    grep_times, plain_times, module_times, rss = [], [], [], []
    result = grep_counts = None
    for run in range(options.runs):
        order = ("module", "grep") if run % 2 == 0 else ("grep", "module")
        for side in order:
            if side == "module":
                wall, peak, result = run_module(args_path)
                module_times.append(wall)
                rss.append(peak)
            else:
                wall, plain, grep_counts = run_grep(files)
                grep_times.append(wall)
                plain_times.append(plain)
        log("run %d: module %.2f s, grep %.2f s" % (run + 1, module_times[-1], grep_times[-1]))
    playbook = os.path.join(root, "play.yml")
    with open(playbook, "w") as handle:
        json.dump(
            [
                {
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {"stronghold.ops.log_scan": args, "register": "scan"},
                        {"ansible.builtin.debug": {"msg": {"files": "{{ scan.files }}"}}},
                    ],
                }
            ],
            handle,
        )
    play_wall, dummy = timed_playbook(playbook, root, playbook_env(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS))
    counts = {name: entry["count"] for name, entry in result["patterns"].items()}
    module_median, grep_median = statistics.median(module_times), statistics.median(grep_times)
    ratio = grep_median / module_median
    peak_mib = max(rss) / 1024.0
    live_report = [f for f in result["files"] if f["role"] == "live"][0]
    print("## log_scan bench\n")
    print(
        "Live log %.2f GiB (%d lines a minute, %d days), 5 archives of %d MiB uncompressed (%s MiB gzipped); "
        "window 24 h = %.1f MiB of the live log; %d runs per side, medians.\n"
        % (
            size / 2**30,
            lines_per_minute,
            options.days,
            options.gz_mib,
            "/".join("%.0f" % (os.path.getsize(a) / 2**20) for a in archives),
            (size - offset) / 2**20,
            options.runs,
        )
    )
    print("| side | wall (median) | ratio | goal |")
    print("| --- | --- | --- | --- |")
    print("| grep -c + zgrep -c, %d patterns | %.2f s | 1 | - |" % (len(GREP), grep_median))
    met = "met" if ratio >= 20 else "not met"
    print("| log_scan, module process | %.2f s | **%.1fx faster (%s)** | >= 20x |" % (module_median, ratio, met))
    print(
        "| log_scan through ansible-playbook (once) | %.2f s | %.1fx faster | - |"
        % (play_wall, grep_median / play_wall)
    )
    plain_median = statistics.median(plain_times)
    print(
        "| (within the grep side: grep -c on the plain file alone) | %.2f s | %.1fx (module against it) | - |"
        % (plain_median, plain_median / module_median)
    )
    print()
    print("| pattern | log_scan (window) | grep -c over the window | grep -c over everything |")
    print("| --- | --- | --- | --- |")
    same = True
    for name in GREP:
        same = same and counts[name] == expected[name]
        print("| %s | %d | %d | %d |" % (name, counts[name], expected[name], grep_counts[name]))
    print()
    print("Counts identical: **%s**." % ("yes" if same else "NO"))
    print(
        "Module peak RSS: **%.1f MiB** (%s, goal < 64 MiB). Bytes read from the live log: %d of %d (%.2f %%); "
        "archives opened: %s."
        % (
            peak_mib,
            "met" if peak_mib < 64 else "not met",
            live_report["bytes_read"],
            live_report["size"],
            100.0 * live_report["bytes_read"] / live_report["size"],
            ", ".join(
                "%s %s" % (os.path.basename(f["path"]), f["skipped_reason"] or "read")
                for f in result["files"]
                if f["role"] == "rotated"
            )
            or "none",
        )
    )
    print("Worst window of failed logins: %s" % json.dumps(result["patterns"]["failed_logins"]["worst_window"]))


if __name__ == "__main__":
    main()
