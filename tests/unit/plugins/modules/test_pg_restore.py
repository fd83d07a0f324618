# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore's names, plan and input checks (the rollback itself runs against a real
PostgreSQL in tests/integration/targets/pg_restore)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._restore import plan_names, safety_dump_name
from ansible_collections.stronghold.ops.plugins.modules import pg_restore
from ansible_collections.stronghold.ops.plugins.modules.pg_restore import plan_steps


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


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "state is restored but any of the following are missing: backup, directory"),
        (
            {"state": "cleaned", "backup": "/x.sql.gz", "directory": "/tmp"},
            "parameters are mutually exclusive: backup|directory",
        ),
        ({"state": "cleaned", "directory": "/no/such/dir"}, "directory /no/such/dir does not exist"),
        ({"state": "cleaned", "database": "postgres"}, "database and maintenance_db are both postgres"),
        ({"state": "clean"}, "value of state must be one of: restored, cleaned"),
        ({"backup": "/x.sql.gz", "directory": "/tmp"}, "parameters are mutually exclusive: backup|directory"),
        ({"directory": "/no/such/dir"}, "directory /no/such/dir does not exist"),
        ({"directory": "/tmp", "pattern": "b_%Y.sql.gz"}, "it needs at least %Y, %m and %d"),
        ({"directory": "/tmp", "database": "postgres"}, "database and maintenance_db are both postgres"),
        ({"directory": "/tmp", "timeout": -1}, "timeout must be between 1 second and 2592000"),
        ({"directory": "/tmp", "timeout": 10**12}, "timeout must be between 1 second and 2592000"),
        (
            {"directory": "/tmp", "safety_dump_directory": "/no/such/dir"},
            "safety_dump_directory /no/such/dir does not exist",
        ),
        ({"directory": "/tmp", "sessions": "ignore"}, "value of sessions must be one of: refuse, terminate"),
    ],
)
def test_bad_input(run_module, args, message):
    module_args = {"database": "app", "login_port": 55999}
    module_args.update(args)
    outcome = run_module(pg_restore.main, module_args)
    assert outcome.failed
    assert message in outcome.result["msg"]
