# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the leftovers of a killed pg_restore run mean, on plain data (the kills themselves run
against a real PostgreSQL in tests/integration/targets/pg_restore)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._restore import (
    find_leftovers,
    make_marker,
    parse_marker,
    plan_recovery,
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
