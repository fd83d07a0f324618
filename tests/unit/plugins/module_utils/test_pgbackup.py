# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup's decisions on plain data: the retention plan, the refused pg_dump options, the
options read and the findings of a run."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._pgbackup import (
    BackupError,
    failed_result,
    read_options,
    refused_dump_option,
    retention_plan,
    take_findings,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import postgres_argument_spec


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


def params(directory, **changes):
    """pg_backup's parameters as AnsibleModule hands them over (defaults applied)."""
    values = {name: spec.get("default") for name, spec in postgres_argument_spec().items()}
    values.update(
        {
            "database": "app",
            "directory": str(directory),
            "format": "plain",
            "pattern": None,
            "timezone": "UTC",
            "keep": None,
            "compression_level": 6,
            "dump_options": [],
            "pg_bin_dir": None,
            "timeout": None,
        }
    )
    values.update(changes)
    return values


def test_read_options_settles_the_defaults(tmp_path):
    options = read_options(params(tmp_path, database=None, login_db="fromlogin", format="custom"))
    assert options["database"] == "fromlogin"
    assert options["pattern"].pattern == "backup_%Y%m%d_%H%M%S.dump"
    assert options["timeout"] is None
    assert read_options(params(tmp_path))["pattern"].pattern == "backup_%Y%m%d_%H%M%S.sql.gz"


@pytest.mark.parametrize(
    "timeout, seconds", [(90, 90.0), ("90", 90.0), ("30m", 1800.0), ("1h30m", 5400.0), ("30d", 2592000.0)]
)
def test_timeout_is_a_duration(tmp_path, timeout, seconds):
    assert read_options(params(tmp_path, timeout=timeout))["timeout"] == seconds


@pytest.mark.parametrize(
    "timeout, message",
    [
        (0, "timeout must be between 1 second and 2592000 (30 days), got 0"),
        ("0.5s", "timeout must be between 1 second and 2592000 (30 days), got 0.5"),
        ("31d", "timeout must be between 1 second and 2592000 (30 days), got 2678400"),
        (-1, "timeout must be between 1 second and 2592000 (30 days), got -1"),
        (10**12, "timeout must be between 1 second and 2592000 (30 days), got 1000000000000"),
        ("soon", "timeout: cannot read 'soon' as a duration"),
        (True, "timeout: a duration must be a number of seconds"),
    ],
)
def test_bad_timeouts(tmp_path, timeout, message):
    with pytest.raises(BackupError) as caught:
        read_options(params(tmp_path, timeout=timeout))
    problems = caught.value.values["problems"]
    assert len(problems) == 1 and problems[0].startswith(message)


def test_read_options_lists_every_problem(tmp_path):
    with pytest.raises(BackupError) as caught:
        read_options(params(tmp_path, keep=0, compression_level=12, pattern="b_%Y%m%d.sha256", timeout="x"))
    problems = caught.value.values["problems"]
    assert len(problems) == 4
    assert caught.value.msg == "; ".join(problems)


WRITTEN = {
    "path": "/b/backup_20260127_020000.sql.gz",
    "size": 48213377,
    "checksum": "5d41",
    "duration": 12.4,
    "deleted": ["/b/backup_20250127_020000.sql.gz"],
    "kept": ["/b/backup_20260126_020000.sql.gz", "/b/backup_20260127_020000.sql.gz"],
}


def test_take_findings_of_a_backup_written():
    findings = take_findings("app", WRITTEN, False, 2, [])
    assert [(f["check"], f["target"], f["severity"]) for f in findings] == [
        ("backup.take", "app", "ok"),
        ("backup.retention", "/b", "ok"),
    ]
    assert findings[0]["summary"] == "backup of app written: /b/backup_20260127_020000.sql.gz (45.98 MB, sha256 5d41)"
    assert findings[0]["details"] == {
        "path": WRITTEN["path"],
        "size": 48213377,
        "checksum": "5d41",
        "duration": 12.4,
        "deleted": WRITTEN["deleted"],
    }
    assert findings[1]["summary"] == "kept the newest 2 backup(s) of /b, deleted 1 older: backup_20250127_020000.sql.gz"


def test_take_findings_in_check_mode_and_without_keep():
    planned = dict(WRITTEN, size=None, checksum=None, duration=None, deleted=[])
    findings = take_findings("app", planned, True, None, [])
    assert [f["summary"] for f in findings] == ["would write a backup of app to /b/backup_20260127_020000.sql.gz"]
    findings = take_findings("app", planned, True, 5, [])
    assert findings[1]["summary"] == "kept the newest 5 backup(s) of /b, would delete none"


def test_retention_that_did_not_finish_is_a_warning():
    findings = take_findings("app", WRITTEN, False, 1, ["could not delete /b/x: Permission denied"])
    assert findings[0]["severity"] == "ok"
    assert findings[1]["severity"] == "warning"
    assert "retention did not finish: could not delete /b/x: Permission denied" in findings[1]["summary"]


def test_failed_result_is_critical_and_keeps_the_error_values():
    result = failed_result("app", "/b", BackupError("pg_dump was killed by SIGKILL; no backup was written", path=None))
    assert result["path"] is None
    assert result["worst_severity"] == "critical"
    assert result["findings"][0]["check"] == "backup.take"
    assert result["findings"][0]["summary"] == (
        "backup of app failed, no backup was written: pg_dump was killed by SIGKILL; no backup was written"
    )
    # without a database (the option was missing) the finding still names what failed
    assert failed_result(None, "/b", BackupError("database (or login_db) is required"))["findings"][0]["target"] == "/b"
