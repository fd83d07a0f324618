#!/usr/bin/env python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What arrived at the receivers after each run of runme.sh, and what the run reports say.

check.py <work dir> <step>: exits non-zero with every failed expectation listed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys

WORK = sys.argv[1]
STEP = sys.argv[2]
SECRET = b"s3cret-webhook-key"
PASSWORD = "s3cret-smtp-password"
ONCALL = "oncall@example.test"
DEVOPS = "devops@example.test"
TITLE = "Financial Stronghold Alert"
problems: list[str] = []


def expect(condition: bool, what: str) -> None:
    if not condition:
        problems.append(what)


def lines(name: str) -> list[dict]:
    path = os.path.join(WORK, "recv", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def text(name: str) -> str:
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def rc() -> int:
    return int(text("%s.rc" % STEP).strip() or -1)


def fleet() -> dict:
    with open(os.path.join(WORK, "reports", "_fleet", "alerts", "latest.json"), encoding="utf-8") as handle:
        return json.load(handle)


def fleet_findings(report: dict) -> list[dict]:
    """Every finding of the run report, whatever its layout: (host, finding) pairs as dicts."""
    found = []
    for finding in report.get("run_findings", []):
        found.append(dict(finding, host="(run)"))
    for entry in report.get("hosts", []):
        for finding in entry.get("findings", []):
            found.append(dict(finding, host=entry["host"]))
    return found


def delivery(report: dict) -> dict[str, dict]:
    return {f["target"]: f for f in fleet_findings(report) if f["check"] == "alert.delivery"}


def payload(hook: dict) -> dict:
    return json.loads(hook["body"])


def check_hook(hook: dict) -> dict:
    """Every webhook request: Alertmanager v4 keys, a valid signature, the user's header."""
    body = hook["body"].encode("utf-8")
    headers = {k.lower(): v for k, v in hook["headers"].items()}
    want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    expect(
        headers.get("x-stronghold-signature") == want,
        "webhook signature %r, want %r" % (headers.get("x-stronghold-signature"), want),
    )
    expect(
        headers.get("content-type", "").startswith("application/json"),
        "webhook content type %r" % headers.get("content-type"),
    )
    expect(
        headers.get("x-test-run") == STEP,
        "webhook extra header X-Test-Run %r, want %r" % (headers.get("x-test-run"), STEP),
    )
    data = payload(hook)
    for key in (
        "version",
        "groupKey",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
        "truncatedAlerts",
    ):
        expect(key in data, "webhook payload has no %r" % key)
    expect(data.get("version") == "4", "webhook version %r" % data.get("version"))
    for alert in data.get("alerts", []):
        for key in ("status", "labels", "annotations", "startsAt", "endsAt", "fingerprint", "generatorURL"):
            expect(key in alert, "webhook alert has no %r: %r" % (key, alert))
        expect(
            re.fullmatch(r"[0-9a-f]{16}", alert.get("fingerprint", "")) is not None,
            "fingerprint %r" % alert.get("fingerprint"),
        )
        labels = alert.get("labels", {})
        for key in ("alertname", "host", "target", "severity", "run"):
            expect(key in labels, "webhook alert labels have no %r: %r" % (key, labels))
    return data


def by_name(data: dict) -> dict[tuple[str, str], dict]:
    return {(a["labels"]["host"], a["labels"]["alertname"]): a for a in data["alerts"]}


mails = lines("mail.jsonl")
hooks = lines("webhook.jsonl")
out = text("%s.out" % STEP) + text("%s.err" % STEP)
expect(PASSWORD not in out, "the SMTP password appears in the output of ansible-playbook")
expect("s3cret-webhook-key" not in out, "the webhook secret appears in the output of ansible-playbook")

if STEP == "run1":
    expect(rc() == 4, "run1 exits %d, want 4 (down1 unreachable, web1's critical fails it)" % rc())
    expect(len(mails) == 1, "run1: %d mails, want 1 for the whole run" % len(mails))
    expect(len(hooks) == 1, "run1: %d webhook posts, want 1" % len(hooks))
    if mails:
        mail = mails[0]
        expect(mail["subject"].startswith("CRITICAL: %s - alerts: 4 new" % TITLE), "run1 subject %r" % mail["subject"])
        expect(sorted(mail["rcpt_tos"]) == sorted([ONCALL, DEVOPS]), "run1 recipients %r" % mail["rcpt_tos"])
        expect(mail["tls"] and mail["authenticated"], "run1 mail not over STARTTLS with AUTH: %r" % mail)
        body = mail["body"]
        for word in (
            "web1",
            "web2",
            "down1",
            "flaky1",
            "resources.disk",
            "logs.failed_logins",
            "logs.errors",
            "run.host",
        ):
            expect(word in body, "run1 mail body does not name %r:\n%s" % (word, body))
        expect(
            body.index("web1") < body.index("web2") or body.index("down1") < body.index("web2"),
            "run1 body: a host with a critical does not come before web2 (warning only):\n%s" % body,
        )
        expect(
            "resources.disk_forecast" not in body.split("muted")[0],
            "run1: the muted forecast warning is listed as sent:\n%s" % body,
        )
        expect("disk 96 % used" in body, "run1 body lacks the finding's summary")
    if hooks:
        data = check_hook(hooks[0])
        expect(data["status"] == "firing", "run1 webhook status %r" % data["status"])
        names = by_name(data)
        expect(
            set(names)
            == {
                ("web1", "resources.disk"),
                ("web2", "logs.failed_logins"),
                ("down1", "run.host"),
                ("flaky1", "logs.errors"),
            },
            "run1 webhook alerts %r" % sorted(names),
        )
        expect(
            all(a["status"] == "firing" and a["endsAt"].startswith("0001-01-01") for a in data["alerts"]),
            "run1 webhook alerts not all firing with the zero endsAt",
        )
        expect(data["commonLabels"].get("run") == "alerts", "run1 commonLabels %r" % data["commonLabels"])
    # set_stats: the run summary for AWX, from the json callback's custom_stats
    try:
        stats = json.loads(text("run1.out"))["global_custom_stats"]["stronghold_report"]
    except (ValueError, KeyError) as exc:
        stats = {}
        problems.append("run1: no stronghold_report in the custom stats (%s)" % exc)
    if stats:
        expect(stats.get("worst_severity") == "critical", "set_stats worst_severity %r" % stats.get("worst_severity"))
        expect(stats.get("down_hosts") == ["down1"], "set_stats down_hosts %r" % stats.get("down_hosts"))
        expect(
            stats.get("checks", {}).get("resources.disk", {}).get("critical") == 1,
            "set_stats per-check counts %r" % stats.get("checks"),
        )
        expect(str(stats.get("paths", {}).get("html", "")).endswith(".html"), "set_stats paths %r" % stats.get("paths"))
        expect(stats.get("alert", {}).get("notify") is True, "set_stats alert %r" % stats.get("alert"))
    report = fleet()
    down = [f for f in fleet_findings(report) if f["check"] == "run.host"]
    expect(
        len(down) == 1 and down[0]["target"] == "down1" and down[0]["severity"] == "critical",
        "run1 run report: down1 is not one critical run.host finding: %r" % down,
    )
    expect(
        all(f["severity"] == "ok" for f in delivery(report).values()) and len(delivery(report)) == 2,
        "run1 delivery findings %r" % delivery(report),
    )
    expect(os.path.exists(os.path.join(WORK, "reports", "_fleet", "alerts", "latest.html")), "run1: no HTML run report")

elif STEP == "run2":
    expect(len(mails) == 2, "run2: %d mails in all, want 2" % len(mails))
    expect(len(hooks) == 2, "run2: %d webhook posts in all, want 2" % len(hooks))
    if len(mails) == 2:
        mail = mails[1]
        expect(
            mail["subject"].startswith("CRITICAL: %s - alerts: 2 new" % TITLE) and "1 resolved" in mail["subject"],
            "run2 subject %r" % mail["subject"],
        )
        expect(
            sorted(mail["rcpt_tos"]) == sorted([ONCALL, DEVOPS]),
            "run2 recipients %r (flaky1 down is critical)" % mail["rcpt_tos"],
        )
        expect(
            "logs.errors" not in mail["body"].split("muted")[0],
            "run2: flaky1's muted errors are listed:\n%s" % mail["body"],
        )
        expect(
            "logs.access_p95" in mail["body"] and "logs.failed_logins" in mail["body"], "run2 body:\n%s" % mail["body"]
        )
        expect(
            "disk 96 % used" not in mail["body"],
            "run2 repeats the ongoing disk alert before repeat_interval:\n%s" % mail["body"],
        )
    if len(hooks) == 2:
        data = check_hook(hooks[1])
        names = by_name(data)
        expect(
            set(names) == {("web2", "logs.access_p95"), ("web2", "logs.failed_logins"), ("flaky1", "run.host")},
            "run2 webhook alerts %r (flaky1's errors muted, neither resolved nor repeated)" % sorted(names),
        )
        resolved = names.get(("web2", "logs.failed_logins"), {})
        expect(
            resolved.get("status") == "resolved" and not resolved.get("endsAt", "").startswith("0001"),
            "run2 resolved alert %r" % resolved,
        )
        first = by_name(payload(hooks[0])).get(("web2", "logs.failed_logins"), {})
        expect(
            first.get("fingerprint") == resolved.get("fingerprint"), "run2: the resolved alert has another fingerprint"
        )

elif STEP == "run3":
    expect(
        len(mails) == 2 and len(hooks) == 2,
        "run3 sent something with nothing new: %d mails, %d posts" % (len(mails), len(hooks)),
    )

elif STEP == "run4":
    expect(len(mails) == 2, "run4: a mail arrived through a dead SMTP server?")
    expect(len(hooks) == 3, "run4: %d webhook posts in all, want 3 (the webhook still goes)" % len(hooks))
    if len(hooks) == 3:
        data = check_hook(hooks[2])
        expect(
            len(data["alerts"]) == 4 and all(a["status"] == "firing" for a in data["alerts"]),
            "run4 webhook: want the 4 firing alerts repeated (not flaky1's muted errors), got %r"
            % sorted(by_name(data)),
        )
    found = delivery(fleet())
    expect(found.get("mail", {}).get("severity") == "warning", "run4 mail delivery finding %r" % found.get("mail"))
    expect(
        "18709" in found.get("mail", {}).get("summary", ""),
        "run4 mail delivery finding does not name the error: %r" % found.get("mail"),
    )
    expect(found.get("webhook", {}).get("severity") == "ok", "run4 webhook delivery finding %r" % found.get("webhook"))
    expect(rc() == 4, "run4 exits %d, want 4 (one channel delivered: a warning, not a failed run)" % rc())

elif STEP == "run5":
    expect(len(mails) == 3, "run5: %d mails in all, want 3 (the mail still goes)" % len(mails))
    expect(len(hooks) == 4 and hooks[-1]["path"] == "/fail", "run5: the webhook was not tried")
    if len(mails) == 3:
        expect(
            mails[2]["subject"].startswith("CRITICAL: %s - alerts: 4 repeated" % TITLE),
            "run5 subject %r" % mails[2]["subject"],
        )
    found = delivery(fleet())
    expect(
        found.get("webhook", {}).get("severity") == "warning" and "500" in found.get("webhook", {}).get("summary", ""),
        "run5 webhook delivery finding %r" % found.get("webhook"),
    )

elif STEP == "run6":
    expect(len(mails) == 3, "run6: a mail arrived through a dead SMTP server?")
    found = delivery(fleet())
    expect(
        found.get("mail", {}).get("severity") == "critical" and found.get("webhook", {}).get("severity") == "critical",
        "run6 delivery findings %r" % found,
    )
    # down1 makes every run exit 4 (unreachable wins over failed); the failure is web1's, the
    # host the run-level tasks ran on.
    expect(
        rc() != 0 and re.search(r"web1\s+: .*failed=1 ", out) is not None,
        "run6 exits %d and web1 did not fail: the undelivered alert must fail the run" % rc(),
    )
    expect("was not delivered" in out, "run6 output does not say the alert was not delivered")

elif STEP == "run7":
    expect(len(mails) == 4, "run7: %d mails in all, want 4" % len(mails))
    if len(mails) == 4:
        expect(
            mails[3]["subject"].startswith("WARNING: %s - alerts: 1 new" % TITLE),
            "run7 subject %r" % mails[3]["subject"],
        )
        expect(
            "health.cache" in mails[3]["body"],
            "run7: the undelivered alert of run6 is not sent:\n%s" % mails[3]["body"],
        )

elif STEP == "run8":
    expect(len(mails) == 4, "run8 (check mode) sent a mail")
    expect(len(hooks) == 6, "run8 (check mode) posted to the webhook: %d posts in all, want 6" % len(hooks))
    expect("CRITICAL: %s - alerts: 1 new" % TITLE in out, "run8: check mode does not show the rendered subject")
    before = text("state.before").split()[0]
    with open(os.path.join(WORK, "reports", "_alerts", "alerts.json"), "rb") as handle:
        after = hashlib.sha256(handle.read()).hexdigest()
    expect(before == after, "run8 (check mode) changed the alert state")

elif STEP == "run9":
    expect(len(mails) == 4 and len(hooks) == 6, "run9 sent an alert although it could not be planned")
    report = fleet()
    planned = [f for f in report["run_findings"] if f["check"] == "alert.plan"]
    expect(
        len(planned) == 1 and planned[0]["severity"] == "critical" and "nobody-known" in planned[0]["summary"],
        "run9 run report: no critical alert.plan finding naming the bad recipient: %r" % report["run_findings"],
    )
    expect(report["summary"]["worst_severity"] == "critical", "run9 run report %r" % report["summary"])
    expect(re.search(r"web1\s+: .*failed=1 ", out) is not None, "run9: the run did not fail")

else:
    problems.append("unknown step %s" % STEP)

if problems:
    print("%s: %d problem(s)" % (STEP, len(problems)))
    for problem in problems:
        print(" - " + problem)
    print("--- output of the run (last 60 lines)")
    print("\n".join(out.splitlines()[-60:]))
    sys.exit(1)
print("%s: ok (%d mails, %d webhook posts so far)" % (STEP, len(mails), len(hooks)))
