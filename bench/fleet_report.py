# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of 200 hosts by 60 checks, next to the jq a person would script for the matrix.

The bench writes, under /tmp (removed at the end, also on a failure), the latest per-host run
reports of --hosts hosts with --checks findings each (severities spread over ok, info, warning,
critical; details with a few values and lines of output), as run_report writes them. Then,
alternating, --runs times each:

  F.  what fleet_report does in-process, from the same files: read every latest.json, validate
      the host entries (normalise_hosts), build the document, render the Markdown summary and the
      HTML page, and serialise the JSON document (trends left out: bench/trends.py times them);
  J.  `jq -rs` over the same files printing the host-by-check matrix as TSV (worst severity of
      each host and check), the core of what a person would script, with no page, no summary
      and no escaping.

Goals: F renders in well under a second (under 1 s here), and F, which does far more, stays
within 2x of J. Nothing asserts a time: the bench prints a Markdown table and "met"/"not met".

    .venv/bin/python bench/fleet_report.py [--runs 5] [--hosts 200] [--checks 60]
    (after make venv collection-link; needs jq)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, ".build", "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_html import render_page  # noqa: E402
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import (  # noqa: E402
    build_fleet_report,
    read_hosts,
    render_markdown,
)
from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report  # noqa: E402

NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=datetime.timezone.utc)
SEVERITIES = ("ok", "ok", "ok", "info", "warning", "critical")
JQ_MATRIX = (
    '{"ok":0,"info":1,"warning":2,"critical":3} as $rank | .[] | .host as $h'
    " | (.findings | group_by(.check) | map({check: .[0].check, worst: (map(.severity) | max_by($rank[.]))}))[]"
    " | [$h, .check, .worst] | @tsv"
)


def write_latest(root, hosts, checks):
    paths = []
    for h in range(hosts):
        host = "host%03d.example.com" % h
        found = [
            {
                "check": "area%02d.check" % c,
                "target": "/srv/target-%d" % c,
                "severity": SEVERITIES[(h * 7 + c) % len(SEVERITIES)],
                "summary": "measured %d in 12 ms, as expected for this check" % c,
                "details": {"value": c, "elapsed_ms": 12.5, "lines": ["line %d of the output" % n for n in range(4)]},
            }
            for c in range(checks)
        ]
        directory = os.path.join(root, host, "daily")
        os.makedirs(directory)
        path = os.path.join(directory, "latest.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(build_report(found, host, "daily", "critical", {}, NOW), handle, indent=2, sort_keys=True)
        paths.append(path)
    return paths


def ours(paths, root):
    start = time.monotonic()
    entries = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        entries.append(
            {"host": document["host"], "status": "ok", "findings": document["findings"], "reports": {"json": path}}
        )
    report = build_fleet_report(read_hosts(entries), [], "daily", "critical", {}, None, NOW)
    directory = os.path.join(root, "_fleet", "daily")
    markdown = render_markdown(report, directory)
    page = render_page(report, [], directory)
    text = json.dumps(report, sort_keys=True, default=str, separators=(",", ":"))
    wall = time.monotonic() - start
    cells = sum(len(row["cells"]) for row in report["matrix"]["rows"])
    return wall, cells, len(page), len(markdown), len(text)


def jq(paths):
    start = time.monotonic()
    done = subprocess.run(["jq", "-rs", JQ_MATRIX] + paths, stdout=subprocess.PIPE, check=True, text=True)
    return time.monotonic() - start, len(done.stdout.splitlines())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--checks", type=int, default=60)
    args = parser.parse_args()
    if not shutil.which("jq"):
        raise SystemExit("jq is needed (apt-get install jq)")
    root = tempfile.mkdtemp(prefix="bench-fleet-report.")
    try:
        paths = write_latest(root, args.hosts, args.checks)
        f_times, j_times = [], []
        for _run in range(args.runs):
            wall, cells, page_size, md_size, json_size = ours(paths, root)
            f_times.append(wall)
            wall, rows = jq(paths)
            j_times.append(wall)
        if cells != rows:
            raise SystemExit("the matrix differs: %d cells, jq printed %d rows" % (cells, rows))
        f, j = statistics.median(f_times), statistics.median(j_times)
        print("| %d hosts x %d checks, median of %d runs | wall |" % (args.hosts, args.checks, args.runs))
        print("| --- | --- |")
        print("| F. fleet_report in-process (read, build, Markdown, HTML, JSON) | %.3f s |" % f)
        print("| J. jq -rs: the matrix as TSV | %.3f s |" % j)
        print("| F / J | %.2fx |" % (f / j))
        print()
        print(
            "Cells: %d (jq rows: %d). Page %.1f MiB, Markdown %.1f KiB, JSON %.1f MiB."
            % (cells, rows, page_size / 2**20, md_size / 2**10, json_size / 2**20)
        )
        print(
            "Goal F < 1 s: %s. Goal F within 2x of J: %s."
            % ("met" if f < 1 else "not met", "met" if f <= 2 * j else "not met")
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
