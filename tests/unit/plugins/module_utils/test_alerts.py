# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one alert of a run (_alerts, _alerts_state): every rule with plain data and a given clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._alerts import (
    ZERO_TIME,
    AlertError,
    build_plan,
    check_delivered,
    check_plan,
    check_plan_options,
    delivery_findings,
    iso,
    one_line,
    read_entries,
    record_state,
)
from ansible_collections.stronghold.ops.plugins.module_utils._alerts_state import run_plan, run_record
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import fingerprint, normalise_hosts
from ansible_collections.stronghold.ops.plugins.module_utils._state import load_state

T0 = 1796472000  # 2026-12-05T12:00:00Z
HOUR = 3600
DAY = 86400


def finding(check, target, severity, summary=None):
    return {
        "check": check,
        "target": target,
        "severity": severity,
        "summary": summary or "%s is %s" % (check, severity),
    }


def host(name, *findings, status="ok", reason=""):
    return {"host": name, "status": status, "reason": reason, "findings": list(findings)}


def settings(**options):
    params = {"run": "daily", "state_path": "/state/daily.json"}
    params.update(options)
    return check_plan_options(params)


def plan(hosts, entries=None, now=T0, **options):
    return build_plan(settings(**options), normalise_hosts(hosts), entries or {}, now)


def record(result, delivered=({"channel": "mail", "ok": True, "error": ""},), entries=None):
    checked = check_plan(result, result["state_path"])
    new, dummy = record_state(checked, check_delivered(list(delivered)), entries or {}, checked["now"])
    return new


def by_check(result):
    return {(a["host"], a["check"], a["target"]): a for a in result["alerts"]}


DISK = finding("resources.disk", "/", "warning", "disk 87% used")
DISK_CRIT = finding("resources.disk", "/", "critical", "disk 96% used")
CERT = finding("tls.expiry", "yourdomain.com", "critical", "expires in 3 days")
BACKUP = finding("backup.age", "/backups", "warning", "last backup 30 h old")


# --- new, ongoing, resolved across runs -------------------------------------------------------


def test_three_consecutive_runs_new_then_ongoing_then_resolved():
    first = plan([host("web1", DISK, CERT)])
    assert first["notify"] is True
    assert first["counts"] == {"new": 2, "repeated": 0, "ongoing": 0, "resolved": 0, "muted": 0}
    assert first["subject"] == "CRITICAL: Financial Stronghold Alert - daily: 2 new"
    state = record(first)
    assert set(state) == {
        fingerprint("web1", "resources.disk", "/"),
        fingerprint("web1", "tls.expiry", "yourdomain.com"),
    }
    assert all(e["last_notified"] == T0 for e in state.values())

    second = plan([host("web1", DISK, CERT)], state, now=T0 + HOUR)
    assert second["notify"] is False
    assert second["counts"]["ongoing"] == 2
    assert {a["reason"] for a in second["alerts"]} == {"interval"}
    # Nothing is sent; what the messages would say is the digest of what fires.
    assert second["subject"] == "CRITICAL: Financial Stronghold Alert - daily: 2 ongoing"
    assert "  Ongoing\n" in second["body"] and "0 ongoing alerts not repeated, 0 muted." in second["body"]
    state2 = record(second, delivered=[], entries=state)
    assert all(e["last_seen"] == T0 + HOUR and e["last_notified"] == T0 for e in state2.values())

    third = plan([host("web1", DISK)], state2, now=T0 + 2 * HOUR)
    assert third["notify"] is True
    resolved = by_check(third)[("web1", "tls.expiry", "yourdomain.com")]
    assert resolved["state"] == "resolved" and resolved["due"] and resolved["resolved_at"] == iso(T0 + 2 * HOUR)
    assert third["subject"] == "RESOLVED: Financial Stronghold Alert - daily: 1 resolved"
    assert third["status"] == "resolved"
    assert (
        "Resolved\n    CRITICAL tls.expiry yourdomain.com: expires in 3 days (since 2026-12-05T12:00:00Z"
        in third["body"]
    )
    state3 = record(third, entries=state2)
    assert set(state3) == {fingerprint("web1", "resources.disk", "/")}

    # Sent once: the fourth run has nothing to say about the certificate.
    fourth = plan([host("web1", DISK)], state3, now=T0 + 3 * HOUR)
    assert fourth["notify"] is False and fourth["counts"]["resolved"] == 0


def test_repeat_after_the_interval_and_zero_repeats_every_run():
    state = record(plan([host("web1", DISK)]))
    before = plan([host("web1", DISK)], state, now=T0 + DAY - 1)
    assert before["notify"] is False
    after = plan([host("web1", DISK)], state, now=T0 + DAY)
    assert after["notify"] is True and after["alerts"][0]["reason"] == "repeat"
    assert after["subject"] == "WARNING: Financial Stronghold Alert - daily: 1 repeated"
    assert (
        "Repeated (still firing)\n    WARNING resources.disk /: disk 87% used (since 2026-12-05T12:00:00Z)"
        in after["body"]
    )
    assert after["payload"]["alerts"][0]["annotations"]["state"] == "repeat"
    assert plan([host("web1", DISK)], state, now=T0 + 1, repeat_interval=0)["notify"] is True
    assert plan([host("web1", DISK)], state, now=T0 + 2 * HOUR, repeat_interval="1h")["notify"] is True
    # The repeat moved last_notified: the next one is a day later again.
    repeated = record(after, entries=state)
    assert plan([host("web1", DISK)], repeated, now=T0 + DAY + HOUR)["notify"] is False


def test_escalation_is_due_at_once_and_says_so():
    state = record(plan([host("web1", DISK)]))
    escalated = plan([host("web1", DISK_CRIT)], state, now=T0 + 60)
    alert = escalated["alerts"][0]
    assert alert["state"] == "ongoing" and alert["due"] and alert["reason"] == "escalated"
    assert escalated["subject"] == "CRITICAL: Financial Stronghold Alert - daily: 1 repeated"
    assert "(since 2026-12-05T12:00:00Z, escalated)" in escalated["body"]
    assert escalated["payload"]["alerts"][0]["annotations"]["state"] == "escalated"
    # Back to warning: not escalated, not due before the interval.
    state2 = record(escalated, entries=state)
    assert state2[alert["fingerprint"]]["notified_severity"] == "critical"
    assert plan([host("web1", DISK)], state2, now=T0 + 120)["notify"] is False


def test_clock_going_backwards_is_not_due_and_does_not_crash():
    state = record(plan([host("web1", DISK)]))
    back = plan([host("web1", DISK)], state, now=T0 - DAY * 400)
    assert back["notify"] is False and back["alerts"][0]["reason"] == "clock_behind"


def test_send_resolved_off_drops_the_entry_without_a_message():
    state = record(plan([host("web1", DISK)]))
    quiet = plan([host("web1")], state, now=T0 + 60, send_resolved=False)
    assert quiet["notify"] is False
    assert quiet["alerts"][0]["reason"] == "send_resolved_off"
    assert record(quiet, delivered=[], entries=state) == {}


def test_severity_threshold_below_is_resolved_and_info_alerts_with_severity_info():
    state = record(plan([host("web1", DISK)]))
    lowered = plan([host("web1", finding("resources.disk", "/", "info", "disk 80%"))], state, now=T0 + 60)
    assert lowered["alerts"][0]["state"] == "resolved"
    info = plan([host("web1", finding("resources.disk", "/", "info", "disk 80%"))], severity="info")
    assert info["subject"] == "INFO: Financial Stronghold Alert - daily: 1 new"
    assert plan([host("web1", finding("x.y", "t", "ok", "fine"))], severity="info")["alerts"] == []


def test_duplicates_collapse_to_the_worst():
    result = plan([host("web1", DISK, DISK_CRIT)])
    assert len(result["alerts"]) == 1 and result["alerts"][0]["severity"] == "critical"


# --- delivery and the state ----------------------------------------------------------------


def test_failed_delivery_keeps_new_alerts_due_and_resolved_pending():
    first = plan([host("web1", DISK, CERT)])
    failed = record(first, delivered=[{"channel": "mail", "ok": False, "error": "connection refused"}])
    assert all(e["last_notified"] is None for e in failed.values())
    again = plan([host("web1", DISK, CERT)], failed, now=T0 + 60)
    assert again["counts"]["new"] == 2 and again["notify"] is True
    # first_seen is kept from the first run.
    assert {a["first_seen"] for a in again["alerts"]} == {iso(T0)}
    state = record(again, entries=failed)
    resolve = plan([host("web1", DISK)], state, now=T0 + 120)
    pending = record(resolve, delivered=[{"channel": "webhook", "ok": False, "error": "HTTP 500"}], entries=state)
    cert = fingerprint("web1", "tls.expiry", "yourdomain.com")
    assert pending[cert]["resolved_pending"] is True and pending[cert]["resolved_at"] == T0 + 120
    # Re-sent next run, with the first time it resolved.
    resend = plan([host("web1", DISK)], pending, now=T0 + 180)
    alert = by_check(resend)[("web1", "tls.expiry", "yourdomain.com")]
    assert alert["state"] == "resolved" and alert["due"] and alert["resolved_at"] == iso(T0 + 120)
    assert cert not in record(resend, entries=pending)
    # Fires again instead: new, from now.
    fires = plan([host("web1", DISK, CERT)], pending, now=T0 + 180)
    alert = by_check(fires)[("web1", "tls.expiry", "yourdomain.com")]
    assert alert["state"] == "new" and alert["first_seen"] == iso(T0 + 180)


def test_one_channel_enough_and_delivery_findings():
    first = plan([host("web1", CERT)])
    both = [{"channel": "mail", "ok": False, "error": "421 try later"}, {"channel": "webhook", "ok": True, "error": ""}]
    state = record(first, delivered=both)
    assert next(iter(state.values()))["last_notified"] == T0
    checked = check_plan(first, first["state_path"])
    findings = delivery_findings(checked, check_delivered(both), "daily")
    assert [(f["target"], f["severity"]) for f in findings] == [("mail", "warning"), ("webhook", "ok")]
    assert "421 try later" in findings[0]["summary"] and "delivered by webhook" in findings[0]["summary"]
    none = delivery_findings(checked, check_delivered([both[0]]), "daily")
    assert none[0]["severity"] == "critical"
    nothing = delivery_findings(checked, [], "daily")
    assert nothing[0]["severity"] == "warning" and "no channel configured" in nothing[0]["summary"]
    quiet = check_plan(dict(first, notify=False), first["state_path"])
    assert delivery_findings(quiet, [], "daily") == []


def test_an_alert_never_notified_is_not_resolved_aloud():
    first = plan([host("web1", DISK)])
    unsent = record(first, delivered=[])
    gone = plan([host("web1")], unsent, now=T0 + 60)
    assert gone["alerts"][0]["reason"] == "never_notified" and gone["notify"] is False
    assert record(gone, delivered=[], entries=unsent) == {}


def test_record_is_idempotent_and_keeps_other_entries():
    other = fingerprint("db9", "postgres.connections", "main")
    state = record(plan([host("db9", finding("postgres.connections", "main", "warning"))]))
    first = plan([host("web1", DISK)], state)
    once = record(first, entries=state)
    assert other in once
    assert record(first, entries=once) == once


# --- inhibition and slices ---------------------------------------------------------------------


def test_down_host_mutes_its_other_alerts_and_their_entries():
    state = record(plan([host("db1", DISK, BACKUP)]))
    down = plan([host("db1", DISK, status="down", reason="unreachable")], state, now=T0 + 60)
    alerts = by_check(down)
    host_alert = alerts[("db1", "run.host", "db1")]
    assert host_alert["state"] == "new" and host_alert["due"]
    for key in (("db1", "resources.disk", "/"), ("db1", "backup.age", "/backups")):
        assert alerts[key]["state"] == "muted" and not alerts[key]["due"]
        assert alerts[key]["muted_by"] == host_alert["fingerprint"] and alerts[key]["reason"] == "host_down"
    assert down["counts"]["muted"] == 2 and down["counts"]["resolved"] == 0
    assert "db1 (down: unreachable)" in down["body"]
    assert down["subject"] == "CRITICAL: Financial Stronghold Alert - daily: 1 new"
    after = record(down, entries=state)
    for key in state:
        assert after[key] == state[key]  # untouched
    # Back up with the backup fixed: the backup resolves, the host alert resolves, the disk is ongoing.
    back = plan([host("db1", DISK)], after, now=T0 + 120)
    states = {k[1]: a["state"] for k, a in by_check(back).items()}
    assert states == {"resources.disk": "ongoing", "backup.age": "resolved", "run.host": "resolved"}


def test_without_inhibition_a_down_host_sends_everything_and_resolves_nothing():
    state = record(plan([host("db1", DISK, BACKUP)]))
    down = plan([host("db1", DISK, status="down")], state, now=T0 + 60, inhibit=False)
    states = {k[1]: a["state"] for k, a in by_check(down).items()}
    assert states == {"run.host": "new", "resources.disk": "ongoing"}


def test_critical_mutes_lesser_alerts_of_the_same_host_target_and_area():
    inode = finding("resources.inodes", "/", "warning", "inodes 90%")
    other_target = finding("resources.disk", "/var", "warning", "disk 88%")
    other_area = finding("backup.size", "/", "warning", "small")
    result = plan([host("web1", DISK_CRIT, inode, other_target, other_area), host("web2", inode)])
    alerts = by_check(result)
    muted = alerts[("web1", "resources.inodes", "/")]
    assert muted["state"] == "muted" and muted["muted_by"] == fingerprint("web1", "resources.disk", "/")
    assert muted["reason"] == "inhibited"
    for key in (("web1", "resources.disk", "/var"), ("web1", "backup.size", "/"), ("web2", "resources.inodes", "/")):
        assert alerts[key]["state"] == "new"
    assert plan([host("web1", DISK_CRIT, inode)], inhibit=False)["counts"]["new"] == 2


def test_hosts_of_another_slice_are_never_resolved():
    state = record(plan([host("web1", DISK), host("web2", DISK)]))
    limited = plan([host("web1")], state, now=T0 + 60)
    assert [a["host"] for a in limited["alerts"]] == ["web1"]
    after = record(limited, entries=state)
    assert fingerprint("web2", "resources.disk", "/") in after
    assert fingerprint("web1", "resources.disk", "/") not in after


# --- rendering ---------------------------------------------------------------------------------


def test_body_groups_by_host_critical_first_and_one_message():
    result = plan(
        [host("web1", DISK), host("db1", CERT, BACKUP), host("quiet")],
        external_url="https://reports.example/run/1",
    )
    body = result["body"]
    assert body.index("db1\n") < body.index("web1\n")
    assert "quiet" not in body
    assert body.count("  New\n") == 2
    assert "    CRITICAL tls.expiry yourdomain.com: expires in 3 days (since 2026-12-05T12:00:00Z)" in body
    assert body.rstrip().endswith("Run report: https://reports.example/run/1")
    assert result["subject"].startswith("CRITICAL: Financial Stronghold Alert")


def test_external_url_is_a_url_or_the_path_of_the_report():
    local = plan([host("web1", DISK)], external_url="/var/log/stronghold/reports/_fleet/daily/latest page.html")
    assert "Run report: /var/log/stronghold/reports/_fleet/daily/latest page.html" in local["body"]
    assert local["payload"]["externalURL"] == "file:///var/log/stronghold/reports/_fleet/daily/latest%20page.html"
    assert local["payload"]["alerts"][0]["generatorURL"] == local["payload"]["externalURL"]
    assert plan([host("web1", DISK)])["payload"]["externalURL"] == ""


def test_always_sends_a_digest():
    ok = plan([host("web1")], always=True)
    assert ok["notify"] is True and ok["subject"] == "OK: Financial Stronghold Alert - daily: nothing firing"
    assert ok["status"] == "ok" and ok["payload"]["alerts"] == [] and ok["payload"]["status"] == "resolved"
    state = record(plan([host("web1", DISK)]))
    digest = plan([host("web1", DISK)], state, now=T0 + 60, always=True)
    assert digest["subject"] == "WARNING: Financial Stronghold Alert - daily: 1 ongoing"
    assert "  Ongoing\n" in digest["body"]
    # A digest does not move the repeat timer.
    assert record(digest, entries=state) == record(plan([host("web1", DISK)], state, now=T0 + 60), entries=state)


def test_recipients_by_severity_contacts_resolved_deduplicated():
    options = {
        "contacts": {"oncall": "oncall@yourdomain.com", "admin": "admin@yourdomain.com"},
        "recipients": {
            "critical": ["oncall", "admin"],
            "warning": ["admin", "Ops@Example.org"],
            "info": ["info@x.org"],
        },
    }
    assert plan([host("web1", DISK, CERT)], **options)["recipients"] == [
        "oncall@yourdomain.com",
        "admin@yourdomain.com",
        "Ops@Example.org",
    ]
    assert plan([host("web1", DISK)], **options)["recipients"] == ["admin@yourdomain.com", "Ops@Example.org"]
    # A resolved alert counts with its last severity.
    state = record(plan([host("web1", CERT)], **options))
    assert plan([host("web1")], state, now=T0 + 60, **options)["recipients"] == [
        "oncall@yourdomain.com",
        "admin@yourdomain.com",
    ]
    assert plan([host("web1", CERT)], recipients={"critical": []})["recipients"] == []


def test_webhook_is_alertmanager_v4_and_signed():
    state = record(plan([host("web1", CERT)]))
    result = plan(
        [host("web1", DISK)],
        state,
        now=T0 + 60,
        webhook_secret="s3cret",
        external_url="https://r.example/1",
        max_alerts=0,
    )
    payload = result["payload"]
    assert json.loads(result["webhook"]["body"]) == payload
    assert set(payload) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert payload["version"] == "4" and payload["groupKey"] == '{}:{run="daily"}'
    assert payload["status"] == "firing" and payload["receiver"] == "stronghold"
    assert payload["groupLabels"] == {"run": "daily"}
    assert payload["commonLabels"] == {"host": "web1", "instance": "web1", "run": "daily"}
    assert payload["commonAnnotations"] == {}
    assert payload["truncatedAlerts"] == 0 and payload["externalURL"] == "https://r.example/1"
    firing = next(a for a in payload["alerts"] if a["status"] == "firing")
    resolved = next(a for a in payload["alerts"] if a["status"] == "resolved")
    assert firing["labels"] == {
        "alertname": "resources.disk",
        "host": "web1",
        "instance": "web1",
        "target": "/",
        "severity": "warning",
        "run": "daily",
    }
    assert firing["annotations"] == {"summary": "disk 87% used", "state": "new"}
    assert firing["startsAt"] == "2026-12-05T12:01:00Z" and firing["endsAt"] == ZERO_TIME
    assert firing["fingerprint"] == fingerprint("web1", "resources.disk", "/")
    assert firing["generatorURL"] == "https://r.example/1"
    assert resolved["endsAt"] == "2026-12-05T12:01:00Z" and resolved["startsAt"] == "2026-12-05T12:00:00Z"
    assert resolved["annotations"]["state"] == "resolved"
    body = result["webhook"]["body"]
    expected = hmac.new(b"s3cret", body.encode(), hashlib.sha256).hexdigest()
    assert result["webhook"]["headers"] == {
        "Content-Type": "application/json",
        "X-Stronghold-Signature": "sha256=" + expected,
    }
    assert "X-Stronghold-Signature" not in plan([host("web1", DISK)])["webhook"]["headers"]


def test_max_alerts_truncates_and_the_rest_stays_due():
    findings = [finding("resources.disk", "/d%d" % i, "warning") for i in range(5)] + [CERT]
    result = plan([host("web1", *findings)], max_alerts=2)
    assert result["payload"]["truncatedAlerts"] == 4 and len(result["payload"]["alerts"]) == 2
    assert result["payload"]["alerts"][0]["labels"]["severity"] == "critical"
    assert "4 more due alerts are not listed (max_alerts 2)" in result["body"]
    state = record(result)
    nxt = plan([host("web1", *findings)], state, now=T0 + 60, max_alerts=2)
    assert nxt["counts"]["new"] == 4 and len([a for a in nxt["alerts"] if a["listed"]]) == 2


def test_hostile_names_stay_on_one_line_and_huge_targets_are_cut_only_in_text():
    target = "x" * 1_000_000
    name = "web\n1/évil\u2028"
    result = plan([host(name, finding("resources.disk", target, "critical", "line1\nSubject: injected"))])
    alert = result["alerts"][0]
    assert alert["fingerprint"] == fingerprint(name, "resources.disk", target)
    assert "\n" not in result["subject"]
    assert "web\\n1/évil\\u2028" in result["body"]
    assert "line1\\nSubject: injected" in result["body"]
    assert max(len(line) for line in result["body"].splitlines()) < 1000
    assert len(result["webhook"]["body"]) < 10000
    state = record(result)
    assert len(state[alert["fingerprint"]]["target"]) == 1000
    # The entry with its cut target still matches the full one next run (by fingerprint).
    again = plan([host(name, finding("resources.disk", target, "critical", "x"))], state, now=T0 + 60)
    assert again["alerts"][0]["state"] == "ongoing"


def test_ten_thousand_findings():
    findings = [finding("resources.disk", "/m%d" % i, "warning") for i in range(10000)]
    result = plan([host("web1", *findings), host("web2", *findings)])
    assert result["counts"]["new"] == 20000
    state = record(result)
    assert len(state) == 20000
    assert plan([host("web1", *findings), host("web2")], state, now=T0 + 60)["counts"]["resolved"] == 10000


def test_one_line():
    assert one_line("a\nb\tc\x00") == "a\\nb\\tc\\u0000"
    assert one_line("y" * 300) == "y" * 200 + "...(100 more characters)"
    assert one_line("z" * 10**6).endswith("...(999800 more characters)")


# --- options and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, words",
    [
        ({"severity": "ok"}, "severity must be one of"),
        ({"repeat_interval": "-1h"}, "repeat_interval"),
        ({"repeat_interval": "nan"}, "repeat_interval: a duration cannot be NaN"),
        ({"repeat_interval": "1000y"}, "repeat_interval"),
        ({"repeat_interval": 10**400}, "repeat_interval"),
        ({"run": ""}, "run must be a non-empty string"),
        ({"run": "a\nb"}, "run must not contain newlines"),
        ({"title": "CRITICAL\r\nBcc: x@y"}, "title must not contain newlines"),
        ({"run": "r" * 201}, "at most 200"),
        ({"max_alerts": -1}, "max_alerts must be"),
        ({"external_url": "not a url"}, "external_url must be a URL"),
        ({"external_url": "relative/path.html"}, "or an absolute path"),
        ({"external_url": "/a\nb"}, "external_url must be a URL"),
        ({"recipients": {"urgent": ["a@b"]}}, "unknown severity 'urgent'"),
        ({"recipients": {"critical": "a@b"}}, "recipients.critical must be a list"),
        ({"recipients": {"critical": ["bob"]}}, r"recipients.critical\[0\]: 'bob' is neither a known contact"),
        ({"recipients": {"critical": ["a@b@c"]}}, "is not a mail address"),
        ({"contacts": {"bob": "not-an-address"}}, r"contacts\[bob\]"),
        ({"contacts": ["bob"]}, "contacts must be a mapping"),
    ],
)
def test_bad_options_name_the_option(options, words):
    with pytest.raises(AlertError, match=words):
        settings(**options)


def test_state_entries_that_are_malformed_are_dropped():
    good = {
        "host": "h",
        "check": "c.d",
        "target": "t",
        "severity": "warning",
        "summary": "s",
        "first_seen": T0,
        "last_seen": T0,
        "last_notified": T0,
        "notified_severity": "warning",
        "resolved_pending": False,
        "resolved_at": None,
    }
    key = fingerprint("h", "c.d", "t")
    entries, dropped = read_entries(
        {
            "alerts": {
                key: good,
                "nothex": good,
                "0" * 16: dict(good, severity="fatal"),
                "1" * 16: dict(good, first_seen=float("nan")),
                "2" * 16: dict(good, last_seen=1e30),
                "3" * 16: [],
            }
        }
    )
    assert list(entries) == [key] and dropped == 5
    assert read_entries({"alerts": []}) == ({}, 1)
    assert read_entries(None) == ({}, 0)


@pytest.mark.parametrize(
    "garbage, words",
    [
        ("text", "plan must be the registered result"),
        ({"skipped": True, "changed": False}, "was skipped"),
        ({"failed": True, "msg": "boom"}, "plan task failed"),
        ({"changed": False, "findings": [], "worst_severity": "ok"}, "does not look like the result of alert_state"),
    ],
)
def test_garbage_plans_are_refused(garbage, words):
    with pytest.raises(AlertError, match=words):
        check_plan(garbage, "/state/daily.json")


def test_a_plan_with_bad_alerts_or_another_state_file_is_refused():
    good = plan([host("web1", DISK)])
    with pytest.raises(AlertError, match="plan was made for the state file"):
        check_plan(good, "/elsewhere.json")
    for change, words in (
        ({"fingerprint": "zz"}, "fingerprint must be 16 hex"),
        ({"severity": "bad"}, "severity must be one of"),
        ({"due": "yes"}, "due must be a boolean"),
        ({"first_seen": "yesterday"}, "first_seen: expected a UTC time"),
    ):
        broken = dict(good, alerts=[dict(good["alerts"][0], **change)])
        with pytest.raises(AlertError, match=words):
            check_plan(broken, good["state_path"])
    with pytest.raises(AlertError, match="planned_at"):
        check_plan(dict(good, planned_at=5), good["state_path"])


@pytest.mark.parametrize(
    "delivered, words",
    [
        ("mail", "delivered must be a list"),
        ([{"channel": "mail"}], r"delivered\[0\].ok must be a boolean"),
        ([{"channel": "", "ok": True}], "channel must be a non-empty string"),
        ([{"channel": "mail", "ok": True, "okay": 1}], "unknown keys: okay"),
        (["mail"], "must be a mapping"),
    ],
)
def test_bad_delivered_lists_are_refused(delivered, words):
    with pytest.raises(AlertError, match=words):
        check_delivered(delivered)


# --- with a real state file (_alerts_state) -------------------------------------------------------


def params(path, **options):
    values = {"action": "plan", "state_path": str(path), "run": "daily", "hosts": [host("web1", DISK)]}
    values.update(options)
    return values


def test_plan_and_record_on_a_real_file(tmp_path):
    path = tmp_path / "daily.json"
    first = run_plan(params(path), now=T0)
    assert first["notify"] and first["findings"] == [] and not path.exists()
    checked = run_record({"state_path": str(path), "plan": first, "delivered": []}, check_mode=True, now=T0)
    assert checked["changed"] is True and not path.exists()
    assert checked["findings"][0]["summary"].startswith("check mode")
    done = run_record(
        {"state_path": str(path), "plan": first, "delivered": [{"channel": "mail", "ok": True}]}, False, now=T0
    )
    assert done["changed"] is True and done["sent"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data, problem = load_state(str(path), "alert_state", 1)
    assert problem is None and data["run"] == "daily" and len(data["alerts"]) == 1
    again = run_record(
        {"state_path": str(path), "plan": first, "delivered": [{"channel": "mail", "ok": True}]}, False, now=T0
    )
    assert again["changed"] is False
    second = run_plan(params(path), now=T0 + 60)
    assert second["notify"] is False and second["counts"]["ongoing"] == 1


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"kind": "alert_state", "version": 1, "da', "unreadable or cut"),
        ('{"kind": "log_scan", "version": 1, "data": {}}', "not a alert_state state file"),
        ('{"kind": "alert_state", "version": 0, "data": {}}', "version 0"),
        (
            '{"kind": "alert_state", "version": 1, "data": {"run": "weekly", "alerts": {}}}',
            "written for the run 'weekly'",
        ),
        ('{"kind": "alert_state", "version": 1, "data": {"run": "daily", "alerts": {"x": 1}}}', "1 malformed"),
    ],
)
def test_bad_state_files_start_empty_with_an_info_finding(tmp_path, content, words):
    path = tmp_path / "daily.json"
    path.write_text(content)
    result = run_plan(params(path), now=T0)
    assert result["counts"]["new"] == 1
    assert result["findings"][0]["severity"] == "info" and words in result["findings"][0]["summary"]


def test_a_state_path_that_is_a_directory_plans_but_does_not_record(tmp_path):
    result = run_plan(params(tmp_path), now=T0)
    assert result["findings"][0]["check"] == "alert.state"
    with pytest.raises(AlertError, match="cannot write the state file.*old state is unchanged"):
        run_record({"state_path": str(tmp_path), "plan": result, "delivered": []}, False, now=T0)


def test_an_unwritable_directory_keeps_the_old_state(tmp_path):
    path = tmp_path / "sub" / "daily.json"
    with pytest.raises(AlertError, match="cannot write the state file"):
        run_record({"state_path": str(path), "plan": run_plan(params(path), now=T0), "delivered": []}, False)


def test_bad_hosts_are_named(tmp_path):
    with pytest.raises(AlertError, match="hosts: hosts\\[0\\] needs a non-empty string 'host'"):
        run_plan(params(tmp_path / "s.json", hosts=[{"host": ""}]))
    with pytest.raises(AlertError, match="hosts: host 'a' has status 'gone'"):
        run_plan(params(tmp_path / "s.json", hosts=[{"host": "a", "status": "gone"}]))
    assert run_plan(params(tmp_path / "s.json", hosts=[]), now=T0)["notify"] is False


# --- delivered_from_results: the role's mail and webhook results as record's `delivered` -------------


def test_delivered_from_results_reads_the_mail_and_webhook_results():
    from ansible_collections.stronghold.ops.plugins.module_utils._alerts import delivered_from_results

    sent = {"changed": False, "msg": "Mail sent successfully", "result": {}}
    posted = {"status": 200, "msg": "OK (2 bytes)"}
    assert delivered_from_results(sent, posted, "smtp:25", "hooks:443") == [
        {"channel": "mail", "ok": True, "error": ""},
        {"channel": "webhook", "ok": True, "error": ""},
    ]
    # Tasks that did not run are no channel.
    assert delivered_from_results({}, {"skipped": True, "skip_reason": "x"}, "smtp:25", "hooks") == []
    assert delivered_from_results(None, None, "", "") == []


def test_delivered_from_results_says_why_a_channel_failed():
    from ansible_collections.stronghold.ops.plugins.module_utils._alerts import delivered_from_results

    refused = {"failed": True, "msg": "Task failed: Module failed: [Errno 111] Connection refused"}
    partial = {"msg": "Failed to send mail to at least one recipient", "result": {"failed_recipients": ["a@x"]}}
    http_500 = {"failed": True, "status": 500, "msg": "Status code was 500\nand not [200]"}
    no_answer = {"failed": True, "status": -1, "msg": "Request failed: <urlopen error [Errno 111]>"}
    mail, hook = delivered_from_results(refused, http_500, "127.0.0.1:25", "hooks.example:8443")
    assert mail == {"channel": "mail", "ok": False, "error": "SMTP 127.0.0.1:25: " + refused["msg"]}
    assert hook["ok"] is False and hook["error"].startswith("webhook hooks.example:8443 answered HTTP 500: Status")
    assert "\n" not in hook["error"]
    mail, hook = delivered_from_results(partial, no_answer, "s:25", "h")
    assert mail["ok"] is False and "failed_recipients" in mail["error"] and "a@x" in mail["error"]
    assert hook["error"] == "webhook h did not answer: " + no_answer["msg"]
