# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore's input checks through its main() (names, plan and report are unit tested in
module_utils/test_restore.py; the rollback itself runs against a real PostgreSQL in
tests/integration/targets/pg_restore)."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.modules import pg_restore


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
            {"directory": "/tmp", "timeout": "31d"},
            "timeout must be between 1 second and 2592000 (30 days), got 2678400",
        ),
        ({"directory": "/tmp", "timeout": "soon"}, "timeout: cannot read 'soon' as a duration"),
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


def test_a_failure_returns_a_critical_finding(run_module):
    outcome = run_module(
        pg_restore.main, {"database": "app", "login_port": 55999, "directory": "/tmp", "timeout": "0s"}
    )
    assert outcome.failed
    assert outcome.result["worst_severity"] == "critical"
    assert [(f["check"], f["target"], f["severity"]) for f in outcome.result["findings"]] == [
        ("backup.restore", "app", "critical")
    ]
    assert "the live database is as it was: timeout must be between" in outcome.result["findings"][0]["summary"]


def test_an_unreachable_server_fails_with_a_finding(run_module):
    args = {"database": "app", "login_host": "127.0.0.1", "login_port": 55999, "directory": "/tmp", "timeout": "2h"}
    outcome = run_module(pg_restore.main, args)
    assert outcome.failed
    assert "cannot connect" in outcome.result["msg"] and "nothing was changed" in outcome.result["msg"]
    assert outcome.result["changed"] is False
    assert outcome.result["findings"][-1]["check"] == "backup.restore"
    assert outcome.result["findings"][-1]["severity"] == "critical"
