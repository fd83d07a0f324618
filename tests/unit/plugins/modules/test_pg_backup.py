# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup's input checks through its main() (the retention plan and the findings are in
module_utils/test_pgbackup.py; the dump itself runs against a real PostgreSQL in
tests/integration/targets/pg_backup)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.stronghold.ops.plugins.modules import pg_backup

BASE = {"login_port": 55999, "database": "app"}


@pytest.mark.parametrize(
    "args, message",
    [
        ({"directory": "/no/such/dir"}, "directory /no/such/dir does not exist or is not a directory"),
        ({"keep": 0}, "keep must be at least 1"),
        ({"pattern": "backup_%Q.sql.gz"}, "unknown directive %Q"),
        ({"pattern": "backup.sql.gz"}, "it needs at least %Y, %m and %d"),
        ({"pattern": "backup_%Y%m%d.sha256"}, "ends with .sha256"),
        ({"compression_level": 10}, "compression_level must be between 0 and 9"),
        ({"timeout": 0}, "timeout must be between 1 second and 2592000"),
        ({"timeout": 10**12}, "timeout must be between 1 second and 2592000"),
        ({"timezone": "Nowhere/Special"}, "unknown time zone"),
        ({"dump_options": ["-f", "/tmp/x"]}, "dump_options may not contain -f"),
        ({"database": None}, "database (or login_db) is required"),
        ({"login_port": 0}, "login_port must be between 1 and 65535"),
    ],
)
def test_bad_input_fails_before_anything(run_module, tmp_path, args, message):
    module_args = dict(BASE, directory=str(tmp_path))
    module_args.update(args)
    module_args = dict((k, v) for k, v in module_args.items() if v is not None)
    outcome = run_module(pg_backup.main, module_args)
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert os.listdir(tmp_path) == []


def test_all_problems_reported_together(run_module, tmp_path):
    outcome = run_module(pg_backup.main, dict(BASE, directory=str(tmp_path), keep=0, compression_level=-1))
    assert outcome.failed
    assert len(outcome.result["problems"]) == 2


def test_a_failure_returns_a_critical_finding(run_module, tmp_path):
    outcome = run_module(pg_backup.main, dict(BASE, directory=str(tmp_path), timeout="31d"))
    assert outcome.failed
    assert outcome.result["worst_severity"] == "critical"
    assert [(f["check"], f["target"], f["severity"]) for f in outcome.result["findings"]] == [
        ("backup.take", "app", "critical")
    ]
    assert outcome.result["findings"][0]["summary"].startswith(
        "backup of app failed, no backup was written: timeout must"
    )


def test_an_unreachable_server_fails_with_a_finding_and_writes_nothing(run_module, tmp_path):
    outcome = run_module(pg_backup.main, dict(BASE, directory=str(tmp_path), login_host="127.0.0.1", timeout="5m"))
    assert outcome.failed
    assert "cannot connect to database app" in outcome.result["msg"]
    assert "nothing was written" in outcome.result["msg"]
    assert outcome.result["findings"][0]["severity"] == "critical"
    assert os.listdir(tmp_path) == []
