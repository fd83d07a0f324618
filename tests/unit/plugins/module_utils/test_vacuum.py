# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of pg_vacuum, fed with observed statistics (no server needed here; the
module itself is tested against a real PostgreSQL in tests/integration/targets/pg_vacuum)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._vacuum import (
    aggregate_partitions,
    apply_sizes,
    command_options,
    command_prefix,
    connection_lost,
    connection_refused,
    describe_server,
    entry_command,
    evaluate_table,
    free_connections,
    free_for,
    in_scope,
    jobs_for,
    kept_dead_tuples,
    lost_summary,
    milliseconds,
    name_rows,
    names_match,
    not_started_reason,
    notice_status,
    plan_tables,
    reads_kept,
    record_after,
    sizes_needed,
    split_name,
    table_settings,
    timeout_problem,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.holder_rows import SESSION

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
SETTINGS = {
    "autovacuum_vacuum_threshold": 50,
    "autovacuum_vacuum_scale_factor": 0.2,
    "autovacuum_analyze_threshold": 50,
    "autovacuum_analyze_scale_factor": 0.1,
    "autovacuum_freeze_max_age": 200000000,
    "autovacuum_multixact_freeze_max_age": 400000000,
    "autovacuum_vacuum_insert_threshold": 1000,
    "autovacuum_vacuum_insert_scale_factor": 0.2,
}


def table(name, **stats):
    row = {
        "database": "app",
        "schema": "public",
        "table": name,
        "relid": abs(hash(name)) % 100000,
        "reltuples": 10000,
        "n_live_tup": 10000,
        "n_dead_tup": 0,
        "n_mod_since_analyze": 0,
        "n_ins_since_vacuum": 0,
        "xid_age": 1000,
        "mxid_age": 1,
        "total_bytes": 1 << 20,
        "last_vacuum": None,
        "last_autovacuum": NOW - timedelta(days=1),
        "last_analyze": None,
        "last_autoanalyze": NOW - timedelta(days=1),
        "reloptions": None,
    }
    row.update(stats)
    return row


def opts(**extra):
    base = {"mode": "vacuum_analyze", "select": "needed", "order_by": "size"}
    base.update(extra)
    return base


def test_autovacuum_formula_selects_and_says_why():
    reasons, wraparound = evaluate_table(table("t", n_dead_tup=2051), SETTINGS, opts(), NOW)
    assert not wraparound
    assert reasons == ["dead tuples 2051 > autovacuum threshold 2050 (50 + 0.2 x 10000 rows)"]
    assert evaluate_table(table("t", n_dead_tup=2050), SETTINGS, opts(), NOW)[0] == []


def test_reloptions_override_the_server_settings():
    row = table("hot", n_dead_tup=200, reloptions=["autovacuum_vacuum_scale_factor=0.01", "fillfactor=90"])
    assert "autovacuum threshold 150" in evaluate_table(row, SETTINGS, opts(), NOW)[0][0]
    assert table_settings(SETTINGS, ["autovacuum_vacuum_threshold=-1"])["autovacuum_vacuum_threshold"] == 50


def test_explicit_dead_thresholds_need_both_count_and_ratio():
    row = table("t", n_live_tup=9000, n_dead_tup=1000)  # 10 % dead, below the formula (2050)
    assert evaluate_table(row, SETTINGS, opts(min_dead_ratio=5.0), NOW)[0]
    assert evaluate_table(row, SETTINGS, opts(min_dead_ratio=5.0, min_dead_tuples=1000), NOW)[0]
    assert not evaluate_table(row, SETTINGS, opts(min_dead_ratio=5.0, min_dead_tuples=1001), NOW)[0]
    assert not evaluate_table(row, SETTINGS, opts(min_dead_ratio=11.0), NOW)[0]


def test_analyze_reasons():
    assert evaluate_table(table("t", last_autoanalyze=None), SETTINGS, opts(mode="analyze"), NOW)[0] == [
        "never analyzed"
    ]
    reasons = evaluate_table(table("t", n_mod_since_analyze=1051), SETTINGS, opts(mode="analyze"), NOW)[0]
    assert reasons == ["rows modified since analyze 1051 > analyze threshold 1050"]
    assert evaluate_table(
        table("t", n_mod_since_analyze=600), SETTINGS, opts(mode="analyze", min_mod_since_analyze_ratio=5), NOW
    )[0]
    # analyze mode ignores dead tuples
    assert evaluate_table(table("t", n_dead_tup=99999), SETTINGS, opts(mode="analyze"), NOW)[0] == []


def test_freeze_mode_uses_xid_age_with_a_default():
    assert evaluate_table(table("t", xid_age=60000000), SETTINGS, opts(mode="freeze"), NOW)[0] == [
        "xid age 60000000 >= min_xid_age 50000000"
    ]
    assert evaluate_table(table("t", xid_age=40000000), SETTINGS, opts(mode="freeze"), NOW)[0] == []
    assert evaluate_table(table("t", xid_age=40000000), SETTINGS, opts(mode="freeze", min_xid_age=1000), NOW)[0]


def test_wraparound_is_flagged_and_goes_first_whatever_its_size():
    rows = [
        table("big", n_dead_tup=5000, total_bytes=10 << 30),
        table("old_small", xid_age=250000000, total_bytes=8192),
        table("older_small", xid_age=300000000, total_bytes=8192),
        table("medium", n_dead_tup=5000, total_bytes=1 << 30),
    ]
    selected, skipped = plan_tables(rows, SETTINGS, opts(), NOW)
    assert [e["table"] for e in selected] == ["older_small", "old_small", "big", "medium"]
    assert selected[0]["wraparound"] and selected[0]["reasons"][0].startswith("wraparound: xid age 300000000")
    assert skipped == []


def test_order_by_dead_tuples():
    rows = [table("a", n_dead_tup=3000, total_bytes=10 << 30), table("b", n_dead_tup=9000, total_bytes=1 << 20)]
    selected, dummy = plan_tables(rows, SETTINGS, opts(order_by="dead_tuples"), NOW)
    assert [e["table"] for e in selected] == ["b", "a"]


def test_filters_leave_out_small_and_recent_tables_but_never_wraparound():
    rows = [
        table("small", n_dead_tup=5000, total_bytes=4096),
        table("recent", n_dead_tup=5000, last_autovacuum=NOW - timedelta(hours=2)),
        table("recent_but_old", xid_age=250000000, total_bytes=4096, last_autovacuum=NOW - timedelta(hours=2)),
        table("clean"),
    ]
    selected, skipped = plan_tables(rows, SETTINGS, opts(min_size=1 << 20, skip_vacuumed_within=6 * 3600), NOW)
    assert [e["table"] for e in selected] == ["recent_but_old"]
    reasons = dict((e["table"], e["skip_reason"]) for e in skipped)
    assert reasons["small"].startswith("size 4096 bytes < min_size")
    assert "within skip_vacuumed_within" in reasons["recent"]
    assert reasons["clean"] == "below every threshold"


def test_tables_autovacuum_works_on_are_left_alone_unless_wraparound():
    rows = [
        table("busy", n_dead_tup=5000, relid=1),
        table("busy_old", xid_age=250000000, relid=2),
        table("busy_anti_wrap", n_dead_tup=5000, relid=3),
    ]
    selected, skipped = plan_tables(rows, SETTINGS, opts(), NOW, {1: False, 2: False, 3: True})
    assert sorted(e["table"] for e in selected) == ["busy_anti_wrap", "busy_old"]
    assert skipped[0]["table"] == "busy" and skipped[0]["skip_reason"] == "autovacuum is working on it"


def test_select_all_takes_every_table():
    selected, skipped = plan_tables([table("a"), table("b", n_dead_tup=9999)], SETTINGS, opts(select="all"), NOW)
    assert len(selected) == 2 and skipped == []
    assert all(e["reasons"][0] == "select: all" for e in selected)


@pytest.mark.parametrize(
    "version, expected, warned",
    [
        (150018, [("ANALYZE", None), ("TRUNCATE", False), ("SKIP_LOCKED", None)], ["BUFFER_USAGE_LIMIT"]),
        (
            160004,
            [
                ("ANALYZE", None),
                ("TRUNCATE", False),
                ("SKIP_DATABASE_STATS", None),
                ("SKIP_LOCKED", None),
                ("BUFFER_USAGE_LIMIT", "256MB"),
            ],
            [],
        ),
        (110022, [("ANALYZE", None)], ["TRUNCATE", "SKIP_LOCKED", "BUFFER_USAGE_LIMIT"]),
    ],
)
def test_command_options_follow_the_server_version(version, expected, warned):
    command, options, warnings = command_options(opts(buffer_usage_limit="256MB"), version)
    assert command == "VACUUM"
    assert options == expected
    assert [w.split()[0] for w in warnings] == warned


def test_command_options_for_analyze_full_freeze_and_parallel():
    assert command_options(opts(mode="analyze"), 150000)[:2] == ("ANALYZE", [("SKIP_LOCKED", None)])
    assert command_options(opts(mode="vacuum", full=True), 150000)[1] == [("FULL", None), ("SKIP_LOCKED", None)]
    assert command_options(opts(mode="freeze", truncate=True, parallel_workers=2), 150000)[1] == [
        ("FREEZE", None),
        ("PARALLEL", 2),
        ("SKIP_LOCKED", None),
    ]
    assert command_options(opts(mode="vacuum", skip_locked=False), 150000)[1] == [("TRUNCATE", False)]


def test_free_connections():
    assert free_connections(100, 3, 10) == 85
    assert free_connections(10, 3, 9) == 0


def test_insert_threshold_reloption_minus_one_switches_insert_vacuums_off():
    row = table("append_only", n_ins_since_vacuum=20000, reloptions=["autovacuum_vacuum_insert_threshold=-1"])
    assert evaluate_table(row, SETTINGS, opts(), NOW)[0] == []
    assert evaluate_table(table("append", n_ins_since_vacuum=20000), SETTINGS, opts(), NOW)[0] == [
        "rows inserted since vacuum 20000 > insert threshold 3000"
    ]


# --- partitioned tables ----------------------------------------------------------------------


def partitioned_tree(**leaf_stats):
    """meas (p) -> meas_eu (p) -> meas_eu_1, meas_eu_2; meas -> meas_us: 10000 rows per leaf."""
    rows = [
        table(
            "meas",
            relid=1,
            relkind="p",
            reltuples=-1,
            n_live_tup=None,
            n_dead_tup=None,
            n_mod_since_analyze=None,
            total_bytes=0,
            has_inherited_stats=True,
            last_autoanalyze=None,
            ancestors=[],
        ),
        table("meas_eu", relid=2, relkind="p", reltuples=-1, total_bytes=0, has_inherited_stats=True, ancestors=[1]),
        table("meas_eu_1", relid=3, ancestors=[2, 1]),
        table("meas_eu_2", relid=4, ancestors=[2, 1]),
        table("meas_us", relid=5, ancestors=[1]),
    ]
    for row in rows:
        row.update(leaf_stats.get(row["table"], {}))
    return aggregate_partitions(rows)


def test_partitioned_tables_add_up_their_leaves():
    rows = partitioned_tree(meas_us={"n_mod_since_analyze": 4000, "total_bytes": 3 << 20})
    meas, meas_eu = rows[0], rows[1]
    assert (meas["reltuples"], meas["partitions"], meas["n_mod_since_analyze"]) == (30000.0, 3, 4000)
    assert meas["total_bytes"] == (2 << 20) + (3 << 20)
    assert (meas_eu["reltuples"], meas_eu["partitions"], meas_eu["n_mod_since_analyze"]) == (20000.0, 2, 0)


def test_partitioned_table_is_analyzed_when_its_partitions_changed_enough():
    # 50 + 0.1 x 30000 = 3050 over the whole table
    due = partitioned_tree(meas_us={"n_mod_since_analyze": 3051})
    assert evaluate_table(due[0], SETTINGS, opts(mode="analyze"), NOW)[0] == [
        "rows modified since analyze in its 3 partition(s) 3051 > analyze threshold 3050 (50 + 0.1 x 30000 rows)"
    ]
    calm = partitioned_tree(meas_us={"n_mod_since_analyze": 3050})
    assert evaluate_table(calm[0], SETTINGS, opts(mode="analyze"), NOW)[0] == []
    never = partitioned_tree(meas={"has_inherited_stats": False})
    assert evaluate_table(never[0], SETTINGS, opts(mode="analyze"), NOW)[0] == [
        "partitioned table never analyzed (autovacuum never analyzes one)"
    ]
    # a vacuum mode never selects a partitioned table itself: its partitions are vacuumed
    selected, skipped = plan_tables(never, SETTINGS, opts(mode="vacuum", select="all"), NOW, server_version=150000)
    assert [e["table"] for e in selected] == ["meas_eu_1", "meas_eu_2", "meas_us"]
    assert {e["table"]: e["skip_reason"] for e in skipped} == {
        "meas": "partitioned table: VACUUM runs on its partitions",
        "meas_eu": "partitioned table: VACUUM runs on its partitions",
    }


def test_select_all_analyzes_partitioned_tables_last_and_once_before_postgresql_18():
    rows = partitioned_tree()
    selected, skipped = plan_tables(rows, SETTINGS, opts(select="all"), NOW, server_version=150000)
    assert [e["table"] for e in selected] == ["meas_eu_1", "meas_eu_2", "meas_us", "meas"]
    assert {e["table"]: e["skip_reason"] for e in skipped} == {
        "meas_eu": "analyzed with its partitioned table public.meas"
    }
    # analyze mode: the parent's recursive ANALYZE covers every partition
    selected, skipped = plan_tables(rows, SETTINGS, opts(select="all", mode="analyze"), NOW, server_version=170000)
    assert [e["table"] for e in selected] == ["meas"]
    assert len(skipped) == 4
    # PostgreSQL 18: ANALYZE ONLY, every table has its own entry
    selected, skipped = plan_tables(rows, SETTINGS, opts(select="all", mode="analyze"), NOW, server_version=180000)
    assert [e["table"] for e in selected] == ["meas_eu_1", "meas_eu_2", "meas_us", "meas", "meas_eu"]


def test_entry_command_analyzes_a_partitioned_table_only():
    assert entry_command(opts(), 150000, "p")[:3] == ("ANALYZE", [("SKIP_LOCKED", None)], False)
    assert entry_command(opts(), 180000, "p")[:3] == ("ANALYZE", [("SKIP_LOCKED", None)], True)
    assert entry_command(opts(), 150000, "r")[:3] == (
        "VACUUM",
        [("ANALYZE", None), ("TRUNCATE", False), ("SKIP_LOCKED", None)],
        False,
    )


# --- holders of the xmin horizon -------------------------------------------------------------


def test_kept_dead_tuples():
    assert kept_dead_tuples(0, SETTINGS, None, SESSION) is None
    assert kept_dead_tuples(None, SETTINGS, None, SESSION) is None
    severity, text = kept_dead_tuples(20000, SETTINGS, None, SESSION)
    assert severity == "warning"
    assert text.startswith(
        "kept 20000 dead tuples that it should have removed: held back by session pid 4242 (user app"
    )
    # a few recently dead tuples of a busy table: info, not an alert (autovacuum_vacuum_threshold 50)
    assert kept_dead_tuples(50, SETTINGS, None, SESSION)[0] == "info"
    assert kept_dead_tuples(51, SETTINGS, ["autovacuum_vacuum_threshold=100"], SESSION)[0] == "info"
    assert kept_dead_tuples(500, SETTINGS, None, None) == (
        "warning",
        "kept 500 dead tuples that it should have removed: no holder of the xmin horizon was seen "
        "(it may have ended during the run)",
    )


# --- input limits and a lost server ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value, seconds, message",
    [
        (
            "lock_timeout",
            "30d",
            30 * 86400.0,
            "lock_timeout must be at most 2147483647ms (about 24.8 days, PostgreSQL's limit), got '30d'",
        ),
        ("statement_timeout", "2147484s", 2147484.0, "statement_timeout must be at most 2147483647ms"),
        ("lock_timeout", "0.4ms", 0.0004, "lock_timeout must be at least 1ms (0 would wait forever), got '0.4ms'"),
        ("statement_timeout", "0", 0.0, "statement_timeout must be at least 1ms (unset it for no limit), got '0'"),
    ],
)
def test_timeouts_outside_postgresql_range_are_refused(name, value, seconds, message):
    assert timeout_problem(name, value, seconds).startswith(message)


@pytest.mark.parametrize("seconds", [None, 0.001, 5.0, 2147483.647])
def test_timeouts_inside_postgresql_range_pass(seconds):
    assert timeout_problem("lock_timeout", "x", seconds) is None


@pytest.mark.parametrize(
    "message, gone",
    [
        ('connection to server at "127.0.0.1", port 5432 failed: Connection refused', True),
        ('connection to server on socket "/tmp/.s.PGSQL.5432" failed: No such file or directory', True),
        ("connection failed: FATAL:  the database system is shutting down", True),
        ('connection failed: FATAL:  too many connections for role "app"', False),
        ('connection failed: FATAL:  password authentication failed for user "app"', False),
    ],
)
def test_connection_refused_tells_a_server_gone_from_one_that_says_no(message, gone):
    assert connection_refused(message) is gone


@pytest.mark.parametrize(
    "sqlstate, broken, operational, lost",
    [
        ("57P01", False, True, True),  # admin shutdown, pg_terminate_backend
        ("57P02", False, True, True),  # crash shutdown
        ("08006", False, True, True),  # connection failure
        (None, False, True, True),  # libpq: server closed the connection unexpectedly
        (None, True, False, True),  # whatever the error, the connection is broken
        ("55P03", False, True, False),  # lock not available
        ("57014", False, True, False),  # statement timeout
        ("42501", False, False, False),  # permission denied
    ],
)
def test_connection_lost(sqlstate, broken, operational, lost):
    assert connection_lost(sqlstate, broken, operational) is lost


def test_lost_summary_says_where_and_what_was_done():
    entries = [
        {"schema": "s", "table": "t1", "status": "ok"},
        {"schema": "s", "table": "t2", "status": "error", "interrupted": True},
        {"schema": "s", "table": "t3", "status": "not_started"},
        {"schema": "s", "table": "t4", "status": "not_started"},
    ]
    assert lost_summary("127.0.0.1:5432", "server closed the connection unexpectedly", entries) == (
        "the server 127.0.0.1:5432 went away during the run (server closed the connection unexpectedly), "
        "1 table(s) done, 1 interrupted (s.t2), 2 not started (s.t3, s.t4)"
    )
    many = [{"schema": "s", "table": "t%d" % i, "status": "not_started"} for i in range(12)]
    expected = "0 table(s) done, 12 not started (s.t0, s.t1, s.t2, s.t3, s.t4, s.t5, s.t6, s.t7, s.t8, s.t9 and 2 more)"
    assert lost_summary("db:5432", "x", many).endswith(expected)


# --- scope, commands and outcomes (moved out of the module) ---------------------------------


def test_split_name_and_names_match_a_table_or_its_partitioned_ancestors():
    assert split_name("core.accounts") == ("core", "accounts")
    assert split_name("accounts") == (None, "accounts")
    # a name with more dots: the schema is what comes before the first one
    assert split_name("a.b.c") == ("a", "b.c")
    lineage = [("public", "events_2026"), ("public", "events")]
    assert names_match("events_2026", lineage)
    assert names_match("events", lineage)
    assert names_match("public.events", lineage)
    assert not names_match("archive.events", lineage)
    assert not names_match("event", lineage)


SCOPE = {"schemas": [], "exclude_schemas": [], "tables": [], "exclude_tables": []}


@pytest.mark.parametrize(
    "scope, expected",
    [
        ({}, True),
        ({"schemas": ["public"]}, True),
        ({"schemas": ["archive"]}, False),
        ({"exclude_schemas": ["public"]}, False),
        ({"tables": ["events"]}, True),
        ({"tables": ["public.events_2026"]}, True),
        ({"tables": ["other"]}, False),
        ({"exclude_tables": ["events"]}, False),
        ({"tables": ["events"], "exclude_tables": ["events_2026"]}, False),
    ],
)
def test_in_scope_by_schema_and_by_name(scope, expected):
    row = {"schema": "public", "table": "events_2026", "lineage": [("public", "events_2026"), ("public", "events")]}
    assert in_scope(row, dict(SCOPE, **scope)) is expected


def test_in_scope_without_lineage_uses_the_table_itself():
    row = {"schema": "public", "table": "t"}
    assert in_scope(row, dict(SCOPE, tables=["t"]))
    assert not in_scope(row, dict(SCOPE, tables=["u"]))


def test_name_rows_gives_lineage_and_finds_the_names_of_tables():
    rows = [
        {"relid": 1, "schema": "public", "table": "events", "ancestors": []},
        {"relid": 2, "schema": "public", "table": "events_2026", "ancestors": [1]},
        {"relid": 3, "schema": "core", "table": "accounts", "ancestors": []},
    ]
    found = name_rows(rows, "app", ["events", "core.accounts", "public.accounts", "missing"])
    assert found == {"events", "core.accounts"}
    assert rows[1]["lineage"] == [("public", "events_2026"), ("public", "events")]
    assert all(row["database"] == "app" for row in rows)


def test_milliseconds():
    assert milliseconds(5) == "5000ms"
    assert milliseconds(0.0004) == "0ms"
    assert milliseconds(1.2345) == "1234ms"


@pytest.mark.parametrize(
    "notices, expected",
    [
        ([], ("ok", None)),
        (
            [("55P03", 'skipping vacuum of "t" --- lock not available')],
            ("skipped_locked", 'skipping vacuum of "t" --- lock not available'),
        ),
        ([("01000", "lock not available")], ("skipped_locked", "lock not available")),
        ([("42501", "permission denied to vacuum t")], ("skipped_permission", "permission denied to vacuum t")),
        (
            [("01000", 'skipping "t" --- only superuser or database owner can vacuum it')],
            ("skipped_permission", 'skipping "t" --- only superuser or database owner can vacuum it'),
        ),
        ([("00000", "some other notice")], ("ok", None)),
    ],
)
def test_notice_status_classifies_skips(notices, expected):
    assert notice_status(notices) == expected


def test_not_started_reason_in_order_of_cause():
    assert not_started_reason("gone", ["boom\ntrace"], True) == "not started: the server went away"
    assert not_started_reason(None, ["boom\ntrace"], True) == "not started: boom"
    assert not_started_reason(None, [], True) == "budget exhausted"
    assert not_started_reason(None, [], False) == "not started after an earlier failure"


def test_jobs_for_caps_by_free_connections():
    assert jobs_for(1, 0) == (1, None)
    assert jobs_for(4, 10) == (4, None)
    assert jobs_for(4, 2) == (2, "jobs lowered from 4 to 2: the server has 2 connection(s) free")
    assert jobs_for(4, 0) == (1, "jobs lowered from 4 to 1: the server has 0 connection(s) free")


def test_free_for_reads_the_settings():
    assert free_for({}, 10) == free_connections(100, 3, 10)
    settings = {"max_connections": 50.0, "superuser_reserved_connections": 3.0, "reserved_connections": 2.0}
    assert free_for(settings, 5) == 50 - 5 - 5 - 2


def test_describe_server():
    assert describe_server("/var/run/postgresql", 5432) == "on socket /var/run/postgresql port 5432"
    assert describe_server("db.example", 5432) == "db.example:5432"
    assert describe_server("::1", 5432) == "[::1]:5432"


@pytest.mark.parametrize(
    "version, options, relkind, expected",
    [
        (150000, {}, "r", "VACUUM (ANALYZE, TRUNCATE false, SKIP_LOCKED)"),
        (110000, {}, "r", "VACUUM (ANALYZE)"),
        (110000, {"skip_locked": False}, "r", "VACUUM (ANALYZE)"),
        (150000, {"mode": "analyze"}, "r", "ANALYZE (SKIP_LOCKED)"),
        (150000, {"mode": "analyze", "skip_locked": False}, "r", "ANALYZE"),
        (
            150000,
            {"mode": "freeze", "parallel_workers": 4},
            "r",
            "VACUUM (FREEZE, TRUNCATE false, PARALLEL 4, SKIP_LOCKED)",
        ),
        (150000, {"full": True}, "r", "VACUUM (FULL, ANALYZE, SKIP_LOCKED)"),
        (
            160000,
            {"buffer_usage_limit": "256kB"},
            "r",
            "VACUUM (ANALYZE, TRUNCATE false, SKIP_DATABASE_STATS, SKIP_LOCKED, BUFFER_USAGE_LIMIT '256kB')",
        ),
        (170000, {}, "p", "ANALYZE (SKIP_LOCKED)"),
        (180000, {}, "p", "ANALYZE (SKIP_LOCKED) ONLY"),
    ],
)
def test_command_prefix(version, options, relkind, expected):
    assert command_prefix(opts(**options), version, relkind) == expected


def test_reads_kept_only_after_a_vacuum_of_a_table():
    assert reads_kept("vacuum_analyze", {"relkind": "r"})
    assert reads_kept("freeze", {"relkind": "m"})
    assert not reads_kept("analyze", {"relkind": "r"})
    assert not reads_kept("vacuum", {"relkind": "p"})


def test_record_after_sets_dead_tuples_after_and_the_rows_last_vacuum():
    selected = [
        {"relid": 1, "relkind": "r", "status": "ok", "n_dead_tup": 100},
        {"relid": 2, "relkind": "r", "status": "lock_timeout", "n_dead_tup": 50},
        {"relid": 3, "relkind": "r", "status": "ok", "n_dead_tup": 10},
    ]
    rows = [{"relid": 1, "last_vacuum": None}, {"relid": 2, "last_vacuum": None}]
    after = {1: {"n_dead_tup": 7, "last_vacuum": NOW}}
    record_after(selected, rows, after, "vacuum_analyze", 150000)
    assert selected[0]["n_dead_tup_after"] == 7
    assert "n_dead_tup_kept" not in selected[0]  # read right after the VACUUM from PostgreSQL 15
    assert "n_dead_tup_after" not in selected[1]
    assert selected[2]["n_dead_tup_after"] is None  # dropped meanwhile
    assert rows == [{"relid": 1, "last_vacuum": NOW}, {"relid": 2, "last_vacuum": None}]


def test_record_after_before_postgresql_15_takes_the_kept_tuples_from_the_statistics():
    selected = [{"relid": 1, "relkind": "r", "status": "ok", "n_dead_tup": 100}]
    record_after(selected, [], {1: {"n_dead_tup": 7, "last_vacuum": NOW}}, "vacuum", 140000)
    assert selected[0]["n_dead_tup_kept"] == 7
    selected = [{"relid": 1, "relkind": "r", "status": "ok", "n_dead_tup": 100}]
    record_after(selected, [], {1: {"n_dead_tup": 7, "last_vacuum": NOW}}, "analyze", 140000)
    assert "n_dead_tup_kept" not in selected[0]


def test_min_mod_since_analyze_ratio_says_where_the_rows_changed():
    reasons = evaluate_table(
        table("t", n_mod_since_analyze=600), SETTINGS, opts(mode="analyze", min_mod_since_analyze_ratio=5), NOW
    )[0]
    assert reasons == ["rows modified since analyze 6.0% >= min_mod_since_analyze_ratio 5%"]
    tree = partitioned_tree(meas_us={"n_mod_since_analyze": 3000})
    reasons = evaluate_table(tree[0], SETTINGS, opts(mode="analyze", min_mod_since_analyze_ratio=5), NOW)[0]
    assert reasons == ["rows modified since analyze in its partitions 10.0% >= min_mod_since_analyze_ratio 5%"]
    assert evaluate_table(tree[0], SETTINGS, opts(mode="analyze", min_mod_since_analyze_ratio=11), NOW)[0] == []


def test_plan_tables_shares_settings_per_reloptions_with_the_same_result():
    # plan_tables computes the effective settings once per distinct reloptions; each table's
    # reasons must be what evaluate_table gives it alone, reloptions or not, in any order.
    rows = []
    for i in range(300):
        reloptions = [None, ["autovacuum_vacuum_scale_factor=0.01"], ["autovacuum_vacuum_threshold=5000"]][i % 3]
        rows.append(
            table("t%03d" % i, relid=i, n_dead_tup=(i * 37) % 4000, n_mod_since_analyze=i * 7, reloptions=reloptions)
        )
    selected, skipped = plan_tables(rows, SETTINGS, opts(), NOW)
    assert len(selected) + len(skipped) == 300
    by_relid = dict((e["relid"], e) for e in selected + skipped)
    for row in rows:
        alone = evaluate_table(row, SETTINGS, opts(), NOW)[0]
        assert by_relid[row["relid"]]["reasons"] == alone
        assert (by_relid[row["relid"]] in selected) == bool(alone)

    # Tables alike but for their reloptions are decided by their own reloptions.
    def dead_reason(entry):
        return any(reason.startswith("dead tuples") for reason in entry["reasons"])

    assert not any(dead_reason(e) for e in selected if e["relid"] % 3 == 2)  # threshold 5000 + 0.2 x rows
    assert any(dead_reason(e) and e["n_dead_tup"] < 2050 for e in selected if e["relid"] % 3 == 1)  # 0.01 x rows


def test_plan_tables_is_linear_in_the_tables():
    # 10,000 tables, 1 % over the threshold: the 100 selected, largest first, the rest skipped.
    rows = [table("t%05d" % i, relid=i, total_bytes=i, n_dead_tup=5000 if i % 100 == 0 else 0) for i in range(1, 10001)]
    selected, skipped = plan_tables(rows, SETTINGS, opts(), NOW)
    assert [e["relid"] for e in selected] == list(range(10000, 0, -100))
    assert len(skipped) == 9900 and {e["skip_reason"] for e in skipped} == {"below every threshold"}


def _sized_rows():
    # Plain tables (some over a threshold, one never vacuumed whose estimate is 0), a partitioned
    # table with two leaves, and a table with reloptions: true sizes differ from the estimates.
    rows = [
        table("big_dead", relid=1, n_dead_tup=5000, total_bytes=50 << 20),
        table("small_dead", relid=2, n_dead_tup=5000, total_bytes=1 << 20),
        table("fresh", relid=3, n_dead_tup=50000, total_bytes=30 << 20, reltuples=-1),
        table("quiet", relid=4, total_bytes=80 << 20),
        table(
            "tuned",
            relid=5,
            n_dead_tup=300,
            total_bytes=20 << 20,
            reloptions=["autovacuum_vacuum_threshold=10", "autovacuum_vacuum_scale_factor=0"],
        ),
        table("meas", relid=10, relkind="p", total_bytes=0, reltuples=0, n_live_tup=0, has_inherited_stats=False),
        table("meas_1", relid=11, ancestors=[10], total_bytes=40 << 20, n_mod_since_analyze=9000),
        table("meas_2", relid=12, ancestors=[10], total_bytes=15 << 20),
    ]
    for row in rows:
        row["lineage"] = [("public", row["table"])]
    return rows


@pytest.mark.parametrize(
    "extra",
    [{}, {"min_size": 10 << 20}, {"mode": "analyze"}, {"order_by": "dead_tuples"}, {"select": "all", "min_size": 1}],
)
def test_true_sizes_only_where_the_plan_uses_them_give_the_same_plan(extra):
    options = opts(**extra)
    exact = _sized_rows()
    two_phase = _sized_rows()
    true = dict((row["relid"], row["total_bytes"]) for row in exact)
    for row in two_phase:  # read with estimates: a never-vacuumed table's is 0
        row.update(total_bytes=0 if row["table"] == "fresh" else row["total_bytes"] // 2, size_estimated=True)
    need = sizes_needed(two_phase, SETTINGS, options, NOW)
    apply_sizes(two_phase, [{"relid": r, "total_bytes": true[r], "size_estimated": False} for r in need])
    results = []
    for rows in (exact, two_phase):
        aggregate_partitions(rows)
        selected, skipped = plan_tables(rows, SETTINGS, options, NOW, server_version=150000)
        results.append((selected, sorted((e["relid"], e["skip_reason"]) for e in skipped)))
    for entry in results[0][0]:
        entry["size_estimated"] = False
    assert results[0] == results[1]
    if options.get("select") != "all" and options["mode"] != "analyze":
        assert 4 not in need and 10 not in need  # no reason, so its size decides nothing; p has no storage
        assert {1, 2, 3, 5} <= set(need)


def test_sizes_needed_reads_the_leaves_of_a_partitioned_table_with_a_reason():
    need = sizes_needed(_sized_rows(), SETTINGS, opts(mode="analyze"), NOW)
    assert {11, 12} <= set(need) and 10 not in need and 4 not in need
    assert sizes_needed(_sized_rows(), SETTINGS, opts(select="all"), NOW) == [1, 2, 3, 4, 5, 11, 12]


def test_apply_sizes_keeps_the_estimate_of_a_table_without_a_size():
    rows = [table("a", relid=1, total_bytes=5, size_estimated=True), table("b", relid=2, total_bytes=7)]
    apply_sizes(rows, [{"relid": 1, "total_bytes": None, "size_estimated": False}, {"relid": 3, "total_bytes": 1}])
    assert (rows[0]["total_bytes"], rows[0]["size_estimated"]) == (5, True) and rows[1]["total_bytes"] == 7
