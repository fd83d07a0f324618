# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""pg_health's decisions: its options, its findings, the deltas of pg_stat_statements between runs.

Everything here is pure. The module reads the server (rows as plain dicts, see _pg_health_sql)
and hands them to the judges below, which return the result's data and findings; unit tests
feed them plain rows, without a server.
"""

from __future__ import annotations

import heapq
from typing import Any, Iterable, Mapping, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    parse_percent,
    severity_for_value,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    argument_spec,
    duration_spec,
    read_duration,
)
from ansible_collections.stronghold.ops.plugins.module_utils._pg_health_sql import GUARD_SINCE, GUARDS
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import postgres_argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._xmin_holders import (
    describe_holder,
    holders_for,
    oldest_holder,
)

Row = dict[str, Any]
Finding = dict[str, Any]
Params = Mapping[str, Any]

CHECKS = ("connections", "sessions", "wraparound", "settings", "statements")
MEASURES = ("total_time", "calls", "mean_time", "shared_blks_read")
STATE_KIND = "pg_health"
STATE_VERSION = 1
# Wraparound happens at 2^31 transactions (and multixacts); a threshold beyond is a typo.
MAX_AGE = 2**31
# The thresholds on session durations: (option, default) for warning and critical.
DURATIONS = {
    "transaction": ("1h", "6h"),
    "query": ("5m", "30m"),
    "idle_in_transaction": ("5m", "30m"),
    "blocked": ("1m", "5m"),
    "replay_lag": ("5m", "30m"),
}

OWN_SPEC: dict[str, dict[str, Any]] = {
    "checks": {"type": "list", "elements": "str", "choices": list(CHECKS), "default": list(CHECKS)},
    "connections_warning": {"type": "raw", "default": 80},
    "connections_critical": {"type": "raw", "default": 95},
    "xid_age_warning": {"type": "int", "default": 1300000000},
    "xid_age_critical": {"type": "int", "default": 1400000000},
    "mxid_age_warning": {"type": "int", "default": 1300000000},
    "mxid_age_critical": {"type": "int", "default": 1400000000},
    "mean_time_warning": duration_spec("100ms"),
    "mean_time_critical": duration_spec(),
    "top": {"type": "int", "default": 10},
    "state_path": {"type": "path"},
    "query_text": {"type": "bool", "default": False},
}
for _name, (_warning, _critical) in DURATIONS.items():
    OWN_SPEC["%s_warning" % _name] = duration_spec(_warning)
    OWN_SPEC["%s_critical" % _name] = duration_spec(_critical)

ARGUMENT_SPEC = argument_spec(postgres_argument_spec(), own=OWN_SPEC)


class HealthError(FindingError):
    """Bad input: the module fails with this message before connecting."""


# --- options ----------------------------------------------------------------------------------


def _pair(low: Optional[float], high: Optional[float], name: str) -> None:
    if low is not None and high is not None and high < low:
        raise HealthError("%s_critical must not be below %s_warning" % (name, name))


def read_options(params: Params) -> Row:
    """The thresholds as numbers (seconds, percentages, ages); HealthError names a bad option."""
    opts: Row = {"checks": list(dict.fromkeys(params["checks"] or ()))}
    if not opts["checks"]:
        raise HealthError("checks must name at least one of %s" % ", ".join(CHECKS))
    try:
        for name in ("connections_warning", "connections_critical"):
            value = params.get(name)
            try:
                opts[name] = None if value is None or value == "" else parse_percent(value)
            except FindingError as exc:
                raise HealthError("%s: %s" % (name, exc)) from exc
        _pair(opts["connections_warning"], opts["connections_critical"], "connections")
        for name in list(DURATIONS) + ["mean_time"]:
            for level in ("warning", "critical"):
                option = "%s_%s" % (name, level)
                opts[option] = read_duration(dict(params), option)
            _pair(opts[name + "_warning"], opts[name + "_critical"], name)
        for name in ("xid_age", "mxid_age"):
            for level in ("warning", "critical"):
                option = "%s_%s" % (name, level)
                value = params.get(option)
                opts[option] = None if value is None else int(bounded_number(value, option, 1, MAX_AGE))
            _pair(opts[name + "_warning"], opts[name + "_critical"], name)
        opts["top"] = int(bounded_number(params["top"], "top", 1, 1000))
    except HealthError:
        raise
    except FindingError as exc:
        raise HealthError(str(exc)) from exc
    if params.get("state_path") is not None and not str(params["state_path"]).strip():
        raise HealthError("state_path must be a file path, got an empty string")
    opts["state_path"] = params.get("state_path")
    opts["query_text"] = bool(params.get("query_text"))
    return opts


def describe_target(params: Params) -> str:
    """Where the module connects, as a person would name it: host:port, or the socket and port."""
    host = params.get("login_host") or ""
    if params.get("login_unix_socket") and host in ("", "localhost"):
        host = params["login_unix_socket"]
    port = params.get("login_port")
    if host.startswith("/"):
        return "socket %s port %s" % (host, port)
    return "%s:%s" % ("[%s]" % host if ":" in host else host or "local socket", port)


def seconds_text(seconds: Optional[float]) -> str:
    """'2h 05m', '4m 10s', '12.3 s', for the summaries."""
    if seconds is None:
        return "unknown time"
    if seconds < 60:
        return "%.1f s" % seconds
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return "%dd %02dh" % (days, hours)
    if hours:
        return "%dh %02dm" % (hours, minutes)
    return "%dm %02ds" % (minutes, secs)


# --- connectivity and server --------------------------------------------------------------------


def refused(target: str, params: Params, error: str) -> Finding:
    """The critical finding of a server that does not accept the connection (down, full, auth)."""
    database = params.get("login_db") or "(default database)"
    return make_finding(
        "postgres.connect",
        target,
        "critical",
        "PostgreSQL refuses connections at %s (database %s, user %s): %s"
        % (target, database, params.get("login_user"), error),
        {"error": error, "database": database, "user": params.get("login_user")},
    )


def lost(target: str, error: str, during: str) -> Finding:
    return make_finding(
        "postgres.connect",
        target,
        "critical",
        "PostgreSQL connection lost at %s during the %s check: %s" % (target, during, error),
        {"error": error, "during": during},
    )


def server_finding(target: str, server: Row) -> Finding:
    role = "standby (in recovery)" if server["in_recovery"] else "primary"
    return make_finding(
        "postgres.connect",
        target,
        "ok",
        "PostgreSQL %s accepts connections (%s)" % (server["server_version"], role),
        {"version": server["version"], "in_recovery": server["in_recovery"], "user": server.get("user")},
    )


def judge_replay(target: str, replay: Row, opts: Params) -> tuple[Row, Finding]:
    """Replay lag of a standby: the age of the last replayed transaction while WAL waits to be replayed."""
    waiting = replay.get("replay_bytes")
    age = replay.get("replay_seconds")
    lag = 0.0 if (waiting == 0 and age is not None) else age
    data = dict(replay, lag_seconds=lag)
    if lag is None:
        finding = make_finding(
            "postgres.replay_lag", target, "warning", "standby has replayed no transaction yet", data
        )
        return data, finding
    severity = severity_for_value(lag, opts["replay_lag_warning"], opts["replay_lag_critical"])
    summary = "standby replay lag %s (%s bytes received and not yet replayed)" % (
        seconds_text(lag),
        waiting if waiting is not None else "unknown",
    )
    return data, make_finding("postgres.replay_lag", target, severity, summary, data)


# --- connections --------------------------------------------------------------------------------


def _setting(settings: Mapping[str, Row], name: str, default: float = 0) -> float:
    row = settings.get(name)
    try:
        return float(row["setting"]) if row else default
    except (TypeError, ValueError):
        return default


def is_client(row: Mapping[str, Any]) -> bool:
    """A client backend; a row hidden from this role (no backend_type) counts as one when it has a user
    (background processes have none, except the autovacuum and logical replication launchers)."""
    if row.get("backend_type") is None:
        return row.get("user") is not None
    return bool(row["backend_type"] == "client backend")


def judge_connections(
    target: str, settings: Mapping[str, Row], activity: Iterable[Row], opts: Params
) -> tuple[Row, Finding]:
    """Client backends against what clients can use (max_connections less the reserved slots)."""
    maximum = int(_setting(settings, "max_connections"))
    superuser = int(_setting(settings, "superuser_reserved_connections"))
    reserved = int(_setting(settings, "reserved_connections"))  # PostgreSQL 16+; absent before
    usable = max(1, maximum - superuser - reserved)
    states: dict[str, int] = {}
    used = 0
    for row in activity:
        if not is_client(row):
            continue
        used += 1
        state = row.get("state") or "unknown"
        states[state] = states.get(state, 0) + 1
    percent = round(100.0 * used / usable, 1)
    data = {
        "used": used,
        "usable": usable,
        "percent": percent,
        "max_connections": maximum,
        "superuser_reserved_connections": superuser,
        "reserved_connections": reserved,
        "by_state": states,
    }
    severity = severity_for_value(percent, opts["connections_warning"], opts["connections_critical"])
    summary = "%d of %d usable connections in use (%.1f %%; max_connections %d less %d reserved)" % (
        used,
        usable,
        percent,
        maximum,
        superuser + reserved,
    )
    return data, make_finding("postgres.connections", target, severity, summary, data)


# --- sessions -----------------------------------------------------------------------------------


def session_view(row: Row, seconds: Optional[float]) -> Row:
    """A session as returned: who, where, what, and the duration judged."""
    view = {
        key: row.get(key)
        for key in (
            "pid",
            "backend_type",
            "user",
            "database",
            "application",
            "client",
            "state",
            "wait_event_type",
            "wait_event",
        )
    }
    view["seconds"] = None if seconds is None else round(seconds, 1)
    if row.get("query") is not None:
        view["query"] = row["query"]
    if row.get("blocked_by") is not None:
        view["blocked_by"] = list(row["blocked_by"])
    return view


def describe_session(view: Row) -> str:
    if view.get("backend_type") not in (None, "client backend"):
        return "pid %s (%s%s)" % (
            view["pid"],
            view["backend_type"],
            ", database %s" % view["database"] if view.get("database") else "",
        )
    facts = [
        "%s %s" % (label, view[key])
        for key, label in (
            ("user", "user"),
            ("database", "database"),
            ("application", "application"),
            ("client", "client"),
        )
        if view.get(key)
    ]
    return "pid %s (%s)" % (view["pid"], ", ".join(facts)) if facts else "pid %s" % view["pid"]


# What each session category measures, from which row field, and how a summary says it.
CATEGORIES = (
    ("transaction", "postgres.transactions", "xact_seconds", "in a transaction"),
    ("query", "postgres.queries", "query_seconds", "running one query"),
    ("idle_in_transaction", "postgres.idle_in_transaction", "state_seconds", "idle in transaction"),
    ("blocked", "postgres.blocked", "query_seconds", "waiting on a lock"),
)


def _category_rows(name: str, rows: list[Row]) -> list[Row]:
    if name == "transaction":
        return [r for r in rows if r.get("xact_seconds") is not None]
    if name == "query":
        return [r for r in rows if r.get("state") == "active"]
    if name == "idle_in_transaction":
        return [r for r in rows if (r.get("state") or "").startswith("idle in transaction")]
    return [r for r in rows if r.get("blocked_by")]


def judge_sessions(
    target: str, activity: Iterable[Row], opts: Params, guards: Optional[Mapping[str, Row]] = None
) -> tuple[Row, list[Finding]]:
    """Longest transactions and queries, sessions idle in transaction, blocked sessions and their blockers."""
    everyone = [r for r in activity if not r.get("self")]
    by_pid = dict((r["pid"], r) for r in everyone)
    clients = [r for r in everyone if is_client(r)]
    top = opts["top"]
    data: Row = {}
    findings: list[Finding] = []
    for name, check, field, doing in CATEGORIES:
        rows = _category_rows(name, clients)
        rows.sort(key=lambda r: -(r.get(field) or 0))
        views = [session_view(r, r.get(field)) for r in rows[:top]]
        if name == "blocked":
            for view in views:
                view["blockers"] = [
                    session_view(by_pid[pid], by_pid[pid].get("xact_seconds")) if pid in by_pid else {"pid": pid}
                    for pid in view.get("blocked_by", [])
                ]
        data["longest_transactions" if name == "transaction" else "longest_queries" if name == "query" else name] = (
            views
        )
        warning, critical = opts[name + "_warning"], opts[name + "_critical"]
        over = [
            v for v in views if v["seconds"] is not None and severity_for_value(v["seconds"], warning, critical) != "ok"
        ]
        count = len(rows)
        if not over:
            summary = "%d session(s) %s" % (count, doing)
            if views and views[0]["seconds"] is not None:
                summary += ", the longest %s" % seconds_text(views[0]["seconds"])
            findings.append(make_finding(check, target, "ok", summary, {"count": count, "warning_seconds": warning}))
            continue
        worst = over[0]
        severity = severity_for_value(worst["seconds"], warning, critical)
        summary = "%d session(s) %s for more than %s; the longest: %s %s for %s" % (
            len(over),
            doing,
            seconds_text(warning if severity == "warning" or critical is None else critical),
            describe_session(worst),
            doing,
            seconds_text(worst["seconds"]),
        )
        if name == "blocked":
            summary += ", blocked by %s" % ", ".join(
                describe_session(b) if "backend_type" in b else "pid %s" % b["pid"] for b in worst["blockers"]
            )
        guard = {"idle_in_transaction": "idle_in_transaction_session_timeout", "query": "statement_timeout"}.get(name)
        if guard is None and name == "transaction" and guards and "transaction_timeout" in guards:
            guard = "transaction_timeout"
        if guard and guards is not None and guard in guards and not guards[guard]["set"]:
            summary += "; %s is not set to end such sessions" % guard
        details = {"count": count, "warning_seconds": warning, "critical_seconds": critical, "sessions": over}
        findings.append(make_finding(check, target, severity, summary, details))
    hidden = [r for r in clients if r.get("state") is None]
    data["hidden"] = len(hidden)
    if hidden:
        findings.append(
            make_finding(
                "postgres.privileges",
                target,
                "info",
                "%d session(s) of other users are hidden from this role: their state and times are not judged and "
                "connections are counted approximately; grant it pg_monitor" % len(hidden),
                {"hidden_sessions": len(hidden)},
            )
        )
    return data, findings


# --- settings -----------------------------------------------------------------------------------


def _is_set(value: Any) -> bool:
    text = str(value).strip().lower()
    return text not in ("", "0", "0ms", "0s", "0min", "0h", "0d")


def judge_settings(
    target: str, settings: Mapping[str, Row], overrides: Iterable[Row], server_version: int
) -> tuple[Row, list[Finding]]:
    """Whether the session guards are set server-wide, or per database or role (ALTER ... SET)."""
    guards: Row = {}
    per: dict[str, list[str]] = dict((name, []) for name in GUARDS)
    for row in overrides:
        for item in row.get("setconfig") or ():
            name, dummy, value = str(item).partition("=")
            if name in per and _is_set(value):
                scope = " ".join(
                    part
                    for part in (
                        "database " + row["database"] if row["database"] else "",
                        "role " + row["role"] if row["role"] else "",
                    )
                    if part
                )
                per[name].append("%s: %s" % (scope or "everyone", value))
    for name in GUARDS:
        if server_version < GUARD_SINCE[name]:
            continue
        row = settings.get(name) or {}
        setting = row.get("setting")
        unit = row.get("unit") or ""
        shown = "%s%s" % (setting, unit) if setting is not None else None
        guards[name] = {
            "value": shown,
            "source": row.get("source"),
            "set": bool(setting is not None and _is_set(setting)) or bool(per[name]),
            "overrides": per[name],
        }
    unset = [name for name, guard in guards.items() if not guard["set"]]
    if unset:
        summary = "session guards not set: %s (sessions can stay open or run without limit)" % ", ".join(unset)
        finding = make_finding("postgres.settings", target, "info", summary, {"guards": guards})
    else:
        finding = make_finding("postgres.settings", target, "ok", "every session guard is set", {"guards": guards})
    return guards, [finding]


# --- wraparound ---------------------------------------------------------------------------------


def judge_wraparound(
    target: str, databases: Iterable[Row], holders: list[Row], settings: Mapping[str, Row], opts: Params
) -> list[Finding]:
    """age(datfrozenxid) and mxid_age(datminmxid) per database; the holder of the xmin horizon named."""
    findings = []
    freeze_max = _setting(settings, "autovacuum_freeze_max_age", 200000000)
    mfreeze_max = _setting(settings, "autovacuum_multixact_freeze_max_age", 400000000)
    for db in databases:
        xid = severity_for_value(db["xid_age"], opts["xid_age_warning"], opts["xid_age_critical"])
        mxid = severity_for_value(db["mxid_age"], opts["mxid_age_warning"], opts["mxid_age_critical"])
        severity = worst_severity([xid, mxid])
        details: Row = {
            "xid_age": db["xid_age"],
            "mxid_age": db["mxid_age"],
            "autovacuum_freeze_max_age": int(freeze_max),
            "autovacuum_multixact_freeze_max_age": int(mfreeze_max),
            "percent_to_wraparound": round(100.0 * max(db["xid_age"], db["mxid_age"]) / MAX_AGE, 1),
        }
        summary = "transaction ID age %d, multixact age %d (%.1f %% of the way to wraparound)" % (
            db["xid_age"],
            db["mxid_age"],
            details["percent_to_wraparound"],
        )
        overdue = db["xid_age"] > freeze_max or db["mxid_age"] > mfreeze_max
        if overdue and severity == "ok":
            severity = "info"
            summary += "; past autovacuum_freeze_max_age: an anti-wraparound autovacuum is due"
        if severity != "ok":
            held = holders_for(holders, db["name"])
            if held:
                details["held_back_by"] = held[0]
                summary += "; the xmin horizon is held back by %s" % describe_holder(held[0])
        findings.append(
            make_finding(
                "postgres.wraparound",
                "%s/%s" % (target, db["name"]),
                severity,
                "database %s: %s" % (db["name"], summary),
                details,
            )
        )
    return findings


def judge_horizon(target: str, holders: list[Row], opts: Params) -> Optional[Finding]:
    """The oldest holder of the xmin horizon: a warning when it is old or an inactive slot (as pg_vacuum)."""
    holder = oldest_holder(holders)
    if holder is None:
        return None
    long_for = opts["transaction_warning"]
    old = (long_for is not None and (holder.get("seconds") or 0) > long_for) or (
        holder["kind"] == "replication_slot" and "inactive" in (holder.get("state") or "")
    )
    return make_finding(
        "postgres.xmin_horizon",
        "%s %s" % (holder["kind"], holder["id"]),
        "warning" if old else "info",
        "%s holds back cleanup" % describe_holder(holder),
        dict(holder),
    )


# --- pg_stat_statements: snapshots and deltas ------------------------------------------------------

# A statement in the state file: [calls, total_ms, rows, shared_blks_read, shared_blks_hit, stats_since]
# under "dbid:userid:queryid:toplevel"; about 80 bytes of JSON each, so 5,000 statements stay
# well under half a MiB and the module never holds more than the current and previous counters.
_FIELDS = ("calls", "total_ms", "rows", "shared_blks_read", "shared_blks_hit")


def statement_key(row: Mapping[str, Any]) -> str:
    return "%d:%d:%d:%d" % (row["dbid"], row["userid"], row["queryid"], 1 if row.get("toplevel", True) else 0)


def compact(row: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = [row[name] or 0 for name in _FIELDS]
    values[1] = round(float(values[1]), 3)
    values.append(row.get("stats_since"))
    return values


def usable_previous(previous: Optional[Row], server: str) -> tuple[Optional[Row], Optional[str]]:
    """The previous snapshot when it is of this server and well formed; else None and why."""
    if previous is None:
        return None, None
    if previous.get("server") != server:
        return None, "the state file holds a snapshot of %s, not of %s; starting again" % (
            previous.get("server"),
            server,
        )
    if not isinstance(previous.get("entries"), dict):
        return None, "the state file holds no statement snapshot; starting again"
    return previous, None


def statement_deltas(
    rows: Iterable[Mapping[str, Any]], info: Optional[Row], previous: Optional[Row], now: float
) -> tuple[list[tuple[str, list[Any], list[Any]]], Row, Row]:
    """``(entries, events, snapshot)``: each statement's key, counters and delta since ``previous``.

    Without a previous snapshot, or after a reset (stats_reset moved), the delta is the counters
    themselves (since the reset). A statement whose calls went down, or whose stats_since moved
    (17+), was evicted and re-created: its delta is its counters since then. Statements of the
    previous snapshot that are gone were evicted (or reset).
    """
    prev_entries: Mapping[str, list[Any]] = (previous or {}).get("entries") or {}
    reset = False
    if previous is not None and info is not None:
        reset = previous.get("stats_reset") is not None and info.get("stats_reset") != previous.get("stats_reset")
    entries: list[tuple[str, list[Any], list[Any]]] = []
    recreated = 0
    seen = 0
    snapshot: dict[str, list[Any]] = {}
    for row in rows:
        key = statement_key(row)
        values = compact(row)
        snapshot[key] = values
        before = None if reset else prev_entries.get(key)
        if before is not None:
            seen += 1
            if values[0] < before[0] or (values[5] is not None and before[5] is not None and values[5] != before[5]):
                recreated += 1
                before = None
        delta = list(values[:5]) if before is None else [a - b for a, b in zip(values[:5], before[:5])]
        delta[1] = round(float(delta[1]), 3)
        entries.append((key, values, delta))
    if previous is not None and not reset and info is None and prev_entries and seen and recreated * 2 > seen:
        # Before 1.9 there is no stats_reset: most statements counting less than before is a reset.
        reset = True
        entries = [(key, values, list(values[:5])) for key, values, dummy in entries]
    gone = 0 if reset or previous is None else sum(1 for key in prev_entries if key not in snapshot)
    dealloc = None
    if info is not None and info.get("dealloc") is not None:
        dealloc = info["dealloc"]
    evicted = None
    if previous is not None and dealloc is not None and previous.get("dealloc") is not None and not reset:
        evicted = max(0, dealloc - previous["dealloc"])
    events = {
        "first_run": previous is None,
        "since": (info or {}).get("stats_reset") if previous is None or reset else previous.get("taken_at"),
        "reset": reset,
        "stats_reset": (info or {}).get("stats_reset"),
        "dealloc": dealloc,
        "evicted": evicted,
        "disappeared": gone,
        "recreated": 0 if reset else recreated,
        "statements": len(snapshot),
    }
    state = {
        "stats_reset": (info or {}).get("stats_reset"),
        "dealloc": dealloc,
        "taken_at": now,
        "entries": snapshot,
    }
    return entries, events, state


def _measure(delta: list[Any], measure: str) -> float:
    if measure == "total_time":
        return float(delta[1])
    if measure == "calls":
        return float(delta[0])
    if measure == "mean_time":
        return float(delta[1]) / delta[0] if delta[0] > 0 else 0.0
    return float(delta[3])


def top_statements(entries: list[tuple[str, list[Any], list[Any]]], top: int) -> dict[str, list[tuple[str, list[Any]]]]:
    """The ``top`` statements by each measure of their deltas (statements called in the period only)."""
    called = [(key, delta) for key, dummy, delta in entries if delta[0] > 0]
    tops: dict[str, list[tuple[str, list[Any]]]] = {}
    for measure in MEASURES:

        def value(item: tuple[str, list[Any]], measure: str = measure) -> float:
            return _measure(item[1], measure)

        tops[measure] = heapq.nlargest(top, called, key=value)
    return tops


def statement_view(key: str, delta: list[Any], names: Mapping[tuple[str, int], str], texts: Mapping[str, str]) -> Row:
    dbid, userid, queryid, toplevel = (int(part) for part in key.split(":"))
    view = {
        "queryid": queryid,
        "database": names.get(("d", dbid), str(dbid)),
        "user": names.get(("u", userid), str(userid)),
        "toplevel": bool(toplevel),
        "calls": delta[0],
        "total_time_ms": round(float(delta[1]), 1),
        "mean_time_ms": round(_measure(delta, "mean_time"), 3),
        "rows": delta[2],
        "shared_blks_read": delta[3],
        "shared_blks_hit": delta[4],
    }
    if key in texts:
        view["query"] = texts[key]
    return view


def judge_statements(
    target: str,
    entries: list[tuple[str, list[Any], list[Any]]],
    events: Row,
    names: Mapping[tuple[str, int], str],
    texts: Mapping[str, str],
    opts: Params,
    settings: Mapping[str, Row],
) -> tuple[Row, list[Finding]]:
    """Top statements since the previous run, the average query time against the runbook's 100 ms,
    resets and evictions."""
    tops = top_statements(entries, opts["top"])
    calls = 0
    total = 0.0
    for dummy, dummy2, delta in entries:
        if dummy.endswith(":1"):  # top-level statements: nested ones are inside their callers' time
            calls += delta[0]
            total += float(delta[1])
    mean = total / calls if calls else None
    data: Row = dict(events)
    data.update(
        {
            "available": True,
            "calls": calls,
            "total_time_ms": round(total, 1),
            "mean_time_ms": None if mean is None else round(mean, 3),
            "top": dict(
                (measure, [statement_view(key, delta, names, texts) for key, delta in items])
                for measure, items in tops.items()
            ),
        }
    )
    findings = []
    period = (
        "since the previous run"
        if not events["first_run"] and not events["reset"]
        else "since the statistics were reset"
    )
    if mean is None:
        findings.append(make_finding("postgres.query_time", target, "ok", "no statement ran %s" % period, {"calls": 0}))
    else:
        warning = opts["mean_time_warning"]
        critical = opts["mean_time_critical"]
        severity = severity_for_value(mean / 1000.0, warning, critical)
        summary = "average query time %.1f ms over %d calls %s (runbook: under %s)" % (
            mean,
            calls,
            period,
            "%g ms" % (warning * 1000.0) if warning is not None else "no limit",
        )
        details: Row = {"mean_time_ms": round(mean, 3), "calls": calls, "total_time_ms": round(total, 1)}
        if severity != "ok" and tops["total_time"]:
            heaviest = statement_view(tops["total_time"][0][0], tops["total_time"][0][1], names, texts)
            summary += "; the heaviest: queryid %d (database %s, user %s), %d calls, mean %.1f ms" % (
                heaviest["queryid"],
                heaviest["database"],
                heaviest["user"],
                heaviest["calls"],
                heaviest["mean_time_ms"],
            )
            details["heaviest"] = heaviest
        findings.append(make_finding("postgres.query_time", target, severity, summary, details))
    if events["reset"]:
        findings.append(
            make_finding(
                "postgres.statements",
                target,
                "info",
                "pg_stat_statements was reset since the previous run: the figures count since the reset",
                {"stats_reset": events["stats_reset"]},
            )
        )
    lost = (events["evicted"] or 0) + events["disappeared"] + events["recreated"]
    if lost:
        maximum = (settings.get("pg_stat_statements.max") or {}).get("setting")
        findings.append(
            make_finding(
                "postgres.statements",
                target,
                "warning" if events["evicted"] else "info",
                "pg_stat_statements evicted statements since the previous run (%s evictions, %d statements gone, "
                "%d re-created; pg_stat_statements.max %s): the top lists may miss some; raise pg_stat_statements.max"
                % (
                    events["evicted"] if events["evicted"] is not None else "unknown",
                    events["disappeared"],
                    events["recreated"],
                    maximum,
                ),
                {key: events[key] for key in ("evicted", "disappeared", "recreated", "statements")},
            )
        )
    return data, findings


def statements_unavailable(target: str, reason: str) -> tuple[Row, Finding]:
    return {"available": False, "reason": reason}, make_finding(
        "postgres.statements", target, "info", "top statements not read: %s" % reason, {"reason": reason}
    )


def state_finding(target: str, problem: str) -> Finding:
    return make_finding("postgres.state", target, "info", problem, {})
