# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_vacuum's decisions besides the plan, fed plain data: its input checks, findings, totals,
result and whether the task fails (no server here; the module runs against a real PostgreSQL in
tests/integration/targets/pg_vacuum)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import findings_of_result, validate_finding
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum import STATUSES
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum_report import (
    ARGUMENT_SPEC,
    JOBS_MAX,
    NOT_SELECTED_LISTED,
    Observed,
    Outcome,
    VacuumError,
    build_findings,
    check_tables_found,
    count_totals,
    database_names,
    failure,
    not_selected_reason,
    plan_database,
    plan_warnings,
    planner_options,
    planning_failed,
    result,
    session_settings,
    stale_tables,
    validate,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
SETTINGS = {"autovacuum_vacuum_threshold": 50.0, "autovacuum_vacuum_scale_factor": 0.2}


def params(**changes):
    """The module's parameters as AnsibleModule gives them: every option, defaults filled in."""
    values = dict((name, spec.get("default")) for name, spec in ARGUMENT_SPEC.items())
    for name, spec in ARGUMENT_SPEC.items():
        if spec.get("type") == "list" and values[name] is None:
            values[name] = []
    values.update(changes)
    return values


def checked(**changes):
    return validate(params(**changes))


# --- validate: every option's bad values ------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"full": True}, "full: true takes an ACCESS EXCLUSIVE lock on every table; set allow_full: true to confirm"),
        ({"full": True, "allow_full": True, "jobs": 2}, "full: true cannot run with jobs > 1"),
        ({"full": True, "allow_full": True, "mode": "analyze"}, "full: true needs a vacuum mode, not analyze"),
        ({"full": True, "allow_full": True, "parallel_workers": 2}, "parallel_workers cannot be combined with full"),
        ({"jobs": 0}, "jobs must be at least 1, got 0"),
        ({"jobs": JOBS_MAX + 1}, "jobs must be at most 262143, got 262144"),
        ({"min_dead_tuples": -1}, "min_dead_tuples cannot be negative, got -1"),
        ({"min_xid_age": -1}, "min_xid_age cannot be negative, got -1"),
        ({"min_mxid_age": -2}, "min_mxid_age cannot be negative, got -2"),
        ({"cost_limit": -1}, "cost_limit cannot be negative, got -1"),
        ({"parallel_workers": -1}, "parallel_workers cannot be negative, got -1"),
        ({"xid_age_warning": -1}, "xid_age_warning cannot be negative, got -1"),
        ({"xid_age_critical": -1}, "xid_age_critical cannot be negative, got -1"),
        ({"min_dead_ratio": 150.0}, "min_dead_ratio is a percentage between 0 and 100, got 150.0"),
        ({"min_dead_ratio": float("inf")}, "min_dead_ratio is a percentage between 0 and 100, got inf"),
        ({"min_dead_ratio": -0.5}, "min_dead_ratio is a percentage between 0 and 100, got -0.5"),
        (
            {"min_mod_since_analyze_ratio": float("nan")},
            "min_mod_since_analyze_ratio is a percentage between 0 and 100, got nan",
        ),
        ({"cost_delay": float("nan")}, "cost_delay must be between 0 and 100 milliseconds, got nan"),
        ({"cost_delay": 101.0}, "cost_delay must be between 0 and 100 milliseconds, got 101.0"),
        ({"cost_limit": 0}, "cost_limit must be between 1 and 10000, got 0"),
        ({"cost_limit": 10001}, "cost_limit must be between 1 and 10000, got 10001"),
        ({"parallel_workers": 5000}, "parallel_workers must be at most 1024 (PostgreSQL's limit), got 5000"),
        ({"xid_age_warning": 10, "xid_age_critical": 5}, "xid_age_warning (10) must not exceed xid_age_critical (5)"),
        ({"tables": ["a", " "]}, "tables contains an empty name"),
        ({"exclude_tables": [""]}, "exclude_tables contains an empty name"),
        ({"schemas": [""]}, "schemas contains an empty name"),
        ({"exclude_schemas": [" "]}, "exclude_schemas contains an empty name"),
        ({"databases": [""]}, "databases contains an empty name"),
        ({"lock_timeout": "soon"}, "lock_timeout: cannot read 'soon' as a duration"),
        (
            {"lock_timeout": "30d"},
            "lock_timeout must be at most 2147483647ms (about 24.8 days, PostgreSQL's limit), got '30d'",
        ),
        ({"lock_timeout": 2147484}, "lock_timeout must be at most 2147483647ms"),
        ({"lock_timeout": "inf"}, "lock_timeout: a duration must be finite, got 'inf'"),
        ({"lock_timeout": "nan"}, "lock_timeout: a duration cannot be NaN: 'nan'"),
        ({"lock_timeout": "1e999"}, "lock_timeout: a duration must be finite, got '1e999'"),
        ({"lock_timeout": "0.4ms"}, "lock_timeout must be at least 1ms (0 would wait forever)"),
        ({"lock_timeout": 0}, "lock_timeout must be at least 1ms (0 would wait forever)"),
        ({"lock_timeout": "-5"}, "lock_timeout: a duration cannot be negative"),
        ({"lock_timeout": True}, "lock_timeout: a duration must be a number of seconds"),
        ({"lock_timeout": None}, "lock_timeout: a duration cannot be empty"),
        ({"lock_timeout": ""}, "lock_timeout: a duration cannot be empty"),
        ({"statement_timeout": "inf"}, "statement_timeout: a duration must be finite, got 'inf'"),
        ({"statement_timeout": "4w"}, "statement_timeout must be at most 2147483647ms"),
        ({"statement_timeout": "0"}, "statement_timeout must be at least 1ms (unset it for no limit)"),
        ({"max_runtime": "inf"}, "max_runtime: a duration must be finite, got 'inf'"),
        ({"max_runtime": "36600d"}, "max_runtime: the duration '36600d' is too long: at most 100 years"),
        ({"max_runtime": -1}, "max_runtime: a duration cannot be negative"),
        ({"skip_vacuumed_within": "nan"}, "skip_vacuumed_within: a duration cannot be NaN"),
        ({"skip_vacuumed_within": "3 fortnights"}, "skip_vacuumed_within: unknown duration unit 'fortnights'"),
        ({"stale_after": "1e999"}, "stale_after: a duration must be finite"),
        ({"stale_after": ""}, "stale_after: a duration cannot be empty"),
        ({"long_transaction_warning": "-1"}, "long_transaction_warning: a duration cannot be negative"),
        ({"long_transaction_warning": None}, "long_transaction_warning: a duration cannot be empty"),
        ({"min_size": "inf"}, "min_size: cannot read 'inf' as a size"),
        ({"min_size": "9999999P"}, "min_size: the size '9999999P' is too large"),
        (
            {"buffer_usage_limit": "1T"},
            "buffer_usage_limit must be 0 or between 128kB and 16GB (PostgreSQL's range), got '1T'",
        ),
        ({"buffer_usage_limit": "64kB"}, "buffer_usage_limit must be 0 or between 128kB and 16GB"),
        ({"buffer_usage_limit": "nan"}, "buffer_usage_limit: cannot read 'nan' as a size"),
    ],
)
def test_validate_refuses_each_bad_value_clearly(changes, message):
    with pytest.raises(VacuumError) as caught:
        validate(params(**changes))
    assert message in caught.value.msg
    assert caught.value.result == {}


def test_validate_reports_every_problem_at_once_after_the_connection_problems():
    with pytest.raises(VacuumError) as caught:
        validate(params(jobs=0, min_dead_tuples=-1, lock_timeout="soon"), ["login_port must be between 1 and 65535"])
    problems = caught.value.msg.split("; ")
    assert problems[0] == "login_port must be between 1 and 65535"
    assert problems[1:] == [
        "jobs must be at least 1, got 0",
        "min_dead_tuples cannot be negative, got -1",
        "lock_timeout: cannot read 'soon' as a duration (examples: 90s, 15m, 26h, 1d12h)",
    ]


def test_validate_reads_durations_as_numbers_of_seconds_or_strings():
    result = checked(lock_timeout=5, statement_timeout="500ms", max_runtime=90.5, skip_vacuumed_within="6h")
    assert result.durations == {
        "lock_timeout": 5.0,
        "statement_timeout": 0.5,
        "max_runtime": 90.5,
        "skip_vacuumed_within": 6 * 3600.0,
        "stale_after": 7 * 86400.0,
        "long_transaction_warning": 3600.0,
    }


def test_validate_defaults_and_sizes():
    result = checked()
    assert result.durations["lock_timeout"] == 5.0
    assert result.durations["statement_timeout"] is None
    assert result.durations["max_runtime"] is None
    assert result.min_size is None and result.buffer_usage_limit is None
    assert checked(min_size="10M").min_size == 10 * 1024**2
    assert checked(buffer_usage_limit="256M").buffer_usage_limit == "262144kB"
    assert checked(buffer_usage_limit="256MB").buffer_usage_limit == "250000kB"
    assert checked(buffer_usage_limit="0").buffer_usage_limit == "0kB"
    assert checked(full=True, allow_full=True).durations["lock_timeout"] == 5.0


def test_planner_options_and_session_settings():
    p = params(min_dead_tuples=1000, min_dead_ratio=5.0, cost_delay=2.0, cost_limit=2000, statement_timeout="1m")
    result = validate(p)
    options = planner_options(p, result)
    assert options["mode"] == "vacuum_analyze" and options["min_dead_tuples"] == 1000
    assert options["skip_vacuumed_within"] is None and options["min_size"] is None
    assert session_settings(p, result) == [
        ("lock_timeout", "5000ms"),
        ("statement_timeout", "60000ms"),
        ("vacuum_cost_delay", "2.0"),
        ("vacuum_cost_limit", "2000"),
    ]
    assert session_settings(params(), checked()) == [("lock_timeout", "5000ms")]


def test_argument_spec_states_what_it_can():
    assert ARGUMENT_SPEC["lock_timeout"] == {"type": "raw", "default": "5s"}
    # pg_vacuum fails only when its work fails unless asked (as before fail_on existed).
    assert ARGUMENT_SPEC["fail_on"]["default"] == "never"
    assert ARGUMENT_SPEC["fail_on"]["choices"] == ["critical", "warning", "info", "never"]
    assert ARGUMENT_SPEC["login_user"]["default"] == "postgres"


# --- the databases and tables named ------------------------------------------------------------


def test_database_names():
    assert database_names(params(), "app", [], ["app", "postgres"]) == ["app"]
    assert database_names(params(databases=["b", "a", "b"]), "app", [], ["a", "b"]) == ["b", "a"]
    assert database_names(params(all_databases=True), "app", ["a", "b"], ["a", "b", "template0"]) == ["a", "b"]
    with pytest.raises(VacuumError, match=r"^unknown database\(s\): x, y$"):
        database_names(params(databases=["x", "a", "y"]), "app", [], ["a"])


def test_plan_database_and_unknown_tables():
    rows = [
        {
            "relid": 1,
            "relkind": "r",
            "schema": "public",
            "table": "t",
            "ancestors": [],
            "n_dead_tup": 5000,
            "n_live_tup": 1000,
            "reltuples": 1000,
        },
        {"relid": 2, "relkind": "r", "schema": "archive", "table": "u", "ancestors": [], "n_dead_tup": 0},
    ]
    p = params(tables=["t", "nope"])
    observed = Observed(now=NOW, settings=dict(SETTINGS), server_version=150000)
    selected, skipped, found = plan_database(p, planner_options(p, validate(p)), observed, "app", rows, {})
    assert [e["table"] for e in selected] == ["t"] and skipped == []
    assert found == {"t"}
    check_tables_found(p, ["app"], {"t", "nope"})
    with pytest.raises(VacuumError, match=r"^unknown table\(s\) in app, other: nope$"):
        check_tables_found(p, ["app", "other"], found)


def test_planning_failed():
    assert planning_failed("boom\n", False, "h:5432").msg == "reading the tables' statistics failed: boom"
    gone = planning_failed("terminating connection\nDETAIL: x", True, "h:5432")
    assert gone.msg == "the server h:5432 went away before any table was processed: terminating connection"


def test_plan_warnings():
    assert plan_warnings(params(), planner_options(params(), checked()), 150000) == []
    warnings = plan_warnings(params(jobs=2), planner_options(params(), checked()), 90400)
    assert "TRUNCATE is not supported by this server (PostgreSQL 9); dropped" in warnings
    assert "SKIP_LOCKED is not supported by this server (PostgreSQL 9); dropped" in warnings
    assert warnings[-1] == "jobs > 1 on a server older than 9.5 runs tables one at a time"


# --- observed state for findings, totals and the result ----------------------------------------


def entry(table, status=None, **extra):
    item = {
        "database": "app",
        "schema": "public",
        "table": table,
        "relid": abs(hash(table)) % 100000,
        "relkind": "r",
        "reasons": ["dead tuples 5000 > autovacuum threshold 250"],
        "sql": 'VACUUM (ANALYZE) "public"."%s"' % table,
        "total_bytes": 8192,
        "size_estimated": False,
        "n_dead_tup": 5000,
        "xid_age": 100,
        "wraparound": False,
        "reloptions": None,
    }
    if status is not None:
        item.update(status=status, message=None, duration_ms=12.0)
    item.update(extra)
    return item


def database(selected=(), skipped=(), rows=(), xid_age=1000, name="app"):
    return {
        "database": name,
        "xid_age": xid_age,
        "mxid_age": 1,
        "rows": list(rows),
        "selected": list(selected),
        "skipped": list(skipped),
    }


def skipped(table, reason):
    return {"database": "app", "schema": "public", "table": table, "skip_reason": reason}


def observed(*databases, **extra):
    values = dict(now=NOW, server="127.0.0.1:5432", server_version=150000, version_text="15.0", database="app")
    values.update(settings=dict(SETTINGS), databases=list(databases), plan_ms=12.5)
    values.update(extra)
    return Observed(**values)


def of_check(findings, check):
    return [f for f in findings if f["check"] == check]


SESSION = {
    "kind": "session",
    "scope": "database",
    "id": "42",
    "database": "app",
    "state": "idle in transaction",
    "xmin_age": 900,
    "seconds": 30.0,
}


# --- findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "holder, severity",
    [
        (SESSION, "info"),
        (dict(SESSION, seconds=7200.0), "warning"),
        (
            {
                "kind": "replication_slot",
                "scope": "cluster",
                "id": "s1",
                "state": "physical slot, inactive",
                "xmin_age": 5,
            },
            "warning",
        ),
        (
            {
                "kind": "replication_slot",
                "scope": "cluster",
                "id": "s1",
                "state": "physical slot, active",
                "xmin_age": 5,
            },
            "info",
        ),
    ],
)
def test_the_oldest_xmin_holder_is_a_finding(holder, severity):
    findings = build_findings(params(), checked(), observed(xmin_holders=[holder]), Outcome())
    found = of_check(findings, "postgres.xmin_horizon")
    assert [(f["target"], f["severity"]) for f in found] == [("%s %s" % (holder["kind"], holder["id"]), severity)]
    assert found[0]["summary"].endswith("holds back cleanup")


def test_long_transaction_warning_is_a_duration():
    findings = build_findings(
        params(), checked(long_transaction_warning=10), observed(xmin_holders=[SESSION]), Outcome()
    )
    assert of_check(findings, "postgres.xmin_horizon")[0]["severity"] == "warning"


def test_a_standby_is_an_info_finding_after_the_holder():
    findings = build_findings(params(), checked(), observed(in_recovery=True, xmin_holders=[SESSION]), Outcome())
    assert [(f["check"], f["severity"]) for f in findings] == [
        ("postgres.xmin_horizon", "info"),
        ("postgres.vacuum", "info"),
    ]
    assert findings[1]["summary"] == "skipped: the server is a standby (in recovery)"
    assert findings[1]["target"] == "app"


@pytest.mark.parametrize(
    "age, severity", [(1299999999, "ok"), (1300000000, "warning"), (1399999999, "warning"), (1400000000, "critical")]
)
def test_wraparound_severity_by_database_age(age, severity):
    findings = build_findings(params(), checked(), observed(database(xid_age=age)), Outcome())
    wraparound = of_check(findings, "postgres.wraparound")
    assert [f["severity"] for f in wraparound] == [severity]
    assert wraparound[0]["summary"] == "transaction-ID age %d (warning at 1300000000, critical at 1400000000)" % age
    assert wraparound[0]["details"] == {"xid_age": age, "mxid_age": 1}


def row(table, dead, last_vacuum=None, last_autovacuum=None, schema="public"):
    return {
        "relid": abs(hash(table)) % 100000,
        "schema": schema,
        "table": table,
        "n_dead_tup": dead,
        "last_vacuum": last_vacuum,
        "last_autovacuum": last_autovacuum,
    }


def test_stale_tables():
    rows = [
        row("never", 100),
        row("old", 100, last_autovacuum=NOW - timedelta(days=8)),
        row("recent", 100, last_vacuum=NOW - timedelta(days=1)),
        row("few", 50),  # not above autovacuum_vacuum_threshold
        row("vacuumed_now", 100),
        row("elsewhere", 100, schema="archive"),
    ]
    db = database(selected=[entry("vacuumed_now", "ok", relid=rows[4]["relid"])], rows=rows)
    stale = stale_tables(params(exclude_schemas=["archive"]), checked(), observed(db), db)
    assert stale == [
        "public.never (100 dead, last vacuum never)",
        "public.old (100 dead, last vacuum %s)" % (NOW - timedelta(days=8)).isoformat(),
    ]
    # in analyze mode the run vacuums nothing: a table it analyzed is still stale
    assert len(stale_tables(params(mode="analyze", exclude_schemas=["archive"]), checked(), observed(db), db)) == 3
    # min_dead_tuples raises the bar
    assert stale_tables(params(min_dead_tuples=100, exclude_schemas=["archive"]), checked(), observed(db), db) == []
    findings = build_findings(params(stale_after="7d", exclude_schemas=["archive"]), checked(), observed(db), Outcome())
    (found,) = of_check(findings, "postgres.vacuum_stale")
    assert found["severity"] == "warning"
    assert found["summary"].startswith("2 table(s) with dead tuples not vacuumed within 7d: public.never")


def test_kept_dead_tuples_warn_above_the_threshold():
    kept = entry("kept", "ok", n_dead_tup_kept=5000, held_back_by=SESSION)
    few = entry("few", "ok", n_dead_tup_kept=10)
    findings = build_findings(params(), checked(), observed(database([kept, few])), Outcome())
    (found,) = of_check(findings, "postgres.vacuum_kept")
    assert found["target"] == "app.public.kept" and found["severity"] == "warning"
    assert found["summary"].startswith(
        "public.kept: VACUUM kept 5000 dead tuples that it should have removed: held back by session pid 42"
    )
    assert found["details"]["n_dead_tup_kept"] == 5000
    (outcome,) = of_check(findings, "postgres.vacuum")
    assert outcome["severity"] == "ok"
    assert outcome["details"]["tables"][1].startswith("public.few: ok in 12 ms, kept 10 dead tuples")


@pytest.mark.parametrize(
    "statuses, severity, summary",
    [
        (["ok", "ok"], "ok", "2 of 2 planned table(s) processed (vacuum_analyze)"),
        (["ok", "skipped_locked"], "warning", "1 table(s) not done (public.t1 skipped_locked)"),
        (
            ["lock_timeout", "not_started"],
            "warning",
            "2 table(s) not done (public.t0 lock_timeout, public.t1 not_started)",
        ),
        (["error", "ok"], "critical", "1 table(s) failed: public.t0: boom"),
    ],
)
def test_outcome_finding_per_database(statuses, severity, summary):
    selected = [
        entry("t%d" % i, status, message="boom" if status == "error" else None) for i, status in enumerate(statuses)
    ]
    findings = build_findings(params(), checked(), observed(database(selected)), Outcome(jobs=1))
    (found,) = of_check(findings, "postgres.vacuum")
    assert (found["severity"], found["summary"]) == (severity, summary)
    assert found["details"]["counts"]["ok"] == statuses.count("ok")
    assert set(found["details"]["counts"]) == set(STATUSES)


def test_outcome_finding_when_the_server_went_away_or_a_job_crashed():
    selected = [entry("t0", "ok"), entry("t1", "error", interrupted=True), entry("t2", "not_started")]
    lost = build_findings(params(), checked(), observed(database(selected)), Outcome(lost="server closed"))
    (found,) = of_check(lost, "postgres.vacuum")
    assert found["severity"] == "critical"
    assert found["summary"] == (
        "the server 127.0.0.1:5432 went away during the run (server closed), 1 table(s) done, "
        "1 interrupted (public.t1), 1 not started (public.t2)"
    )
    crashed = build_findings(params(), checked(), observed(database(selected)), Outcome(crashes=["boom\ntrace"]))
    assert of_check(crashed, "postgres.vacuum")[0]["summary"] == "the run failed: boom"


def test_check_mode_findings_say_what_would_run():
    findings = build_findings(
        params(), checked(), observed(database([entry("t"), entry("u")])), Outcome(check_mode=True)
    )
    (found,) = of_check(findings, "postgres.vacuum")
    assert (found["severity"], found["summary"]) == (
        "info",
        "check mode: 2 table(s) would be processed (vacuum_analyze)",
    )


# --- totals and the result ----------------------------------------------------------------------


def test_not_selected_reason_drops_the_values():
    assert not_selected_reason("below every threshold") == "below every threshold"
    assert not_selected_reason("size 100 bytes < min_size 200") == "size below min_size"
    assert not_selected_reason("maintained 2026-11-27T00:00:00+00:00, within skip_vacuumed_within") == (
        "maintained 2026-11-27T00:00:00+00:00"
    )


def test_totals_are_counted_once_over_every_database():
    one = database(
        [entry("a", "ok", n_dead_tup_after=0), entry("b", "lock_timeout")],
        [skipped("c", "below every threshold"), skipped("d", "size 1 bytes < min_size 2")],
    )
    two = database([entry("e", "ok", n_dead_tup_after=None)], [skipped("f", "below every threshold")], name="other")
    totals = count_totals(observed(one, two), Outcome(jobs=4, duration_ms=30.0))
    assert totals == dict(
        dict((s, 0) for s in STATUSES),
        ok=2,
        lock_timeout=1,
        planned=3,
        n_dead_tup_before=15000,
        n_dead_tup_after=10000,  # 0 for a, the count before for b (not done) and e (not read)
        not_selected={"below every threshold": 2, "size below min_size": 1},
        plan_ms=12.5,
        duration_ms=30.0,
        jobs=3,
    )


def test_totals_have_the_same_keys_in_check_mode_and_on_a_standby():
    run = count_totals(observed(database([entry("a", "ok")])), Outcome(jobs=1))
    check = count_totals(
        observed(database([entry("a")], [skipped("c", "below every threshold")])), Outcome(check_mode=True)
    )
    standby = count_totals(observed(in_recovery=True), Outcome())
    assert set(run) == set(check) == set(standby)
    assert check["planned"] == 1 and check["ok"] == 0 and check["jobs"] == 0 and check["duration_ms"] == 0.0
    assert check["not_selected"] == {"below every threshold": 1}
    assert standby["planned"] == 0 and standby["not_selected"] == {} and standby["jobs"] == 0


RESULT_KEYS = {
    "changed",
    "server_version",
    "in_recovery",
    "planned",
    "not_selected",
    "processed",
    "databases",
    "totals",
    "budget_exhausted",
    "oldest_xmin_holder",
    "xmin_holders",
    "findings",
    "worst_severity",
}


def test_result_of_a_run():
    done = entry("a", "ok", n_dead_tup_after=3, n_dead_tup_kept=3, held_back_by=None)
    partitioned = entry("p", "ok", relkind="p")
    state = observed(database([done, partitioned], [skipped("c", "below every threshold")]), xmin_holders=[SESSION])
    output = result(params(), checked(), state, Outcome(jobs=2, duration_ms=40.0))
    assert set(output) == RESULT_KEYS
    assert output["changed"] is True
    assert output["server_version"] == "15.0" and output["in_recovery"] is False
    assert output["planned"][0] == {
        "database": "app",
        "schema": "public",
        "table": "a",
        "reasons": done["reasons"],
        "sql": done["sql"],
        "total_bytes": 8192,
        "size_estimated": False,
        "partitioned": False,
        "n_dead_tup": 5000,
        "xid_age": 100,
        "wraparound": False,
    }
    assert output["planned"][1]["partitioned"] is True
    assert output["processed"][0] == {
        "database": "app",
        "schema": "public",
        "table": "a",
        "sql": done["sql"],
        "status": "ok",
        "duration_ms": 12.0,
        "message": None,
        "n_dead_tup_before": 5000,
        "n_dead_tup_after": 3,
        "n_dead_tup_kept": 3,
        "kept": "kept 3 dead tuples that it should have removed: no holder of the xmin horizon was seen "
        "(it may have ended during the run)",
        "held_back_by": None,
    }
    assert output["not_selected"] == [skipped("c", "below every threshold")]
    assert output["databases"] == [{"database": "app", "xid_age": 1000, "mxid_age": 1}]
    assert output["oldest_xmin_holder"] == SESSION and output["xmin_holders"] == [SESSION]
    assert output["totals"]["jobs"] == 2 and output["totals"]["ok"] == 2
    assert output["worst_severity"] == "info"


def test_result_is_unchanged_when_nothing_was_done():
    output = result(params(), checked(), observed(database([entry("a", "skipped_locked")])), Outcome(jobs=1))
    assert output["changed"] is False
    assert output["worst_severity"] == "warning"


def test_result_in_check_mode_is_the_plan():
    state = observed(database([entry("a")]))
    output = result(params(), checked(), state, Outcome(check_mode=True))
    assert set(output) == RESULT_KEYS
    assert output["changed"] is True and output["processed"] == [] and len(output["planned"]) == 1
    assert result(params(), checked(), observed(database()), Outcome(check_mode=True))["changed"] is False


def test_result_on_a_standby():
    output = result(params(), checked(), observed(in_recovery=True), Outcome())
    assert set(output) == RESULT_KEYS
    assert output["changed"] is False
    assert output["planned"] == output["processed"] == output["not_selected"] == output["databases"] == []
    assert output["totals"]["ok"] == 0


def test_not_selected_is_cut_unless_asked():
    many = [skipped("t%d" % i, "below every threshold") for i in range(NOT_SELECTED_LISTED + 5)]
    state = observed(database([], many))
    assert len(result(params(), checked(), state, Outcome())["not_selected"]) == NOT_SELECTED_LISTED
    assert len(result(params(not_selected_details=True), checked(), state, Outcome())["not_selected"]) == len(many)
    assert result(params(), checked(), state, Outcome())["totals"]["not_selected"] == {"below every threshold": 30}


def test_holders_listed_are_the_first_twenty():
    holders = [dict(SESSION, id=str(i), xmin_age=100 - i) for i in range(25)]
    output = result(params(), checked(), observed(xmin_holders=holders), Outcome())
    assert len(output["xmin_holders"]) == 20 and output["oldest_xmin_holder"]["id"] == "0"


# --- whether the task fails ------------------------------------------------------------------------


def fails(p, state, outcome):
    return failure(p, state, outcome, result(p, checked(), state, outcome))


def test_a_good_run_does_not_fail():
    assert fails(params(), observed(database([entry("a", "ok")])), Outcome(jobs=1)) is None


def test_a_standby_fails_only_when_asked():
    assert fails(params(), observed(in_recovery=True), Outcome()) is None
    problem = fails(params(on_recovery="fail"), observed(in_recovery=True), Outcome())
    assert problem.msg == "the server is a standby (in recovery); VACUUM and ANALYZE cannot run there"
    assert problem.result["in_recovery"] is True and problem.result["findings"]


def test_the_server_gone_fails_whatever_fail_on_says():
    state = observed(database([entry("a", "ok"), entry("b", "not_started")]))
    problem = fails(params(fail_on="never"), state, Outcome(lost="terminating connection", jobs=1))
    assert problem.msg.startswith("the server 127.0.0.1:5432 went away during the run (terminating connection)")
    assert problem.result["totals"]["not_started"] == 1
    assert problem.output()["msg"] == problem.msg and "exception" not in problem.output()


def test_a_crashed_job_fails_with_its_traceback():
    state = observed(database([entry("a", "not_started")]))
    problem = fails(params(fail_on="never"), state, Outcome(crashes=["a job could not connect: no\ntrace"], jobs=1))
    assert problem.msg == "the run failed, 1 table(s) not started: a job could not connect: no"
    assert problem.output()["exception"] == "a job could not connect: no\ntrace"


def test_a_failed_table_fails_unless_continue_on_error():
    state = observed(database([entry("a", "error", message="boom"), entry("b", "ok")]))
    problem = fails(params(fail_on="never"), state, Outcome(jobs=1))
    assert problem.msg == "1 table(s) failed; first: app.public.a: boom"
    # With continue_on_error the error is a critical finding: fail_on decides.
    assert fails(params(continue_on_error=True, fail_on="never"), state, Outcome(jobs=1)) is None
    problem = fails(params(continue_on_error=True, fail_on="critical"), state, Outcome(jobs=1))
    assert problem.msg == "1 finding(s) at critical or worse: app: 1 table(s) failed: public.a: boom"


@pytest.mark.parametrize(
    "fail_on, age, fails_",
    [
        ("critical", 1300000000, False),
        ("warning", 1300000000, True),
        ("critical", 1400000000, True),
        ("never", 2000000000, False),
        ("info", 1000, False),
    ],
)
def test_fail_on_the_worst_finding(fail_on, age, fails_):
    state = observed(database([entry("a", "ok")], xid_age=age))
    problem = fails(params(fail_on=fail_on), state, Outcome(jobs=1))
    assert (problem is not None) is fails_
    if problem is not None:
        assert problem.msg.startswith("1 finding(s) at %s or worse: app: transaction-ID age" % fail_on)
        assert problem.result["worst_severity"] in ("warning", "critical")


def test_fail_on_info_fails_in_check_mode_too():
    state = observed(database([entry("a")]))
    problem = fails(params(fail_on="info"), state, Outcome(check_mode=True))
    assert problem.msg.startswith("1 finding(s) at info or worse: app: check mode: 1 table(s) would be processed")


def test_decisions_do_not_change_their_input():
    state = observed(database([entry("a", "ok", n_dead_tup_kept=5000)], [skipped("c", "below every threshold")]))
    before = copy.deepcopy(state)
    result(params(), checked(), state, Outcome(jobs=1))
    assert state == before


def test_every_finding_is_in_the_findings_model_and_a_role_publishes_them():
    selected = [entry("a", "ok", n_dead_tup_kept=5000), entry("b", "error", message="boom")]
    rows = [row("stale", 100)]
    state = observed(database(selected, rows=rows, xid_age=1400000000), xmin_holders=[SESSION])
    output = result(params(), checked(), state, Outcome(jobs=1))
    assert [validate_finding(f) for f in output["findings"]] == output["findings"]
    assert {f["check"] for f in output["findings"]} == {
        "postgres.xmin_horizon",
        "postgres.wraparound",
        "postgres.vacuum_stale",
        "postgres.vacuum_kept",
        "postgres.vacuum",
    }
    # The role's rescue rule: a failed run publishes its own findings (it has a critical one).
    failed = dict(failure(params(), state, Outcome(jobs=1), output).output(), failed=True)
    assert findings_of_result(failed, "postgres.vacuum", "app", "maintenance") == output["findings"]
    # A run that returned nothing (bad input) publishes "maintenance did not run".
    (only,) = findings_of_result(
        {"failed": True, "msg": "jobs must be at least 1, got 0"}, "postgres.vacuum", "app", "maintenance"
    )
    assert only["summary"] == "maintenance did not run: jobs must be at least 1, got 0"
