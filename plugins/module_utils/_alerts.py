# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The one alert of a run: which findings are due, and the exact mail and webhook (alert_state).

Pure functions over plain data; ``now`` is always passed in (integer epoch seconds), so every
rule is unit tested without a clock or a file.

* ``check_plan_options`` / ``check_record_options``: the module's options, refused with a
  message that names the option.
* ``plan_alerts(settings, hosts, state, now)``: every alert of the run (new, ongoing, resolved,
  muted) and whether it is due, from the host entries (``_fleet.normalise_hosts``) and the
  saved state.
* ``render(settings, alerts, now)``: subject, plain-text body, recipients and the webhook body
  in the shape of Alertmanager's webhook v4, signed with HMAC-SHA256 when a secret is given.
* ``record_state(plan, delivered, state, now)``: the state to save once the lead's tasks have
  tried to deliver the plan, and the ``alert.delivery`` findings.

State (``_state`` kind ``alert_state``, version 1)::

    {"run": "daily",
     "alerts": {fingerprint: {host, check, target, severity, summary, first_seen, last_seen,
                              last_notified, notified_severity, resolved_pending, resolved_at}}}

Times are integer epoch seconds; ``last_notified`` is null until a message naming the alert
was delivered; ``resolved_pending`` is true for a resolved alert whose "resolved" was not
delivered yet (it is sent again next run unless the alert fires again).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import math
import pathlib
import re
import time
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    parse_duration,
    severity_rank,
)
from ansible_collections.stronghold.ops.plugins.module_utils._fleet import HOST_DOWN_CHECK, fingerprint

STATE_KIND = "alert_state"
STATE_VERSION = 1
ALERT_SEVERITIES = ("info", "warning", "critical")
STATES = ("new", "ongoing", "resolved", "muted")
# Alertmanager's zero time: endsAt of an alert that still fires.
ZERO_TIME = "0001-01-01T00:00:00Z"
SIGNATURE_HEADER = "X-Stronghold-Signature"
DEFAULT_TITLE = "Financial Stronghold Alert"
# A target or summary is shown at most this long in the subject and body lines (never cut in
# a fingerprint); the webhook labels and annotations and the state keep a little more.
LINE_FIELD_LIMIT = 200
PAYLOAD_FIELD_LIMIT = 1000
NAME_LIMIT = 200
MAX_ALERTS_LIMIT = 1000000
# The latest time datetime and gmtime render as four digits (9999-12-31T23:59:59Z).
_MAX_EPOCH = 253402300799
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")
_SECTION_ORDER = {"new": 0, "repeat": 1, "escalated": 1, "ongoing": 2, "resolved": 3}
_SECTION_TITLES = (
    ("new", "New"),
    ("repeat", "Repeated (still firing)"),
    ("ongoing", "Ongoing"),
    ("resolved", "Resolved"),
)


class AlertError(FindingError):
    """A bad option, host entry, plan or delivery list (the message names which)."""


# ---------------------------------------------------------------------------------------------
# Small helpers


def iso(epoch: float) -> str:
    """RFC 3339 in UTC with a Z, to the second."""
    return time.strftime(_ISO, time.gmtime(min(max(int(epoch), 0), _MAX_EPOCH)))


def parse_iso(text: Any, name: str) -> int:
    """Epoch seconds of a time written by ``iso``; AlertError names ``name``."""
    try:
        return calendar.timegm(time.strptime(str(text), _ISO))
    except (TypeError, ValueError, OverflowError) as exc:
        raise AlertError(
            "%s: expected a UTC time such as 2026-12-05T12:00:00Z, got %s" % (name, _cut(repr(text), 60))
        ) from exc


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return "%s...(%d more characters)" % (text[:limit], len(text) - limit)


def one_line(text: Any, limit: int = LINE_FIELD_LIMIT) -> str:
    """``text`` on one line (newlines and control characters escaped) and at most ``limit`` long.

    Host names, targets and summaries come from findings, so a newline in one could otherwise
    start a new line of the mail, or a new header in a subject.
    """
    value = str(text)
    # Cut first so that a 1 MB target costs a slice, not an escape pass over the whole of it.
    tail = len(value) - limit * 4
    if tail > 0:
        value = value[: limit * 4]
    value = _CONTROL.sub(lambda m: _ESCAPES.get(m.group(0), "\\u%04x" % ord(m.group(0))), value)
    if tail > 0:
        return "%s...(%d more characters)" % (value[:limit], len(value) - limit + tail)
    return _cut(value, limit)


def _name(params: dict[str, Any], key: str, default: Optional[str] = None) -> str:
    value = params.get(key)
    if value is None and default is not None:
        value = default
    if not isinstance(value, str) or not value.strip():
        raise AlertError("%s must be a non-empty string" % key)
    if _CONTROL.search(value):
        raise AlertError("%s must not contain newlines or control characters: %s" % (key, one_line(value, 60)))
    if len(value) > NAME_LIMIT:
        raise AlertError("%s is %d characters long: at most %d" % (key, len(value), NAME_LIMIT))
    return value


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise AlertError("%s: %s is not a mail address (name@domain)" % (where, one_line(repr(value), 80)))
    return value.strip()


def check_contacts(contacts: Any) -> dict[str, str]:
    """The contact list: name -> address."""
    if contacts is None:
        return {}
    if not isinstance(contacts, dict):
        raise AlertError("contacts must be a mapping of contact name to mail address")
    checked = {}
    for name, address in contacts.items():
        if not isinstance(name, str) or not name.strip():
            raise AlertError("contacts: a contact name must be a non-empty string, got %r" % (name,))
        checked[name] = _address(address, "contacts[%s]" % one_line(name, 60))
    return checked


def check_recipients(recipients: Any, contacts: dict[str, str]) -> dict[str, list[str]]:
    """Severity -> addresses, contact names resolved; a name that is neither is an error."""
    if recipients is None:
        return {}
    if not isinstance(recipients, dict):
        raise AlertError("recipients must be a mapping of severity (critical, warning, info) to a list of addresses")
    checked: dict[str, list[str]] = {}
    for severity, names in recipients.items():
        if severity not in ALERT_SEVERITIES:
            raise AlertError(
                "recipients: unknown severity %s: expected critical, warning or info" % one_line(repr(severity), 60)
            )
        if names is None:
            names = []
        if not isinstance(names, list):
            raise AlertError("recipients.%s must be a list of addresses or contact names" % severity)
        addresses = []
        for index, name in enumerate(names):
            where = "recipients.%s[%d]" % (severity, index)
            if isinstance(name, str) and name in contacts:
                addresses.append(contacts[name])
            elif isinstance(name, str) and "@" in name:
                addresses.append(_address(name, where))
            else:
                raise AlertError(
                    "%s: %s is neither a known contact (%s) nor a mail address"
                    % (where, one_line(repr(name), 80), ", ".join(sorted(contacts)) or "contacts is empty")
                )
        checked[severity] = addresses
    return checked


def _external(value: Any) -> tuple[str, str]:
    """(as shown in the mail, as a URL in the webhook): a URL, or the absolute path of the run
    report on the controller (a ``file://`` URL in the webhook)."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str) and value.startswith("/") and not _CONTROL.search(value):
        return value, pathlib.PurePosixPath(value).as_uri()
    if isinstance(value, str) and _URL.match(value):
        return value, value
    raise AlertError(
        "external_url must be a URL without spaces (https://...) or an absolute path, got %s"
        % one_line(repr(value), 80)
    )


def check_plan_options(params: dict[str, Any]) -> dict[str, Any]:
    """The options of ``action: plan``, checked and converted (AlertError names the option)."""
    severity = params.get("severity") or "warning"
    if severity not in ALERT_SEVERITIES:
        raise AlertError("severity must be one of info, warning, critical, got %r" % (severity,))
    raw_interval = params.get("repeat_interval")
    try:
        interval = parse_duration("24h" if raw_interval is None or raw_interval == "" else raw_interval)
    except FindingError as exc:
        raise AlertError("repeat_interval: %s" % exc) from exc
    max_alerts = params.get("max_alerts")
    if max_alerts is None:
        max_alerts = 0
    if isinstance(max_alerts, bool) or not isinstance(max_alerts, int) or not 0 <= max_alerts <= MAX_ALERTS_LIMIT:
        raise AlertError(
            "max_alerts must be a whole number from 0 (all) to %d, got %r" % (MAX_ALERTS_LIMIT, max_alerts)
        )
    external_url, external_link = _external(params.get("external_url"))
    secret = params.get("webhook_secret") or ""
    if not isinstance(secret, str):
        raise AlertError("webhook_secret must be a string")
    contacts = check_contacts(params.get("contacts"))
    return {
        "state_path": params.get("state_path"),
        "run": _name(params, "run"),
        "severity": severity,
        "repeat_interval": int(interval) if float(interval).is_integer() else interval,
        "send_resolved": bool(params.get("send_resolved", True)),
        "always": bool(params.get("always", False)),
        "inhibit": bool(params.get("inhibit", True)),
        "title": _name(params, "title", DEFAULT_TITLE),
        "receiver": _name(params, "receiver", "stronghold"),
        "external_url": external_url,
        "external_link": external_link,
        "webhook_secret": secret,
        "max_alerts": max_alerts,
        "contacts": contacts,
        "recipients": check_recipients(params.get("recipients"), contacts),
    }


# ---------------------------------------------------------------------------------------------
# State


def _epoch(value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if math.isnan(value) or not 0 <= value <= _MAX_EPOCH:  # beyond what iso() can render
        return None
    return int(value)


def read_entries(data: Optional[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], int]:
    """The valid entries of saved state data, and how many malformed ones were dropped."""
    if not isinstance(data, dict):
        return {}, 0
    raw = data.get("alerts")
    if not isinstance(raw, dict):
        return {}, 1 if raw is not None else 0
    entries: dict[str, dict[str, Any]] = {}
    dropped = 0
    for key, entry in raw.items():
        checked = _entry(key, entry)
        if checked is None:
            dropped += 1
        else:
            entries[key] = checked
    return entries, dropped


def _entry(key: Any, entry: Any) -> Optional[dict[str, Any]]:
    if not isinstance(key, str) or not _FINGERPRINT.match(key) or not isinstance(entry, dict):
        return None
    for name in ("host", "check", "target", "summary"):
        if not isinstance(entry.get(name), str):
            return None
    if entry.get("severity") not in ALERT_SEVERITIES:
        return None
    first_seen, last_seen = _epoch(entry.get("first_seen")), _epoch(entry.get("last_seen"))
    if first_seen is None or last_seen is None:
        return None
    notified = entry.get("notified_severity")
    if notified is not None and notified not in ALERT_SEVERITIES:
        return None
    return {
        "host": entry["host"],
        "check": entry["check"],
        "target": entry["target"],
        "severity": entry["severity"],
        "summary": entry["summary"],
        "first_seen": first_seen,
        "last_seen": last_seen,
        "last_notified": _epoch(entry.get("last_notified")),
        "notified_severity": notified,
        "resolved_pending": entry.get("resolved_pending") is True,
        "resolved_at": _epoch(entry.get("resolved_at")),
    }


# ---------------------------------------------------------------------------------------------
# Plan


def _alert(host: str, finding: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "fingerprint": key,
        "host": host,
        "check": finding["check"],
        "target": finding["target"],
        "severity": finding["severity"],
        "summary": finding["summary"],
        "state": "new",
        "due": False,
        "reason": "new",
        "muted_by": None,
        "first_seen": None,
        "resolved_at": None,
        "listed": False,
    }


def _from_entry(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    alert = _alert(entry["host"], entry, key)
    alert["first_seen"] = entry["first_seen"]
    alert["resolved_at"] = entry["resolved_at"]
    return alert


def _present(settings: dict[str, Any], hosts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every finding at or above ``severity``, one per fingerprint (the worst; findings come worst first)."""
    threshold = severity_rank(settings["severity"])
    present: dict[str, dict[str, Any]] = {}
    for entry in hosts:
        for finding in entry["findings"]:
            if severity_rank(finding["severity"]) < threshold:
                continue
            key = fingerprint(entry["host"], finding["check"], finding["target"])
            known = present.get(key)
            if known is None or severity_rank(finding["severity"]) > severity_rank(known["severity"]):
                present[key] = _alert(entry["host"], finding, key)
    return present


def _area(check: str) -> str:
    return check.split(".", 1)[0]


def _mute(settings: dict[str, Any], hosts: list[dict[str, Any]], present: dict[str, dict[str, Any]]) -> None:
    """Inhibition, in place: a down host mutes its other alerts; a critical mutes the lesser
    alerts of the same host, target and check area."""
    if not settings["inhibit"]:
        return
    down = {e["host"]: fingerprint(e["host"], HOST_DOWN_CHECK, e["host"]) for e in hosts if e["status"] == "down"}
    sources: dict[tuple[str, str, str], str] = {}
    for alert in present.values():
        if alert["host"] in down and alert["check"] != HOST_DOWN_CHECK:
            alert.update(state="muted", reason="host_down", muted_by=down[alert["host"]])
        elif alert["severity"] == "critical":
            sources.setdefault((alert["host"], alert["target"], _area(alert["check"])), alert["fingerprint"])
    for alert in present.values():
        if alert["state"] == "muted" or alert["severity"] == "critical":
            continue
        source = sources.get((alert["host"], alert["target"], _area(alert["check"])))
        if source is not None:
            alert.update(state="muted", reason="inhibited", muted_by=source)


def plan_alerts(
    settings: dict[str, Any], hosts: list[dict[str, Any]], entries: dict[str, dict[str, Any]], now: int
) -> list[dict[str, Any]]:
    """Every alert of the run with its state (new, ongoing, resolved, muted) and whether it is due.

    ``hosts`` are normalised host entries, ``entries`` the saved state (``read_entries``).
    Linear in the number of findings and entries.
    """
    present = _present(settings, hosts)
    _mute(settings, hosts, present)
    status = {e["host"]: e["status"] for e in hosts}
    down_mutes = {h: fingerprint(h, HOST_DOWN_CHECK, h) for h, s in status.items() if s == "down"}
    alerts = []
    for key, alert in present.items():
        entry = entries.get(key)
        if alert["state"] == "muted":
            if entry is not None:
                alert["first_seen"] = entry["first_seen"]
        elif entry is None or entry["resolved_pending"]:
            alert.update(state="new", due=True, reason="new", first_seen=now)
        elif entry["last_notified"] is None:
            # Seen before, never delivered: still new to everyone who reads the alert.
            alert.update(state="new", due=True, reason="new", first_seen=entry["first_seen"])
        else:
            alert.update(state="ongoing", first_seen=entry["first_seen"])
            _repeat(settings, alert, entry, now)
        alerts.append(alert)
    for key, entry in entries.items():
        if key in present:
            continue
        host_status = status.get(entry["host"])
        if host_status is None:
            continue  # another slice of the fleet, or --limit: not ours to resolve
        if host_status == "down":
            if settings["inhibit"]:
                alert = _from_entry(key, entry)
                alert.update(state="muted", reason="host_down", muted_by=down_mutes[entry["host"]])
                alerts.append(alert)
            continue  # without inhibition a down host's silence proves nothing either: left as it is
        alert = _from_entry(key, entry)
        alert["state"] = "resolved"
        if entry["last_notified"] is None and not entry["resolved_pending"]:
            alert["reason"] = "never_notified"
        elif not settings["send_resolved"]:
            alert["reason"] = "send_resolved_off"
        else:
            alert.update(due=True, reason="resolved")
        if alert["resolved_at"] is None:
            alert["resolved_at"] = now
        alerts.append(alert)
    return alerts


def _repeat(settings: dict[str, Any], alert: dict[str, Any], entry: dict[str, Any], now: int) -> None:
    notified = entry["notified_severity"] or entry["severity"]
    if severity_rank(alert["severity"]) > severity_rank(notified):
        alert.update(due=True, reason="escalated")
    elif settings["repeat_interval"] == 0:
        alert.update(due=True, reason="repeat")
    elif now < entry["last_notified"]:
        alert["reason"] = "clock_behind"
    elif now - entry["last_notified"] >= settings["repeat_interval"]:
        alert.update(due=True, reason="repeat")
    else:
        alert["reason"] = "interval"


# ---------------------------------------------------------------------------------------------
# Rendering


def _kind(alert: dict[str, Any]) -> str:
    """The section of an alert in a message: new, repeat, escalated, ongoing or resolved."""
    if alert["state"] == "ongoing":
        return alert["reason"] if alert["due"] else "ongoing"
    return str(alert["state"])


def _section(alert: dict[str, Any]) -> str:
    kind = _kind(alert)
    return "repeat" if kind == "escalated" else kind


def choose_listed(settings: dict[str, Any], alerts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The alerts the message names, worst first, and how many due ones ``max_alerts`` left out.

    The due alerts; when none is due, the ongoing ones: the digest that ``always`` sends (and
    what the messages say when nothing is sent, rather than a false "nothing firing"). Due
    alerts left out stay due for the next run.
    """
    chosen = [a for a in alerts if a["due"]]
    if not chosen:
        chosen = [a for a in alerts if a["state"] == "ongoing"]
    chosen.sort(key=lambda a: (-severity_rank(a["severity"]), _SECTION_ORDER[_kind(a)]))
    limit = settings["max_alerts"]
    truncated = 0
    if limit and len(chosen) > limit:
        truncated = len(chosen) - limit
        chosen = chosen[:limit]
    for alert in chosen:
        alert["listed"] = True
    return chosen, truncated


def _host_order(hosts: list[dict[str, Any]], listed: list[dict[str, Any]]) -> list[str]:
    position = {e["host"]: i for i, e in enumerate(hosts)}
    worst: dict[str, int] = {}
    for alert in listed:
        rank = severity_rank(alert["severity"]) if alert["state"] != "resolved" else 0
        worst[alert["host"]] = max(worst.get(alert["host"], 0), rank)
    return sorted(worst, key=lambda h: (-worst[h], position.get(h, len(position)), h))


def _line(alert: dict[str, Any]) -> str:
    text = "%s %s %s: %s (since %s" % (
        alert["severity"].upper(),
        one_line(alert["check"]),
        one_line(alert["target"]),
        one_line(alert["summary"]),
        iso(alert["first_seen"]),
    )
    if _kind(alert) == "escalated":
        text += ", escalated"
    if alert["state"] == "resolved":
        text += ", resolved %s" % iso(alert["resolved_at"])
    return text + ")"


def _subject(settings: dict[str, Any], listed: list[dict[str, Any]]) -> tuple[str, str, str]:
    """(subject, status, severity)."""
    firing = [a for a in listed if a["state"] != "resolved"]
    counts = {s: 0 for s in ("new", "repeat", "ongoing", "resolved")}
    for alert in listed:
        counts[_section(alert)] += 1
    parts = [
        "%d %s" % (counts[k], w)
        for k, w in (("new", "new"), ("repeat", "repeated"), ("ongoing", "ongoing"), ("resolved", "resolved"))
        if counts[k]
    ]
    head = "%s - %s" % (settings["title"], settings["run"])
    if firing:
        severity = max((a["severity"] for a in firing), key=severity_rank)
        return "%s: %s: %s" % (severity.upper(), head, ", ".join(parts)), "firing", severity
    if listed:
        return "RESOLVED: %s: %s" % (head, ", ".join(parts)), "resolved", "ok"
    return "OK: %s: nothing firing" % head, "ok", "ok"


def _body(
    settings: dict[str, Any],
    hosts: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    listed: list[dict[str, Any]],
    truncated: int,
    subject: str,
) -> str:
    reasons = {e["host"]: e["reason"] for e in hosts if e["status"] == "down"}
    by_host: dict[str, list[dict[str, Any]]] = {}
    for alert in listed:
        by_host.setdefault(alert["host"], []).append(alert)
    lines = [subject, ""]
    for host in _host_order(hosts, listed):
        head = one_line(host)
        if host in reasons:
            head += " (down: %s)" % one_line(reasons[host] or "failed or unreachable")
        lines.append(head)
        for section, title in _SECTION_TITLES:
            items = [a for a in by_host[host] if _section(a) == section]
            if items:
                lines.append("  %s" % title)
                lines.extend("    %s" % _line(a) for a in items)
        lines.append("")
    if not listed:
        lines.extend(["Nothing is firing.", ""])
    if truncated:
        lines.append(
            "%d more due alerts are not listed (max_alerts %d); they stay due for the next run."
            % (truncated, settings["max_alerts"])
        )
    quiet = sum(1 for a in alerts if a["state"] == "ongoing" and not a["listed"])
    muted = sum(1 for a in alerts if a["state"] == "muted")
    lines.append("%d ongoing alerts not repeated, %d muted." % (quiet, muted))
    if settings["external_url"]:
        lines.append("Run report: %s" % settings["external_url"])
    return "\n".join(lines) + "\n"


def _recipients(settings: dict[str, Any], listed: list[dict[str, Any]]) -> list[str]:
    recipients = settings["recipients"]
    if listed:
        severities = [s for s in reversed(ALERT_SEVERITIES) if any(a["severity"] == s for a in listed)]
    else:
        # The "nothing firing" digest that `always` asks for goes to everyone on the list.
        severities = list(reversed(ALERT_SEVERITIES))
    seen: set[str] = set()
    addresses = []
    for severity in severities:
        for address in recipients.get(severity, []):
            if address.lower() not in seen:
                seen.add(address.lower())
                addresses.append(address)
    return addresses


def _payload_alert(settings: dict[str, Any], alert: dict[str, Any]) -> dict[str, Any]:
    resolved = alert["state"] == "resolved"
    labels = {
        "alertname": one_line(alert["check"], PAYLOAD_FIELD_LIMIT),
        "host": one_line(alert["host"], PAYLOAD_FIELD_LIMIT),
        "instance": one_line(alert["host"], PAYLOAD_FIELD_LIMIT),
        "target": one_line(alert["target"], PAYLOAD_FIELD_LIMIT),
        "severity": alert["severity"],
        "run": settings["run"],
    }
    return {
        "status": "resolved" if resolved else "firing",
        "labels": labels,
        "annotations": {"summary": one_line(alert["summary"], PAYLOAD_FIELD_LIMIT), "state": _kind(alert)},
        "startsAt": iso(alert["first_seen"]),
        "endsAt": iso(alert["resolved_at"]) if resolved else ZERO_TIME,
        "generatorURL": settings["external_link"],
        "fingerprint": alert["fingerprint"],
    }


def _common(items: list[dict[str, str]], base: dict[str, str]) -> dict[str, str]:
    if not items:
        return dict(base)
    common = dict(items[0])
    for item in items[1:]:
        common = {k: v for k, v in common.items() if item.get(k) == v}
    return common


def group_key(run: str) -> str:
    """Alertmanager's groupKey of the run's one group (route ``{}``, grouped by run)."""
    return "{}:{run=%s}" % json.dumps(run)


def webhook(
    settings: dict[str, Any], listed: list[dict[str, Any]], truncated: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload, {body, headers}): Alertmanager's webhook v4, body signed when a secret is set."""
    alerts = [_payload_alert(settings, a) for a in listed]
    payload = {
        "version": "4",
        "groupKey": group_key(settings["run"]),
        "truncatedAlerts": truncated,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": settings["receiver"],
        "groupLabels": {"run": settings["run"]},
        "commonLabels": _common([a["labels"] for a in alerts], {"run": settings["run"]}),
        "commonAnnotations": _common([a["annotations"] for a in alerts], {}),
        "externalURL": settings["external_link"],
        "alerts": alerts,
    }
    # ASCII only, so the bytes signed are the bytes sent whatever encoding the sender picks.
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    headers = {"Content-Type": "application/json"}
    if settings["webhook_secret"]:
        headers[SIGNATURE_HEADER] = "sha256=" + sign(settings["webhook_secret"], body)
    return payload, {"body": body, "headers": headers}


def sign(secret: str, body: str) -> str:
    """Hex HMAC-SHA256 of the exact body (what a receiver recomputes over the bytes it got)."""
    return hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _public(alert: dict[str, Any]) -> dict[str, Any]:
    shown = dict(alert)
    shown["first_seen"] = iso(alert["first_seen"]) if alert["first_seen"] is not None else None
    shown["resolved_at"] = iso(alert["resolved_at"]) if alert["state"] == "resolved" else None
    return shown


def build_plan(
    settings: dict[str, Any],
    hosts: list[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
    now: int,
    problems: Optional[list[str]] = None,
) -> dict[str, Any]:
    """The result of ``action: plan``: the alerts, the rendered messages and the counts."""
    alerts = plan_alerts(settings, hosts, entries, now)
    listed, truncated = choose_listed(settings, alerts)
    subject, status, severity = _subject(settings, listed)
    payload, hook = webhook(settings, listed, truncated)
    counts = {
        "new": sum(1 for a in alerts if a["state"] == "new"),
        "repeated": sum(1 for a in alerts if a["state"] == "ongoing" and a["due"]),
        "ongoing": sum(1 for a in alerts if a["state"] == "ongoing" and not a["due"]),
        "resolved": sum(1 for a in alerts if a["state"] == "resolved"),
        "muted": sum(1 for a in alerts if a["state"] == "muted"),
    }
    findings = [make_finding("alert.state", settings["state_path"] or "state", "info", p) for p in problems or []]
    return {
        "changed": False,
        "notify": any(a["due"] for a in alerts) or settings["always"],
        "status": status,
        "severity": severity,
        "subject": subject,
        "body": _body(settings, hosts, alerts, listed, truncated, subject),
        "recipients": _recipients(settings, listed),
        "webhook": hook,
        "payload": payload,
        "alerts": [_public(a) for a in alerts],
        "counts": counts,
        "truncated": truncated,
        "run": settings["run"],
        "state_path": settings["state_path"],
        "planned_at": iso(now),
        "findings": findings,
        "worst_severity": "info" if findings else "ok",
    }


# ---------------------------------------------------------------------------------------------
# Record

_PLAN_KEYS = ("alerts", "notify", "run", "state_path", "planned_at")
_ALERT_KEYS = ("fingerprint", "host", "check", "target", "severity", "summary", "state", "due", "listed", "first_seen")


def check_plan(plan: Any, state_path: str) -> dict[str, Any]:
    """The registered result of ``action: plan``, checked enough that garbage gets a clear message."""
    if not isinstance(plan, dict):
        raise AlertError("plan must be the registered result of alert_state action=plan, got %s" % type(plan).__name__)
    if plan.get("skipped"):
        raise AlertError("plan: the plan task was skipped, there is nothing to record")
    if plan.get("failed"):
        raise AlertError(
            "plan: the plan task failed (%s), there is nothing to record" % one_line(plan.get("msg", ""), 200)
        )
    missing = [k for k in _PLAN_KEYS if k not in plan]
    if missing:
        raise AlertError(
            "plan does not look like the result of alert_state action=plan: it has no %s" % ", ".join(missing)
        )
    if plan["state_path"] != state_path:
        raise AlertError(
            "plan was made for the state file %s, not %s" % (one_line(plan["state_path"]), one_line(state_path))
        )
    if not isinstance(plan["notify"], bool):
        raise AlertError("plan.notify must be a boolean")
    if not isinstance(plan["alerts"], list):
        raise AlertError("plan.alerts must be a list")
    alerts = [_plan_alert(i, a) for i, a in enumerate(plan["alerts"])]
    return {
        "alerts": alerts,
        "notify": plan["notify"],
        "run": _name(plan, "run"),
        "now": parse_iso(plan["planned_at"], "plan.planned_at"),
    }


def _plan_alert(index: int, alert: Any) -> dict[str, Any]:
    where = "plan.alerts[%d]" % index
    if not isinstance(alert, dict):
        raise AlertError("%s must be a mapping" % where)
    missing = [k for k in _ALERT_KEYS if k not in alert]
    if missing:
        raise AlertError("%s has no %s" % (where, ", ".join(missing)))
    if not isinstance(alert["fingerprint"], str) or not _FINGERPRINT.match(alert["fingerprint"]):
        raise AlertError("%s.fingerprint must be 16 hex digits" % where)
    for key in ("host", "check", "target", "summary"):
        if not isinstance(alert[key], str):
            raise AlertError("%s.%s must be a string" % (where, key))
    if alert["severity"] not in ALERT_SEVERITIES:
        raise AlertError("%s.severity must be one of %s" % (where, ", ".join(ALERT_SEVERITIES)))
    if alert["state"] not in STATES:
        raise AlertError("%s.state must be one of %s" % (where, ", ".join(STATES)))
    for key in ("due", "listed"):
        if not isinstance(alert[key], bool):
            raise AlertError("%s.%s must be a boolean" % (where, key))
    checked = dict(alert)
    checked["first_seen"] = (
        None if alert["first_seen"] is None else parse_iso(alert["first_seen"], where + ".first_seen")
    )
    if checked["first_seen"] is None and alert["state"] != "muted":
        raise AlertError("%s.first_seen is missing" % where)
    return checked


def check_delivered(delivered: Any) -> list[dict[str, Any]]:
    """The delivery attempts: [{channel, ok, error}]."""
    if delivered is None:
        return []
    if not isinstance(delivered, list):
        raise AlertError("delivered must be a list of {channel, ok, error}")
    checked = []
    for index, item in enumerate(delivered):
        where = "delivered[%d]" % index
        if not isinstance(item, dict):
            raise AlertError("%s must be a mapping with channel, ok and error" % where)
        unknown = sorted(set(map(str, item)) - {"channel", "ok", "error"})
        if unknown:
            raise AlertError("%s has unknown keys: %s (expected channel, ok, error)" % (where, ", ".join(unknown)))
        channel = item.get("channel")
        if not isinstance(channel, str) or not channel.strip():
            raise AlertError("%s.channel must be a non-empty string" % where)
        if not isinstance(item.get("ok"), bool):
            raise AlertError("%s.ok must be a boolean (true when the channel delivered the alert)" % where)
        error = item.get("error")
        checked.append({"channel": channel, "ok": item["ok"], "error": "" if error is None else str(error)})
    return checked


def _stored(alert: dict[str, Any], now: int, old: Optional[dict[str, Any]]) -> dict[str, Any]:
    entry = {
        "host": alert["host"],
        "check": alert["check"],
        # The fingerprint is the key; the state keeps enough of a huge target to show it.
        "target": alert["target"][:PAYLOAD_FIELD_LIMIT],
        "severity": alert["severity"],
        "summary": alert["summary"][:PAYLOAD_FIELD_LIMIT],
        "first_seen": alert["first_seen"],
        "last_seen": now,
        "last_notified": None,
        "notified_severity": None,
        "resolved_pending": False,
        "resolved_at": None,
    }
    if old is not None and alert["state"] == "ongoing":
        entry["last_notified"] = old["last_notified"]
        entry["notified_severity"] = old["notified_severity"]
    return entry


def record_state(
    plan: dict[str, Any], delivered: list[dict[str, Any]], entries: dict[str, dict[str, Any]], now: int
) -> tuple[dict[str, dict[str, Any]], bool]:
    """(new entries, sent): the state once the plan's message was (or was not) delivered.

    ``entries`` is the state read again just before writing: only the fingerprints the plan
    names are touched, so entries of other hosts stay as they are. ``now`` is the plan's time.
    """
    sent = any(d["ok"] for d in delivered)
    result = dict(entries)
    for alert in plan["alerts"]:
        key = alert["fingerprint"]
        old = entries.get(key)
        delivered_here = sent and alert["due"] and alert["listed"]
        if alert["state"] == "muted":
            continue
        if alert["state"] == "resolved":
            if delivered_here or not alert["due"]:
                result.pop(key, None)
            elif old is not None:
                pending = dict(old)
                pending["resolved_pending"] = True
                if pending["resolved_at"] is None:
                    pending["resolved_at"] = now
                result[key] = pending
            continue
        entry = _stored(alert, now, old)
        if delivered_here:
            entry["last_notified"] = now
            entry["notified_severity"] = alert["severity"]
        result[key] = entry
    return result, sent


def delivery_findings(plan: dict[str, Any], delivered: list[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    """One ``alert.delivery`` finding per channel tried; a warning when nothing could be tried."""
    sent = any(d["ok"] for d in delivered)
    findings = []
    for item in delivered:
        channel = item["channel"]
        if item["ok"]:
            findings.append(
                make_finding("alert.delivery", channel, "ok", "alert of run %s delivered by %s" % (run, channel))
            )
            continue
        error = one_line(item["error"] or "no error given", 500)
        if not plan["notify"]:
            severity, tail = "info", "nothing was due"
        elif sent:
            severity, tail = "warning", "delivered by %s" % ", ".join(d["channel"] for d in delivered if d["ok"])
        else:
            severity, tail = "critical", "no channel delivered it; the due alerts stay due for the next run"
        findings.append(
            make_finding(
                "alert.delivery",
                channel,
                severity,
                "alert of run %s not delivered by %s: %s; %s" % (run, channel, error, tail),
                {"error": error},
            )
        )
    if not delivered and plan["notify"]:
        findings.append(
            make_finding(
                "alert.delivery",
                "alert",
                "warning",
                "alert not sent: no channel configured (run %s); the due alerts stay due for the next run" % run,
            )
        )
    return findings


def state_data(run: str, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What is saved: the run's name and the entries."""
    return {"run": run, "alerts": entries}


# --- delivery -----------------------------------------------------------------------------------

# What community.general.mail says when every recipient took the message.
MAIL_SENT = "Mail sent successfully"


def _ran(result: Any) -> bool:
    return isinstance(result, dict) and bool(result) and not result.get("skipped")


def delivered_from_results(mail: Any, webhook: Any, smtp_server: str, webhook_host: str) -> list[dict[str, Any]]:
    """The ``delivered`` list of ``record`` from the registered results of the report role's mail
    task (community.general.mail) and webhook task (ansible.builtin.uri), both run with
    ``ignore_errors``. A task that did not run (skipped, or never reached) is no channel.

    The mail module exits without failing when some recipients were refused ("Failed to send
    mail to at least one recipient"): that is not a delivery. The webhook's URL can carry a
    token, so only its host is named.
    """
    delivered = []
    if _ran(mail):
        ok = not mail.get("failed") and mail.get("msg") == MAIL_SENT
        error = ""
        if not ok:
            error = "SMTP %s: %s" % (smtp_server, one_line(mail.get("msg") or "failed", PAYLOAD_FIELD_LIMIT))
            if mail.get("result"):
                error += " %s" % one_line(json.dumps(mail["result"], sort_keys=True, default=str), PAYLOAD_FIELD_LIMIT)
        delivered.append({"channel": "mail", "ok": ok, "error": error})
    if _ran(webhook):
        ok = not webhook.get("failed")
        status = webhook.get("status")
        msg = one_line(webhook.get("msg") or "failed", PAYLOAD_FIELD_LIMIT)
        if ok:
            error = ""
        elif isinstance(status, int) and status > 0:
            error = "webhook %s answered HTTP %d: %s" % (webhook_host, status, msg)
        else:
            error = "webhook %s did not answer: %s" % (webhook_host, msg)
        delivered.append({"channel": "webhook", "ok": ok, "error": error})
    return delivered
