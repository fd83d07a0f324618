# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_health's judges and pg_stat_statements deltas, fed with plain rows (the module itself runs
against a real PostgreSQL in tests/integration/targets/pg_health)."""

from __future__ import annotations

import json
import math

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._pg_health import (
    ARGUMENT_SPEC,
    CHECKS,
    HealthError,
    describe_target,
    judge_connections,
    judge_horizon,
    judge_replay,
    judge_sessions,
    judge_settings,
    judge_statements,
    judge_wraparound,
    read_options,
    refused,
    seconds_text,
    statement_deltas,
    statements_unavailable,
    top_statements,
    usable_previous,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.holder_rows import LOGICAL, SLOT

T = "127.0.0.1:5432"


def params(**changes):
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    values.update(changes)
    return values


OPTS = read_options(params())


# --- options -----------------------------------------------------------------------------------


def test_defaults_are_the_runbook_thresholds():
    assert OPTS["connections_warning"] == 80 and OPTS["connections_critical"] == 95
    assert OPTS["mean_time_warning"] == pytest.approx(0.1)
    assert OPTS["mean_time_critical"] is None
    assert OPTS["idle_in_transaction_warning"] == 300 and OPTS["transaction_warning"] == 3600
    assert OPTS["xid_age_warning"] == 1300000000 and OPTS["xid_age_critical"] == 1400000000
    assert OPTS["checks"] == list(CHECKS) and OPTS["top"] == 10 and OPTS["query_text"] is False


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"connections_warning": "nan"}, "connections_warning"),
        ({"connections_warning": 101}, "between 0 and 100"),
        ({"connections_warning": -1}, "connections_warning"),
        ({"connections_warning": True}, "boolean"),
        ({"connections_warning": 96}, "connections_critical must not be below connections_warning"),
        ({"query_warning": "-5m"}, "query_warning"),
        ({"query_warning": "inf"}, "query_warning"),
        ({"query_warning": "soon"}, "query_warning"),
        ({"blocked_warning": "10m"}, "blocked_critical must not be below blocked_warning"),
        ({"xid_age_warning": 0}, "xid_age_warning must be at least 1"),
        ({"xid_age_critical": 2**40}, "xid_age_critical must be at most"),
        ({"mxid_age_warning": 1500000000}, "mxid_age_critical must not be below mxid_age_warning"),
        ({"top": 0}, "top must be at least 1"),
        ({"top": 100000}, "top must be at most 1000"),
        ({"checks": []}, "checks must name at least one"),
        ({"state_path": "  "}, "state_path"),
        ({"mean_time_warning": "1e999"}, "mean_time_warning"),
    ],
)
def test_bad_input_is_refused_naming_the_option(changes, message):
    with pytest.raises(HealthError, match=message):
        read_options(params(**changes))


def test_thresholds_can_be_turned_off_and_written_as_percent():
    opts = read_options(params(connections_warning="70%", connections_critical=None, query_critical=None))
    assert opts["connections_warning"] == 70 and opts["connections_critical"] is None and opts["query_critical"] is None
    assert read_options(params(checks=["statements", "statements"]))["checks"] == ["statements"]


def test_target_names_the_server_as_a_person_would():
    assert describe_target({"login_host": "db", "login_port": 5432}) == "db:5432"
    assert describe_target({"login_host": "::1", "login_port": 5432}) == "[::1]:5432"
    assert describe_target({"login_host": "", "login_unix_socket": "/run/pg", "login_port": 5433}) == (
        "socket /run/pg port 5433"
    )
    assert describe_target({"login_host": "", "login_port": 5432}) == "local socket:5432"


def test_a_refused_connection_is_critical_and_carries_the_driver_error():
    finding = refused(T, {"login_db": "app", "login_user": "monitor"}, "Connection refused")
    assert finding["check"] == "postgres.connect" and finding["severity"] == "critical"
    assert finding["summary"].startswith(
        "PostgreSQL refuses connections at 127.0.0.1:5432 (database app, user monitor)"
    )
    assert finding["summary"].endswith("Connection refused")


def test_seconds_text():
    assert seconds_text(4.25) == "4.2 s" or seconds_text(4.25) == "4.3 s"
    assert seconds_text(250) == "4m 10s"
    assert seconds_text(7500) == "2h 05m"
    assert seconds_text(90000) == "1d 01h"
    assert seconds_text(None) == "unknown time"


# --- connections -------------------------------------------------------------------------------


def setting(value, unit=None, source="default"):
    return {"setting": str(value), "unit": unit, "source": source}


def backend(pid, state="idle", backend_type="client backend", **extra):
    row = {"pid": pid, "backend_type": backend_type, "state": state, "user": "app", "database": "app", "self": False}
    row.update(extra)
    return row


def test_usable_connections_subtract_every_reserved_slot_and_count_clients_only():
    settings = {
        "max_connections": setting(100),
        "superuser_reserved_connections": setting(3),
        "reserved_connections": setting(2),  # PostgreSQL 16+
    }
    rows = [backend(i) for i in range(76)] + [backend(900, "active", "walsender"), backend(901, None, "checkpointer")]
    data, finding = judge_connections(T, settings, rows, OPTS)
    assert data["usable"] == 95 and data["used"] == 76 and data["percent"] == 80.0
    assert finding["severity"] == "ok"  # at 80 %: the runbook warns above it
    data, finding = judge_connections(T, settings, rows + [backend(77)], OPTS)
    assert finding["severity"] == "warning" and "77 of 95 usable connections" in finding["summary"]
    rows = [backend(i) for i in range(91)]
    assert judge_connections(T, settings, rows, OPTS)[1]["severity"] == "critical"


def test_before_16_there_is_no_reserved_connections_setting():
    settings = {"max_connections": setting(20), "superuser_reserved_connections": setting(3)}
    data, dummy = judge_connections(T, settings, [backend(1, "active")], OPTS)
    assert data["usable"] == 17 and data["reserved_connections"] == 0 and data["by_state"] == {"active": 1}


# --- sessions ------------------------------------------------------------------------------------


GUARDS_UNSET = {
    "idle_in_transaction_session_timeout": {"set": False},
    "statement_timeout": {"set": True},
}


def test_idle_in_transaction_over_its_threshold_names_the_session_and_the_missing_guard():
    rows = [
        backend(
            10, "idle in transaction", xact_seconds=700, state_seconds=650, application="gunicorn", client="10.0.0.5"
        ),
        backend(11, "idle in transaction", xact_seconds=100, state_seconds=90),
        backend(12, "idle", self=True),
    ]
    data, findings = judge_sessions(T, rows, OPTS, GUARDS_UNSET)
    found = {f["check"]: f for f in findings}
    idle = found["postgres.idle_in_transaction"]
    assert idle["severity"] == "warning"
    assert "pid 10 (user app, database app, application gunicorn, client 10.0.0.5)" in idle["summary"]
    assert "idle_in_transaction_session_timeout is not set" in idle["summary"]
    assert [s["pid"] for s in idle["details"]["sessions"]] == [10]
    assert [s["pid"] for s in data["idle_in_transaction"]] == [10, 11]
    # The open transaction (11 min) is under the 1 h transaction threshold.
    assert found["postgres.transactions"]["severity"] == "ok"
    assert "the longest 11m 40s" in found["postgres.transactions"]["summary"]
    rows[0]["state_seconds"] = 3600
    assert judge_sessions(T, rows, OPTS, GUARDS_UNSET)[1][2]["severity"] == "critical"


def test_a_blocked_session_names_its_blockers():
    rows = [
        backend(
            20,
            "active",
            wait_event_type="Lock",
            wait_event="relation",
            query_seconds=120,
            xact_seconds=120,
            blocked_by=[21],
        ),
        backend(21, "idle in transaction", xact_seconds=400, state_seconds=390, application="migrate"),
        backend(22, "active", wait_event_type="Lock", query_seconds=30, blocked_by=[21, 999]),
    ]
    data, findings = judge_sessions(T, rows, OPTS)
    blocked = [f for f in findings if f["check"] == "postgres.blocked"][0]
    assert blocked["severity"] == "warning"
    assert (
        "pid 20" in blocked["summary"]
        and "blocked by pid 21 (user app, database app, application migrate)" in blocked["summary"]
    )
    assert [b["pid"] for b in data["blocked"][1]["blockers"]] == [21, 999]
    assert data["blocked"][0]["blockers"][0]["seconds"] == 400.0


def test_a_blocker_that_is_no_client_is_named_by_its_kind():
    rows = [
        backend(20, "active", wait_event_type="Lock", query_seconds=120, blocked_by=[30]),
        backend(30, "active", "autovacuum worker", user=None),
    ]
    data, findings = judge_sessions(T, rows, OPTS)
    blocked = [f for f in findings if f["check"] == "postgres.blocked"][0]
    assert blocked["summary"].endswith("blocked by pid 30 (autovacuum worker, database app)")
    # The autovacuum worker is neither a connection nor a session judged.
    assert [s["pid"] for s in data["longest_queries"]] == [20]


def test_long_queries_and_transactions():
    rows = [backend(30, "active", query_seconds=2000, xact_seconds=30000)]
    findings = {f["check"]: f for f in judge_sessions(T, rows, OPTS)[1]}
    assert findings["postgres.queries"]["severity"] == "critical"
    assert findings["postgres.transactions"]["severity"] == "critical"
    assert "more than 6h 00m" in findings["postgres.transactions"]["summary"]


def test_sessions_hidden_from_a_role_without_pg_monitor_are_an_info_finding():
    # What a role without pg_read_all_stats reads: other users' rows with a user and nothing else.
    rows = [
        backend(40, None, None, user="other"),
        backend(41, "idle"),
        backend(42, None, None, user=None),  # a background process
    ]
    data, findings = judge_sessions(T, rows, OPTS)
    assert data["hidden"] == 1
    privileges = [f for f in findings if f["check"] == "postgres.privileges"]
    assert [f["severity"] for f in privileges] == ["info"] and "grant it pg_monitor" in privileges[0]["summary"]
    settings = {"max_connections": setting(10), "superuser_reserved_connections": setting(0)}
    assert judge_connections(T, settings, rows, OPTS)[0]["used"] == 2


def test_session_lists_hold_at_most_top():
    rows = [backend(i, "active", query_seconds=i) for i in range(50)]
    opts = dict(OPTS, top=5)
    data, dummy = judge_sessions(T, rows, opts)
    assert [s["pid"] for s in data["longest_queries"]] == [49, 48, 47, 46, 45]


# --- settings ------------------------------------------------------------------------------------


def test_guards_by_version_and_overrides():
    settings = {
        "idle_in_transaction_session_timeout": setting(0, "ms"),
        "statement_timeout": setting(30000, "ms", "configuration file"),
        "idle_session_timeout": setting(0, "ms"),
        "transaction_timeout": setting(0, "ms"),
    }
    overrides = [
        {"database": "app", "role": "", "setconfig": ["idle_in_transaction_session_timeout=5min", "work_mem=64MB"]},
        {"database": "", "role": "batch", "setconfig": ["statement_timeout=0"]},
    ]
    guards, findings = judge_settings(T, settings, overrides, 150000)
    assert set(guards) == {"idle_in_transaction_session_timeout", "statement_timeout", "idle_session_timeout"}
    assert guards["idle_in_transaction_session_timeout"]["set"] is True
    assert guards["idle_in_transaction_session_timeout"]["overrides"] == ["database app: 5min"]
    assert guards["statement_timeout"] == {
        "value": "30000ms",
        "source": "configuration file",
        "set": True,
        "overrides": [],
    }
    assert findings[0]["severity"] == "info" and findings[0]["summary"].startswith(
        "session guards not set: idle_session_timeout"
    )
    guards, dummy = judge_settings(T, settings, [], 170000)
    assert "transaction_timeout" in guards
    guards, dummy = judge_settings(T, settings, [], 130000)
    assert "idle_session_timeout" not in guards and "transaction_timeout" not in guards


def test_every_guard_set_is_ok():
    settings = {
        name: setting("1min")
        for name in ("idle_in_transaction_session_timeout", "statement_timeout", "idle_session_timeout")
    }
    assert judge_settings(T, settings, [], 150000)[1][0]["severity"] == "ok"


# --- wraparound ----------------------------------------------------------------------------------

SESSION = {
    "kind": "session",
    "scope": "database",
    "id": "4242",
    "database": "app",
    "who": "app",
    "xmin_age": 900,
    "seconds": 5400.0,
    "state": "idle in transaction",
}


def test_wraparound_names_the_holder_of_that_database():
    dbs = [
        {"name": "app", "xid_age": 1350000000, "mxid_age": 10},
        {"name": "other", "xid_age": 1000, "mxid_age": 1450000000},
        {"name": "quiet", "xid_age": 1000, "mxid_age": 1},
    ]
    findings = judge_wraparound(T, dbs, [LOGICAL, SLOT, SESSION], {}, OPTS)
    assert [f["severity"] for f in findings] == ["warning", "critical", "ok"]
    assert findings[0]["target"] == "127.0.0.1:5432/app"
    assert "held back by session pid 4242" in findings[0]["summary"]
    # A session of "app" does not hold "other"; the physical slot holds every database.
    assert "replication slot standby1" in findings[1]["summary"]
    assert "held back" not in findings[2]["summary"]


def test_past_autovacuum_freeze_max_age_is_info():
    settings = {"autovacuum_freeze_max_age": setting(200000000)}
    finding = judge_wraparound(T, [{"name": "app", "xid_age": 250000000, "mxid_age": 0}], [SESSION], settings, OPTS)[0]
    assert finding["severity"] == "info" and "anti-wraparound autovacuum is due" in finding["summary"]
    assert finding["details"]["held_back_by"]["id"] == "4242"


def test_horizon_finding_as_pg_vacuum():
    assert judge_horizon(T, [], OPTS) is None
    assert judge_horizon(T, [SESSION], OPTS)["severity"] == "warning"  # open 1h30 > 1h
    assert judge_horizon(T, [dict(SESSION, seconds=60)], OPTS)["severity"] == "info"
    assert judge_horizon(T, [SLOT], OPTS)["severity"] == "warning"  # an inactive slot
    assert judge_horizon(T, [LOGICAL], OPTS)["target"] == "replication_slot cdc"


def test_replay_lag_counts_only_while_wal_waits():
    data, finding = judge_replay(T, {"replay_bytes": 0, "replay_seconds": 9000.0}, OPTS)
    assert data["lag_seconds"] == 0 and finding["severity"] == "ok"
    data, finding = judge_replay(T, {"replay_bytes": 5000, "replay_seconds": 400.0}, OPTS)
    assert finding["severity"] == "warning" and "6m 40s" in finding["summary"]
    assert judge_replay(T, {"replay_bytes": None, "replay_seconds": 4000.0}, OPTS)[1]["severity"] == "critical"
    assert judge_replay(T, {"replay_bytes": None, "replay_seconds": None}, OPTS)[1]["severity"] == "warning"


# --- pg_stat_statements --------------------------------------------------------------------------


def stmt(queryid, calls, total_ms, dbid=5, userid=10, toplevel=True, blks=0, stats_since=None):
    return {
        "dbid": dbid,
        "userid": userid,
        "queryid": queryid,
        "toplevel": toplevel,
        "calls": calls,
        "total_ms": total_ms,
        "rows": calls,
        "shared_blks_read": blks,
        "shared_blks_hit": 0,
        "stats_since": stats_since,
    }


INFO = {"dealloc": 0, "stats_reset": 1000.0}


def roundtrip(state):
    """What the next run reads back from the state file."""
    return json.loads(json.dumps(state))


def test_first_run_counts_since_the_reset_and_the_second_run_counts_deltas():
    entries, events, state = statement_deltas([stmt(1, 10, 50.0), stmt(2, 5, 5.0)], INFO, None, 2000.0)
    assert events["first_run"] and events["since"] == 1000.0 and events["evicted"] is None
    assert [d for dummy, dummy2, d in entries] == [[10, 50.0, 10, 0, 0], [5, 5.0, 5, 0, 0]]
    state["server"] = "s"
    previous, problem = usable_previous(roundtrip(state), "s")
    assert problem is None
    entries, events, dummy = statement_deltas([stmt(1, 14, 90.0), stmt(2, 5, 5.0)], INFO, previous, 3000.0)
    assert not events["first_run"] and events["since"] == 2000.0 and events["evicted"] == 0
    assert [d[:2] for dummy, dummy2, d in entries] == [[4, 40.0], [0, 0.0]]


def test_a_reset_between_runs_is_detected_by_stats_reset():
    dummy, dummy2, state = statement_deltas([stmt(1, 10, 50.0)], INFO, None, 2000.0)
    entries, events, dummy = statement_deltas(
        [stmt(1, 3, 9.0)], {"dealloc": 0, "stats_reset": 2500.0}, roundtrip(state), 3000.0
    )
    assert events["reset"] and events["since"] == 2500.0 and events["recreated"] == 0
    assert entries[0][2][:2] == [3, 9.0]


def test_before_14_a_reset_is_most_statements_counting_less():
    rows = [stmt(i, 100, 100.0) for i in range(10)]
    dummy, dummy2, state = statement_deltas(rows, None, None, 2000.0)
    entries, events, dummy = statement_deltas([stmt(i, 2, 1.0) for i in range(10)], None, roundtrip(state), 3000.0)
    assert events["reset"] and all(d[0] == 2 for dummy, dummy2, d in entries)
    # One statement counting less is that statement evicted and re-created, not a reset.
    later = [stmt(i, 150, 150.0) for i in range(9)] + [stmt(9, 2, 1.0)]
    entries, events, dummy = statement_deltas(later, None, roundtrip(state), 3000.0)
    assert not events["reset"] and events["recreated"] == 1
    assert entries[0][2][0] == 50 and entries[9][2][0] == 2


def test_evictions_disappearances_and_recreations():
    dummy, dummy2, state = statement_deltas(
        [stmt(1, 10, 1.0, stats_since=100.0), stmt(2, 10, 1.0), stmt(3, 10, 1.0)], INFO, None, 2000.0
    )
    rows = [stmt(1, 12, 2.0, stats_since=2500.0), stmt(2, 11, 1.5), stmt(4, 1, 1.0)]
    entries, events, dummy = statement_deltas(rows, {"dealloc": 7, "stats_reset": 1000.0}, roundtrip(state), 3000.0)
    assert events["evicted"] == 7 and events["disappeared"] == 1 and events["recreated"] == 1
    # Statement 1 was evicted and came back (stats_since moved, 17+): counted since then.
    assert entries[0][2][0] == 12 and entries[1][2][0] == 1 and entries[2][2][0] == 1
    data, findings = judge_statements(T, entries, events, {}, {}, OPTS, {"pg_stat_statements.max": setting(5000)})
    eviction = [f for f in findings if f["check"] == "postgres.statements"][0]
    assert eviction["severity"] == "warning" and "7 evictions, 1 statements gone, 1 re-created" in eviction["summary"]
    assert "pg_stat_statements.max 5000" in eviction["summary"]


def test_a_snapshot_of_another_server_is_not_used():
    previous, problem = usable_previous({"server": "a", "entries": {}}, "b")
    assert previous is None and "not of b" in problem
    assert usable_previous({"server": "b"}, "b")[0] is None
    assert usable_previous(None, "b") == (None, None)


def test_average_query_time_against_the_runbook():
    rows = [stmt(1, 10, 500.0), stmt(2, 10, 2500.0), stmt(3, 1000, 999999.0, toplevel=False)]
    entries, events, dummy = statement_deltas(rows, INFO, None, 2000.0)
    names = {("d", 5): "app", ("u", 10): "web"}
    data, findings = judge_statements(T, entries, events, names, {}, OPTS, {})
    query_time = findings[0]
    # Nested statements (toplevel false) are inside their callers' time: 3000 ms / 20 calls.
    assert data["mean_time_ms"] == 150.0 and data["calls"] == 20
    assert query_time["severity"] == "warning" and "150.0 ms over 20 calls" in query_time["summary"]
    assert "the heaviest: queryid 3 (database app, user web)" in query_time["summary"]
    assert [s["queryid"] for s in data["top"]["total_time"]] == [3, 2, 1]
    assert data["top"]["mean_time"][0]["mean_time_ms"] == pytest.approx(999.999)
    ok = judge_statements(T, entries[:1], events, names, {}, OPTS, {})[1][0]
    assert ok["severity"] == "ok" and "50.0 ms" in ok["summary"] and "under 100 ms" in ok["summary"]


def test_no_call_in_the_period():
    dummy, dummy2, state = statement_deltas([stmt(1, 10, 50.0)], INFO, None, 2000.0)
    entries, events, dummy = statement_deltas([stmt(1, 10, 50.0)], INFO, roundtrip(state), 3000.0)
    data, findings = judge_statements(T, entries, events, {}, {}, OPTS, {})
    assert data["top"]["calls"] == [] and findings[0]["summary"] == "no statement ran since the previous run"


def test_top_lists_of_5000_statements_are_bounded_and_right():
    rows = [stmt(i, (i % 97) + 1, float(i), blks=5000 - i) for i in range(5000)]
    entries, events, state = statement_deltas(rows, INFO, None, 2000.0)
    tops = top_statements(entries, 10)
    assert [key.split(":")[2] for key, dummy in tops["total_time"]][:3] == ["4999", "4998", "4997"]
    assert [key.split(":")[2] for key, dummy in tops["shared_blks_read"]][:2] == ["0", "1"]
    assert all(len(items) == 10 for items in tops.values())
    assert len(state["entries"]) == 5000
    # The state of 5,000 statements stays small.
    assert len(json.dumps(state)) < 500000
    texts = {entries[4999][0]: "SELECT 1"}
    data, dummy = judge_statements(T, entries, events, {}, texts, dict(OPTS, top=3), {})
    assert data["top"]["total_time"][0]["query"] == "SELECT 1" and "query" not in data["top"]["total_time"][1]


def test_same_queryid_for_two_users_or_nesting_levels_are_two_statements():
    rows = [stmt(1, 1, 1.0), stmt(1, 1, 1.0, userid=11), stmt(1, 1, 1.0, toplevel=False)]
    dummy, dummy2, state = statement_deltas(rows, INFO, None, 0.0)
    assert len(state["entries"]) == 3


def test_negative_queryids_survive_the_state():
    dummy, dummy2, state = statement_deltas([stmt(-8499672162570583550, 1, 1.0)], INFO, None, 0.0)
    entries, dummy, dummy2 = statement_deltas(
        [stmt(-8499672162570583550, 3, 2.0)], INFO, dict(roundtrip(state), server="s"), 1.0
    )
    assert entries[0][2][0] == 2 and not math.isnan(entries[0][2][1])


def test_statements_unavailable_is_info():
    data, finding = statements_unavailable(T, "the pg_stat_statements extension is not created in database app")
    assert data == {"available": False, "reason": "the pg_stat_statements extension is not created in database app"}
    assert finding["severity"] == "info" and finding["check"] == "postgres.statements"
