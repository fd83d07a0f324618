#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report's trends from a year of kept reports, next to the jq a person would script.

The bench writes, under /tmp (removed at the end, also on Ctrl-C or a failure), a year of kept
run reports as run_report keeps them: --hosts hosts, each with a daily run (365), a weekly (52)
and a monthly (12), every report with the findings of a daily check (three disks, a certificate,
the backup, failed logins, p95, and --filler ok findings of other checks), file times set to
the report's own. Then, alternating, --runs times each:

  T.   the trends of the last 90 days as the run report makes them: read_kept_reports (names
       first, then only the files of the window), series_from_reports (every metric), and one
       SVG chart per series (render_chart_svg), in-process;
  J1.  `find -name '2*.json' | xargs jq` taking ONE metric (disk use) out of every kept report;
  J2.  the same with `find -newermt` limited to the last 90 days (what a careful script does).

The counts are compared: the disk points of T equal the disk values J2 printed. Nothing asserts
a time: the bench prints a Markdown table; the goal (T faster than J2, which does less) is
"met" or "not met".

    .venv/bin/python bench/trends.py [--runs 3] [--hosts 5] [--filler 25]
    (after make venv collection-link)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, ".build", "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report  # noqa: E402
from ansible_collections.stronghold.ops.plugins.module_utils._trends import series_from_reports  # noqa: E402
from ansible_collections.stronghold.ops.plugins.module_utils._trends_read import read_kept_reports  # noqa: E402
from ansible_collections.stronghold.ops.plugins.module_utils._trends_svg import render_chart_svg  # noqa: E402

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)
WINDOW_DAYS = 90
JQ_FILTER = '.generated_at as $t | .findings[] | select(.check == "resources.disk") | [$t, .target, .details.used_percent] | @tsv'


def findings(day, filler):
    """The findings of one report ``day`` days into the year: values that drift as real ones do."""
    found = []
    for index, mount in enumerate(("/", "/var/lib/postgresql", "/var/backups")):
        used = 40 + index * 10 + day * 0.05 + (day % 7)
        found.append(
            {
                "check": "resources.disk",
                "target": mount,
                "severity": "ok",
                "summary": "%s is %.1f%% full" % (mount, used),
                "details": {"used_percent": round(used, 1), "warning": 85, "critical": 95, "fs_type": "ext4"},
            }
        )
    found.append(
        {
            "check": "certificates.endpoint",
            "target": "app.example.test:443",
            "severity": "ok",
            "summary": "expires",
            "details": {"days_remaining": 90 - day % 60, "warning_days": 25, "critical_days": 7, "status": "ok"},
        }
    )
    found.append(
        {
            "check": "backup.verify",
            "target": "/var/backups",
            "severity": "ok",
            "summary": "7 backups",
            "details": {"newest_size": 10**9 + day * 10**6, "newest_age_seconds": 3600 + day % 5 * 60},
        }
    )
    found.append(
        {
            "check": "logs.pattern",
            "target": "failed_logins",
            "severity": "ok",
            "summary": "failed logins",
            "details": {
                "count": day % 9,
                "rate": {"count": 10, "per_seconds": 3600, "severity": "warning"},
                "worst_window": {"count": day % 9, "start": "x", "end": "y", "group": None},
            },
        }
    )
    found.append(
        {
            "check": "logs.access.latency",
            "target": "/var/log/gunicorn/access.log",
            "severity": "ok",
            "summary": "p95",
            "details": {"p95_ms": 120 + day % 30, "p95_warning_ms": 200, "p95_critical_ms": None, "requests": 50000},
        }
    )
    for index in range(filler):
        found.append(
            {
                "check": "health.filler%d" % index,
                "target": "service-%d" % index,
                "severity": "ok",
                "summary": "healthy, answered in 12 ms with the expected body and headers",
                "details": {
                    "status": 200,
                    "elapsed_ms": 12.5,
                    "lines": ["line %d of the output" % n for n in range(8)],
                },
            }
        )
    return found


def write_year(root, hosts, filler):
    """A year of kept reports; returns how many files and bytes."""
    files = size = 0
    for host_index in range(hosts):
        host = "host%02d" % host_index
        for run, every, hour in (("daily", 1, 2), ("weekly", 7, 3), ("monthly", 30, 4)):
            directory = os.path.join(root, host, run)
            os.makedirs(directory)
            for day in range(0, 365, every):
                when = NOW - datetime.timedelta(days=364 - day) + datetime.timedelta(hours=hour - 12)
                report = build_report(findings(day, filler), host, run, "critical", {}, when)
                text = json.dumps(report, indent=2, sort_keys=True) + "\n"
                path = os.path.join(directory, when.strftime("%Y%m%dT%H%M%SZ.json"))
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.utime(path, (when.timestamp(), when.timestamp()))
                files += 1
                size += len(text)
            with open(os.path.join(directory, "latest.json"), "w", encoding="utf-8") as handle:
                handle.write(text)
    return files, size


def ours(root, hosts):
    start = time.monotonic()
    reports, problems = read_kept_reports(
        root, ["host%02d" % i for i in range(hosts)], NOW - datetime.timedelta(days=WINDOW_DAYS)
    )
    series = series_from_reports(reports, NOW)
    charts = [render_chart_svg(s) for s in series]
    wall = time.monotonic() - start
    assert not problems, problems
    disk_points = sum(len(s["points"]) for s in series if s["metric"] == "disk_used")
    return wall, {"reports": len(reports), "series": len(series), "charts": len(charts), "disk_points": disk_points}


def jq(root, window):
    newer = ["-newermt", "@%d" % (NOW - datetime.timedelta(days=WINDOW_DAYS)).timestamp()] if window else []
    command = "find %s -name '2*.json' %s -print0 | xargs -0 jq -r '%s'" % (root, " ".join(newer), JQ_FILTER)
    start = time.monotonic()
    done = subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE, text=True, check=True)
    return time.monotonic() - start, len(done.stdout.splitlines())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--filler", type=int, default=25)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="trends-bench-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        started = time.monotonic()
        files, size = write_year(root, args.hosts, args.filler)
        print(
            "wrote %d kept reports, %.1f MiB, in %.1f s (untimed)" % (files, size / 2**20, time.monotonic() - started)
        )
        times = {"T": [], "J1": [], "J2": []}
        for _run in range(args.runs):
            wall, facts = ours(root, args.hosts)
            times["T"].append(wall)
            wall, all_lines = jq(root, False)
            times["J1"].append(wall)
            wall, window_lines = jq(root, True)
            times["J2"].append(wall)
        med = {k: statistics.median(v) for k, v in times.items()}
        print()
        print("| side | wall (median of %d) | ratio to T |" % args.runs)
        print("| --- | --- | --- |")
        print(
            "| T: read_kept_reports + series_from_reports + render_chart_svg, last %d days, every metric | %.3f s | 1 |"
            % (WINDOW_DAYS, med["T"])
        )
        print(
            "| J1: find + jq, disk use only, every kept report | %.3f s | %.1fx |" % (med["J1"], med["J1"] / med["T"])
        )
        print(
            "| J2: find -newermt + jq, disk use only, last %d days | %.3f s | %.1fx |"
            % (WINDOW_DAYS, med["J2"], med["J2"] / med["T"])
        )
        print()
        print(
            "T read %d reports, made %d series and %d charts; disk points: T %d, J2 %d (%s); J1 printed %d"
            % (
                facts["reports"],
                facts["series"],
                facts["charts"],
                facts["disk_points"],
                window_lines,
                "same" if facts["disk_points"] == window_lines else "DIFFERENT",
                all_lines,
            )
        )
        print("goal: T faster than J2: %s" % ("met" if med["T"] < med["J2"] else "not met"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
