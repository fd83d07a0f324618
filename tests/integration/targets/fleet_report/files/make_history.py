# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write 14 days of kept per-host run reports under REPORT_DIR, as run_report writes them.

    python3 make_history.py REPORT_DIR

One daily report per host and day (06:00 UTC, the newest yesterday), each document built by
_report.build_report and written as _report.plan_write renders it (the run_report module's own
code), with findings shaped like the check modules' details, so that _trends draws:

* web1: disk use of / rising from 60 % to 86 % (a forecast), p95 response time rising from 120 ms
  to 330 ms, the days left of a certificate counting down;
* web2: ERROR matches per hour (logs.pattern with a rate), disk use of / flat at 41 %;
* db1: backup size and age, dead tuples before and after maintenance, disk use flat at 45 %.

Plus a damaged kept report of web2 (cut JSON), which fleet_report must name in an info finding.
Prints, as JSON: the hosts' latest findings (today's, for the fleet_report call), the number of
series expected and the series expected to be getting worse.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone


def collections_root(path):
    """The directory above ansible_collections/, found from this file's own path."""
    parts = os.path.abspath(path).split(os.sep)
    index = len(parts) - 1 - parts[::-1].index("ansible_collections")
    return os.sep.join(parts[:index]) or os.sep


sys.path.insert(0, collections_root(__file__))

from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report, plan_write  # noqa: E402

DAYS = 14


def finding(check, target, severity, summary, details):
    return {"check": check, "target": target, "severity": severity, "summary": summary, "details": details}


def level(value, warning, critical):
    return "critical" if value > critical else "warning" if value > warning else "ok"


def web1(day):
    """day 0 is the oldest report, DAYS the run of today."""
    used = 60.0 + day * 1.85
    p95 = 120.0 + day * 15
    days_left = 40 - day
    return [
        finding("health.http", "http://127.0.0.1:8000/api/v1/health/", "ok", "answered 200 in 31 ms", {"status": 200}),
        finding(
            "resources.disk",
            "/",
            level(used, 85, 95),
            "/ is %.1f %% used" % used,
            {
                "used_percent": round(used, 2),
                "warning": 85,
                "critical": 95,
                "forecast": {"percent_per_day": 1.85, "days_to_full": round((100 - used) / 1.85, 1)},
            },
        ),
        finding(
            "logs.access.latency",
            "/var/log/nginx/access.log",
            level(p95, 250, 500),
            "p95 %d ms" % p95,
            {"p95_ms": p95, "p95_warning_ms": 250, "p95_critical_ms": 500, "requests": 1200 + day},
        ),
        finding(
            "certificates.endpoint",
            "app.example.com:443",
            "warning" if days_left < 30 else "ok",
            "expires in %d days" % days_left,
            {"days_remaining": days_left, "warning_days": 30, "critical_days": 7, "subject": "CN=app.example.com"},
        ),
    ]


def web2(day):
    matches = 2 + (day % 3)
    return [
        finding(
            "logs.pattern",
            "ERROR",
            "ok",
            "%d matches in the worst hour" % matches,
            {
                "matches": matches * 5,
                "rate": {"count": 10, "per_seconds": 3600, "severity": "warning"},
                "worst_window": {"count": matches, "start": "2026-12-01T10:00:00Z"},
                "sample": ["ERROR <script>alert(1)</script> in /api/v1/orders", "ERROR db timeout"],
            },
        ),
        finding("resources.disk", "/", "ok", "/ is 41.0 % used", {"used_percent": 41.0, "warning": 85, "critical": 95}),
    ]


def db1(day):
    size = 50_000_000 + day * 250_000
    return [
        finding(
            "backup.verify",
            "/var/backups/postgres",
            "ok",
            "newest backup 5 h old",
            {"newest_size": size, "newest_age_seconds": 5 * 3600 + (day % 2) * 600, "count": 7},
        ),
        finding(
            "postgres.vacuum",
            "financial_stronghold",
            "ok",
            "vacuumed 3 tables",
            {"n_dead_tup_before": 12000 + (day % 4) * 500, "n_dead_tup_after": 150, "tables": 3},
        ),
        finding(
            "resources.disk",
            "/var/lib/postgresql",
            "ok",
            "/var/lib/postgresql is 45.0 % used",
            {"used_percent": 45.0, "warning": 85, "critical": 95},
        ),
    ]


HOSTS = {"web1": web1, "web2": web2, "db1": db1}


def main():
    report_dir = sys.argv[1]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = now.replace(hour=6, minute=0, second=0)
    if today > now - timedelta(minutes=1):
        today -= timedelta(days=1)
    for host, make in HOSTS.items():
        directory = os.path.join(report_dir, host, "daily")
        os.makedirs(directory, exist_ok=True)
        for day in range(DAYS):
            when = today - timedelta(days=DAYS - 1 - day)
            report = build_report(make(day), host, "daily", "critical", {"playbook": "daily.yml"}, when)
            plan = plan_write(report, directory, os.listdir(directory), ["json", "markdown"], 0, when)
            for kind, text in plan["documents"].items():
                for path in (plan["paths"][kind], plan["paths"]["latest_" + kind]):
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(text)
    damaged = os.path.join(
        report_dir, "web2", "daily", (today - timedelta(hours=3)).strftime("%Y%m%dT%H%M%SZ") + ".json"
    )
    with open(damaged, "w", encoding="utf-8") as handle:
        handle.write('{"schema": "stronghold.ops/run-report/v1", "findings": [')
    json.dump(
        {
            "findings": {host: make(DAYS) for host, make in HOSTS.items()},
            "damaged": damaged,
            # web1: disk, p95, certificate; web2: log rate, disk; db1: backup size and age,
            # dead tuples before and after, disk.
            "series": 10,
            "worsening": ["disk_used|web1|/", "p95_response|web1|/var/log/nginx/access.log"],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
