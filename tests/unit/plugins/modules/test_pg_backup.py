# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup's retention plan and input checks (the dump itself runs against a real PostgreSQL
in tests/integration/targets/pg_backup)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.stronghold.ops.plugins.modules import pg_backup
from ansible_collections.stronghold.ops.plugins.modules.pg_backup import refused_dump_option, retention_plan


def listed(*names):
    return [{"path": "/b/" + name} for name in names]


def test_retention_keeps_the_newest_and_the_new_one():
    backups = listed("b1", "b2", "b3", "b4")
    assert retention_plan(backups, 2, "/b/new") == (["/b/b1", "/b/b2", "/b/b3"], ["/b/b4", "/b/new"])


def test_retention_never_deletes_the_new_one_even_when_newer_names_exist():
    # b9 is newer by name than the backup just written (listed oldest first by name time)
    backups = listed("b1", "new", "b9")
    assert retention_plan(backups, 1, "/b/new") == (["/b/b1", "/b/b9"], ["/b/new"])


def test_retention_without_keep_deletes_nothing():
    assert retention_plan(listed("b1", "b2"), None, "/b/new") == ([], ["/b/b1", "/b/b2", "/b/new"])


def test_retention_with_fewer_backups_than_keep():
    assert retention_plan(listed("b1"), 5, "/b/new") == ([], ["/b/b1", "/b/new"])


@pytest.mark.parametrize(
    "option, refused",
    [
        ("-f", "-f"),
        ("--file=/tmp/x", "--file"),
        ("-Fc", "-F"),
        ("--format=custom", "--format"),
        ("-Z9", "-Z"),
        ("--compress", "--compress"),
        ("--dbname=other", "--dbname"),
        ("--exclude-table-data=audit", None),
        ("--no-owner", None),
        ("-n", None),
        ("--schema=public", None),
    ],
)
def test_refused_dump_options(option, refused):
    assert refused_dump_option(option) == refused


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
