# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the leftovers of a killed pg_restore run mean, on plain data (the kills themselves run
against a real PostgreSQL in tests/integration/targets/pg_restore)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import postgres_argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._restore import (
    RestoreError,
    choose_backup,
    cleanup_text,
    failed_result,
    failure_message,
    find_leftovers,
    make_marker,
    new_result,
    outcome_finding,
    parse_marker,
    plan_names,
    plan_recovery,
    plan_steps,
    read_options,
    recovery_steps,
    safety_directory,
    safety_dump_name,
    session_refusal,
    step_failure,
)

DB = "appdb"
STAMP = "20260127_101500"


def restore_db(step, stamp=STAMP, database=DB):
    return {"name": "%s_restore_%s" % (database, stamp), "comment": make_marker("restore", database, stamp, step)}


def previous_db(stamp=STAMP, comment=None):
    return {"name": "%s_before_%s" % (DB, stamp), "comment": make_marker("previous", DB, stamp, comment=comment)}


ALLOWED = {"allow_connections": True}
BLOCKED = {"allow_connections": False}
BASE = [
    {"name": "postgres", "comment": "default administrative connection database"},
    {"name": DB, "comment": "the application"},
]


def checks(plan):
    return [(f["check"], f["target"], f["severity"]) for f in plan["findings"]]


def test_marker_round_trip_keeps_the_previous_comment():
    text = make_marker("previous", DB, STAMP, comment='l\'application "prod"\nligne 2')
    assert text.startswith("stronghold.ops.pg_restore {")
    assert parse_marker(text) == {
        "kind": "previous",
        "database": DB,
        "stamp": STAMP,
        "comment": 'l\'application "prod"\nligne 2',
    }
    assert parse_marker(make_marker("restore", DB, STAMP, "blocking"))["step"] == "blocking"


@pytest.mark.parametrize(
    "comment",
    [
        None,
        "",
        "the application",
        "stronghold.ops.pg_restore",
        "stronghold.ops.pg_restore {",
        "stronghold.ops.pg_restore []",
        'stronghold.ops.pg_restore {"kind": "other", "database": "appdb", "stamp": "x"}',
        'stronghold.ops.pg_restore {"kind": "restore", "database": "appdb", "stamp": "x", "step": "done"}',
        'stronghold.ops.pg_restore {"kind": "restore", "database": 5, "stamp": "x", "step": "restoring"}',
        ' stronghold.ops.pg_restore {"kind": "previous", "database": "appdb", "stamp": "x"}',
    ],
)
def test_parse_marker_refuses_what_is_no_marker(comment):
    assert parse_marker(comment) is None


def test_make_marker_refuses_unknown_kind_and_step():
    with pytest.raises(ValueError):
        make_marker("other", DB, STAMP)
    with pytest.raises(ValueError):
        make_marker("restore", DB, STAMP, "done")


def test_nothing_left():
    found = find_leftovers(
        DB,
        ALLOWED,
        BASE,
        [
            "backup_20260127_020000.sql.gz",
            "backup_20260127_020000.sql.gz.sha256",
            "pre_restore_appdb_20260126_101500.sql.gz",
            "pre_restore_appdb_20260126_101500.sql.gz.sha256",
        ],
    )
    assert found == {
        "restore_databases": [],
        "previous_databases": [],
        "unmarked_databases": [],
        "partial_files": [],
        "reallow": False,
        "live_disallowed": False,
        "files_checked": True,
    }
    plan = plan_recovery(DB, found)
    assert plan["reallow"] is False and plan["drop_databases"] == [] and plan["remove_files"] == []
    assert checks(plan) == [("pg_restore.leftovers", DB, "ok")]


def test_killed_while_restoring_is_reported_then_dropped_only_when_cleaning():
    found = find_leftovers(DB, ALLOWED, BASE + [restore_db("restoring")], [])
    assert found["restore_databases"] == [
        {"name": "appdb_restore_" + STAMP, "stamp": STAMP, "step": "restoring", "complete": False}
    ]
    assert found["reallow"] is False
    reported = plan_recovery(DB, found)
    assert reported["drop_databases"] == []
    assert checks(reported) == [("pg_restore.leftover_database", "appdb_restore_" + STAMP, "warning")]
    assert "killed while restoring (incomplete)" in reported["findings"][0]["summary"]
    assert "never swapped in" in reported["findings"][0]["summary"]
    assert "state=cleaned drops it" in reported["findings"][0]["summary"]
    cleaned = plan_recovery(DB, found, clean=True)
    assert cleaned["drop_databases"] == ["appdb_restore_" + STAMP]
    assert "dropped" in cleaned["findings"][0]["summary"]
    checked = plan_recovery(DB, found, clean=True, check_mode=True)
    assert checked["drop_databases"] == ["appdb_restore_" + STAMP]
    assert "would be dropped" in checked["findings"][0]["summary"]


def test_connections_blocked_by_this_module_are_allowed_again():
    found = find_leftovers(DB, BLOCKED, BASE + [restore_db("blocking")], None)
    assert found["reallow"] is True
    assert found["restore_databases"][0]["complete"] is True
    plan = plan_recovery(DB, found)
    assert plan["reallow"] is True
    # allowed again even when not cleaning: the live database must serve
    assert plan["drop_databases"] == []
    assert checks(plan)[0] == ("pg_restore.connections", DB, "warning")
    assert "allowed again" in plan["findings"][0]["summary"]
    assert "would be allowed again" in plan_recovery(DB, found, check_mode=True)["findings"][0]["summary"]


def test_connections_blocked_by_an_administrator_stay_blocked():
    # A marker that never reached the blocking step, or none at all: the block is not this module's.
    for databases in (
        BASE,
        BASE + [restore_db("restored")],
        BASE + [restore_db("restoring")],
        BASE + [restore_db("blocking", database="otherdb")],
        BASE + [{"name": "appdb_restore_" + STAMP, "comment": None}],
    ):
        found = find_leftovers(DB, BLOCKED, databases, [])
        assert found["reallow"] is False, databases
        assert found["live_disallowed"] is True
        plan = plan_recovery(DB, found, clean=True)
        assert plan["reallow"] is False
        assert ("pg_restore.connections", DB, "warning") in checks(plan)
        assert "left as it is" in plan["findings"][0]["summary"]


def test_blocking_marker_with_the_live_database_allowed_needs_nothing():
    # Killed after the marker, before ALTER DATABASE ... ALLOW_CONNECTIONS false.
    found = find_leftovers(DB, ALLOWED, BASE + [restore_db("blocking")], [])
    assert found["reallow"] is False
    assert checks(plan_recovery(DB, found)) == [("pg_restore.leftover_database", "appdb_restore_" + STAMP, "warning")]


def test_previous_databases_are_dropped_only_when_asked():
    found = find_leftovers(DB, ALLOWED, BASE + [previous_db(comment="the application")], [])
    assert found["previous_databases"] == [{"name": "appdb_before_" + STAMP, "stamp": STAMP}]
    assert checks(plan_recovery(DB, found)) == [("pg_restore.previous_database", "appdb_before_" + STAMP, "info")]
    assert plan_recovery(DB, found, clean=True)["drop_databases"] == []
    assert plan_recovery(DB, found, drop_previous=True)["drop_databases"] == []
    assert plan_recovery(DB, found, clean=True, drop_previous=True)["drop_databases"] == ["appdb_before_" + STAMP]


@pytest.mark.parametrize(
    "item",
    [
        # a user's database with the module's name
        {"name": "appdb_restore_" + STAMP, "comment": "restored by hand"},
        # a marker of another database, of another stamp, of the other kind
        {"name": "appdb_restore_" + STAMP, "comment": make_marker("restore", "otherdb", STAMP, "restoring")},
        {"name": "appdb_restore_" + STAMP, "comment": make_marker("restore", DB, "20260101_000000", "restoring")},
        {"name": "appdb_restore_" + STAMP, "comment": make_marker("previous", DB, STAMP)},
        {"name": "appdb_before_" + STAMP, "comment": make_marker("restore", DB, STAMP, "restored")},
    ],
)
def test_unmarked_databases_are_never_touched(item):
    found = find_leftovers(DB, ALLOWED, BASE + [item], [])
    assert found["restore_databases"] == [] and found["previous_databases"] == []
    assert found["unmarked_databases"] == [
        {"name": item["name"], "kind": "restore" if "_restore_" in item["name"] else "previous"}
    ]
    plan = plan_recovery(DB, found, clean=True, drop_previous=True)
    assert plan["drop_databases"] == []
    assert checks(plan)[0][0] == "pg_restore.unmarked_database"
    assert "not touched" in plan["findings"][0]["summary"]


@pytest.mark.parametrize(
    "name",
    [
        "appdb_restore_20260127_10150",
        "appdb_restore_20260127_1015000",
        "appdb_restore_latest",
        "appdb2_restore_" + STAMP,
        "xappdb_restore_" + STAMP,
        "appdb_restored_" + STAMP,
        "appdb_restore_" + STAMP + "_copy",
        "app_restore_" + STAMP,
    ],
)
def test_other_names_are_not_leftovers_of_this_database(name):
    marker = make_marker("restore", DB, STAMP, "restoring")
    found = find_leftovers(DB, ALLOWED, BASE + [{"name": name, "comment": marker}], [])
    assert found["restore_databases"] == [] and found["unmarked_databases"] == []


def test_leftovers_of_another_database_are_not_this_ones():
    found = find_leftovers(DB, ALLOWED, BASE + [restore_db("blocking", database="appdb_x")], [])
    assert found["restore_databases"] == [] and found["unmarked_databases"] == []


def test_database_names_with_regex_characters():
    name = "app.db+(1)"
    item = restore_db("restoring", database=name)
    assert find_leftovers(name, ALLOWED, [item], [])["restore_databases"][0]["name"] == item["name"]
    # "." is no wildcard
    assert find_leftovers("app_db+(1)", ALLOWED, [item], [])["restore_databases"] == []


def test_partial_safety_dump_files():
    files = [
        ".pre_restore_appdb_20260127_101500.sql.gz.k2j4_x.partial",  # the dump, killed midway
        ".pre_restore_appdb_20260127_101500.sql.gz.sha256.ab_12.partial",  # its sidecar's temporary file
        "pre_restore_appdb_20260127_111500.sql.gz.sha256",  # a sidecar whose dump was never linked
        "pre_restore_appdb_20260127_121500.sql.gz",
        "pre_restore_appdb_20260127_121500.sql.gz.sha256",  # a finished one
        "pre_restore_appdb_20260127_131500.sql.gz",  # a finished dump whose sidecar went: a user's business
        ".pre_restore_appdb2_20260127_101500.sql.gz.k2j4_x.partial",  # another database's
        ".pre_restore_appdb_20260127_101500.sql.gz.k2j4_x.partial.bak",  # not the temporary name
        ".backup_20260127_020000.sql.gz.k2j4_x.partial",  # pg_backup's (its own module's business)
        "backup_20260127_020000.sql.gz",
    ]
    found = find_leftovers(DB, ALLOWED, BASE, files)
    assert found["partial_files"] == [
        ".pre_restore_appdb_20260127_101500.sql.gz.k2j4_x.partial",
        ".pre_restore_appdb_20260127_101500.sql.gz.sha256.ab_12.partial",
        "pre_restore_appdb_20260127_111500.sql.gz.sha256",
    ]
    plan = plan_recovery(DB, found, directory="/b")
    assert plan["remove_files"] == []
    assert checks(plan) == [("pg_restore.partial_file", name, "warning") for name in found["partial_files"]]
    assert "it is no backup" in plan["findings"][0]["summary"]
    assert plan_recovery(DB, found, clean=True, directory="/b")["remove_files"] == found["partial_files"]


def test_partial_files_of_a_database_name_with_a_slash():
    found = find_leftovers("a/b", ALLOWED, [], [".pre_restore_a_b_20260127_101500.sql.gz.k2j4_x.partial"])
    assert found["partial_files"] == [".pre_restore_a_b_20260127_101500.sql.gz.k2j4_x.partial"]


def test_files_not_looked_for_is_said():
    found = find_leftovers(DB, ALLOWED, BASE, None)
    assert found["files_checked"] is False
    assert checks(plan_recovery(DB, found)) == [("pg_restore.partial_file", DB, "info")]


def test_live_database_missing():
    found = find_leftovers(DB, None, [restore_db("blocking")], [])
    assert found["live_disallowed"] is False and found["reallow"] is False


def test_everything_at_once_in_order():
    databases = BASE + [
        restore_db("blocking", "20260127_111500"),
        restore_db("restoring"),
        previous_db("20260120_093000"),
        {"name": "appdb_restore_20260101_000000", "comment": None},
    ]
    found = find_leftovers(DB, BLOCKED, databases, [".pre_restore_appdb_20260127_101500.sql.gz.x.partial"])
    plan = plan_recovery(DB, found, clean=True, drop_previous=True, directory="/b")
    assert plan["reallow"] is True
    assert plan["drop_databases"] == [
        "appdb_restore_20260127_101500",
        "appdb_restore_20260127_111500",
        "appdb_before_20260120_093000",
    ]
    assert plan["remove_files"] == [".pre_restore_appdb_20260127_101500.sql.gz.x.partial"]
    assert [c[0] for c in checks(plan)] == [
        "pg_restore.connections",
        "pg_restore.leftover_database",
        "pg_restore.leftover_database",
        "pg_restore.previous_database",
        "pg_restore.unmarked_database",
        "pg_restore.partial_file",
    ]


def test_unmarked_restore_database_beside_its_runs_safety_dump_is_ours():
    # Killed during CREATE DATABASE: the server finished it, the marker was never written.
    item = {"name": "appdb_restore_" + STAMP, "comment": None}
    files = ["pre_restore_appdb_%s.sql.gz" % STAMP, "pre_restore_appdb_%s.sql.gz.sha256" % STAMP]
    found = find_leftovers(DB, ALLOWED, BASE + [item], files)
    assert found["restore_databases"] == [{"name": item["name"], "stamp": STAMP, "step": "created", "complete": False}]
    assert found["unmarked_databases"] == []
    plan = plan_recovery(DB, found, clean=True)
    assert plan["drop_databases"] == [item["name"]]
    assert "before restoring into it" in plan["findings"][0]["summary"]
    # without the safety dump of the same stamp, or with a comment of someone else, it is not ours
    for databases, names in (
        ([item], ["pre_restore_appdb_20260127_101501.sql.gz"]),
        ([item], None),
        ([{"name": item["name"], "comment": "by hand"}], files),
    ):
        found = find_leftovers(DB, ALLOWED, BASE + databases, names)
        assert found["restore_databases"] == [] and len(found["unmarked_databases"]) == 1
    # a previous database is never taken for ours that way
    found = find_leftovers(DB, ALLOWED, BASE + [{"name": "appdb_before_" + STAMP, "comment": None}], files)
    assert found["previous_databases"] == [] and found["unmarked_databases"] == [
        {"name": "appdb_before_" + STAMP, "kind": "previous"}
    ]


# --- moved from tests/unit/plugins/modules/test_pg_restore.py with the functions -----------


def test_plan_names():
    assert plan_names("financial_stronghold", "20260127_101500") == (
        "financial_stronghold_restore_20260127_101500",
        "financial_stronghold_before_20260127_101500",
    )


def test_plan_names_refuses_names_postgres_would_truncate():
    restored, before = plan_names("x" * 39, "20260127_101500")
    assert len(restored) == 63
    with pytest.raises(ValueError) as caught:
        plan_names("x" * 40, "20260127_101500")
    assert "at most 39 bytes" in str(caught.value)
    # bytes, not characters
    with pytest.raises(ValueError):
        plan_names("é" * 20, "20260127_101500")


def test_safety_dump_name_matches_no_backup_pattern():
    name = safety_dump_name("app", "20260127_101500")
    assert name == "pre_restore_app_20260127_101500.sql.gz"
    assert not name.startswith("backup_")


def test_plan_steps_order():
    steps = plan_steps(
        "app", "/b/backup.sql.gz", "app_restore_s", "app_before_s", "/b/pre.sql.gz", "terminate", True, False
    )
    assert steps[0] == "verify /b/backup.sql.gz"
    assert steps[1] == "block new connections and terminate sessions connected to app"
    assert steps[2].startswith("safety dump of app")
    assert steps.index("restore /b/backup.sql.gz into app_restore_s (ON_ERROR_STOP, single transaction)") < steps.index(
        "in one transaction: rename app to app_before_s, rename app_restore_s to app"
    )
    assert steps[-1] == "drop app_before_s"
    assert not [s for s in steps if s.startswith("ANALYZE")]


# --- a run: options, plan, choice, messages and report --------------------------------------


def restore_params(**changes):
    """pg_restore's parameters as AnsibleModule hands them over (defaults applied)."""
    values = {name: spec.get("default") for name, spec in postgres_argument_spec().items()}
    values.update(
        {
            "database": DB,
            "state": "restored",
            "backup": None,
            "directory": None,
            "pattern": None,
            "timezone": "UTC",
            "sessions": "refuse",
            "drop_previous": False,
            "safety_dump_directory": None,
            "maintenance_db": "postgres",
            "analyze": True,
            "timeout": None,
            "pg_bin_dir": None,
        }
    )
    values.update(changes)
    return values


def test_read_options_settles_database_pattern_and_timeout(tmp_path):
    options = read_options(restore_params(database=None, login_db="fromlogin", directory=str(tmp_path), timeout="2h"))
    assert options["database"] == "fromlogin"
    # the runbook's name, the default of pg_backup's plain dumps
    assert options["pattern"] == "backup_%Y%m%d_%H%M%S.sql.gz"
    assert options["timeout"] == 7200.0
    assert read_options(restore_params(backup="/b/x.sql.gz", timeout=60))["timeout"] == 60.0


def test_read_options_lists_every_problem(tmp_path):
    with pytest.raises(RestoreError) as caught:
        read_options(
            restore_params(
                database="postgres",
                directory=str(tmp_path / "nope"),
                pattern="b_%Y.sql.gz",
                timezone="Mars/Olympus",
                timeout="31d",
                safety_dump_directory=str(tmp_path / "gone"),
            )
        )
    problems = caught.value.values["problems"]
    assert [p.split(" ")[0] for p in problems] == [
        "database",
        "directory",
        "the",
        "unknown",
        "timeout",
        "safety_dump_directory",
    ]
    assert "timeout must be between 1 second and 2592000 (30 days), got 2678400" in problems
    assert caught.value.msg == "; ".join(problems)


def test_safety_directory_order(tmp_path):
    assert safety_directory(restore_params(safety_dump_directory="/s", directory="/d")) == "/s"
    assert safety_directory(restore_params(directory="/d")) == "/d"
    assert safety_directory(restore_params(backup="/b/x.sql.gz")) == "/b"
    assert safety_directory(restore_params(state="cleaned")) is None


def verified(ok, failed=()):
    checks = [{"name": name, "status": "failed", "detail": "bad " + name} for name in failed]
    return {"ok": ok, "checks": checks + [{"name": "read", "status": "ok", "detail": "read"}]}


def test_choose_backup_takes_the_newest_that_verifies():
    results = {"/b/1": verified(True), "/b/2": verified(True), "/b/3": verified(False, ["gzip", "marker"])}
    asked = []

    def verify(path):
        asked.append(path)
        return results[path]

    path, verification, rejected = choose_backup(["/b/1", "/b/2", "/b/3"], verify, "/b", "backup_%Y%m%d.sql.gz")
    assert path == "/b/2"
    assert verification is results["/b/2"]
    assert rejected == [
        {
            "path": "/b/3",
            "failed": [
                {"name": "gzip", "status": "failed", "detail": "bad gzip"},
                {"name": "marker", "status": "failed", "detail": "bad marker"},
            ],
        }
    ]
    # the older one is never read
    assert asked == ["/b/3", "/b/2"]


def test_choose_backup_without_a_good_one():
    with pytest.raises(RestoreError) as caught:
        choose_backup([], verified, "/b", "backup_%Y%m%d.sql.gz")
    assert caught.value.msg == "no backup in /b matches backup_%Y%m%d.sql.gz; nothing was changed"
    with pytest.raises(RestoreError) as caught:
        choose_backup(["/b/1", "/b/2"], lambda path: verified(False, ["sha256"]), "/b", "p")
    assert caught.value.msg == "none of the 2 backups in /b passed verification; nothing was changed"
    assert [r["path"] for r in caught.value.values["rejected_backups"]] == ["/b/2", "/b/1"]


SESSION = {"pid": 4711, "user": "app", "application": None, "client": "local", "state": "idle", "since": None}


def test_session_refusal():
    assert session_refusal(DB, [], "refuse", False) is None
    assert session_refusal(DB, [SESSION], "terminate", False) is None
    assert session_refusal(DB, [SESSION], "refuse", True) == (
        "1 session(s) connected to appdb; a real run would refuse them: pid 4711 (app, no application_name from local, idle)"
    )
    refusal = session_refusal(DB, [SESSION], "refuse", False)
    assert refusal.startswith("1 session(s) connected to appdb; stop the application first or set sessions=terminate")
    assert "nothing was changed" in refusal


def test_recovery_steps():
    plan = {"reallow": True, "drop_databases": ["appdb_restore_1"], "remove_files": [".x.partial"]}
    assert recovery_steps(DB, plan, "/s") == [
        "allow connections to appdb again (blocked by a killed run)",
        "drop database appdb_restore_1",
        "remove /s/.x.partial",
    ]
    assert recovery_steps(DB, {"reallow": False, "drop_databases": [], "remove_files": []}, None) == []


def test_messages_of_a_failed_step():
    assert cleanup_text("r", DB, False, False, None) == ""
    assert cleanup_text("r", DB, True, False, None) == "; r was dropped"
    assert cleanup_text("r", DB, True, False, "gone away") == "; dropping r failed too (gone away), drop it by hand"
    assert "r stays: it records that connections to appdb are blocked" in cleanup_text("r", DB, True, True, None)
    assert step_failure("restore", "psql exited with status 3", DB, "; r was dropped", "/s/pre.sql.gz") == (
        "restore step failed: psql exited with status 3; appdb is unchanged; r was dropped; the safety dump is /s/pre.sql.gz"
    )


def test_failure_message_says_when_leftovers_were_dealt_with():
    result = new_result(restore_params())
    assert failure_message("x; nothing was changed", result) == "x; nothing was changed"
    result["dropped_databases"] = ["appdb_restore_1"]
    assert failure_message("x; nothing was changed", result) == (
        "x; nothing else was changed (only the leftovers of a killed run were dealt with, see findings)"
    )


def done(**changes):
    result = new_result(restore_params())
    result.update(
        backup="/b/backup_20260127_020000.sql.gz",
        restored_database="appdb_restore_20260127_101500",
        previous_database="appdb_before_20260127_101500",
        safety_dump={
            "path": "/b/pre_restore_appdb_20260127_101500.sql.gz",
            "size": 10,
            "sha256": "ab",
            "duration": 1.0,
        },
        durations={"total": 3.0},
    )
    result.update(changes)
    return result


def test_outcome_finding_of_a_rollback():
    finding = outcome_finding(done(), False, "appdb_before_20260127_101500")
    assert (finding["check"], finding["target"], finding["severity"]) == ("backup.restore", DB, "ok")
    assert finding["summary"] == (
        "restored appdb from /b/backup_20260127_020000.sql.gz; the previous database is kept as "
        "appdb_before_20260127_101500; safety dump /b/pre_restore_appdb_20260127_101500.sql.gz"
    )
    assert finding["details"]["backup"] == "/b/backup_20260127_020000.sql.gz"
    assert finding["details"]["previous_database"] == "appdb_before_20260127_101500"
    assert finding["details"]["safety_dump"]["sha256"] == "ab"
    assert finding["details"]["durations"] == {"total": 3.0}


def test_outcome_finding_when_the_previous_database_was_dropped_or_not():
    dropped = outcome_finding(done(previous_dropped=True, previous_database=None), False, "appdb_before_s")
    assert "the previous database appdb_before_s was dropped" in dropped["summary"]
    assert dropped["severity"] == "ok"
    kept = outcome_finding(done(), False, "appdb_before_s", "permission denied")
    assert kept["severity"] == "warning"
    assert (
        "dropping the previous database appdb_before_s failed (permission denied), drop it by hand" in kept["summary"]
    )


def test_outcome_finding_warns_about_settings_not_carried_over():
    finding = outcome_finding(done(warnings_detail=["setting work_mem=7MB not carried over: x"]), False, "b")
    assert finding["severity"] == "warning"
    assert finding["summary"].endswith("; not carried over: setting work_mem=7MB not carried over: x")


def test_outcome_finding_in_check_mode():
    finding = outcome_finding(done(previous_database=None, safety_dump={"path": "/b/pre.sql.gz"}), True)
    assert finding["summary"] == "would restore appdb from /b/backup_20260127_020000.sql.gz"
    assert finding["severity"] == "ok"


def test_failed_result_keeps_the_findings_so_far_and_adds_a_critical_one():
    leftover = make_finding_of_leftovers()
    error = RestoreError("restore step failed: x; appdb is unchanged", findings=[leftover], changed=True)
    result = failed_result(restore_params(), error)
    assert result["changed"] is True
    assert result["worst_severity"] == "critical"
    assert result["findings"][0] == leftover
    assert result["findings"][1]["check"] == "backup.restore"
    assert result["findings"][1]["summary"] == (
        "database rollback of appdb failed and changed nothing, the live database is as it was: "
        "restore step failed: x; appdb is unchanged"
    )
    cleaned = failed_result(restore_params(state="cleaned"), RestoreError("cannot connect"))
    assert [(f["check"], f["severity"]) for f in cleaned["findings"]] == [("pg_restore.leftovers", "critical")]
    assert (
        cleaned["findings"][0]["summary"]
        == "cleanup of the leftovers of killed pg_restore runs of appdb failed: cannot connect"
    )
    # a missing database still names what failed
    assert (
        failed_result(restore_params(database=None), RestoreError("database is required"))["findings"][0]["target"]
        == "pg_restore"
    )


def make_finding_of_leftovers():
    return plan_recovery(DB, find_leftovers(DB, ALLOWED, BASE, []))["findings"][0]
