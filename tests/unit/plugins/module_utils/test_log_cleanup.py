# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError, validate_finding
from ansible_collections.stronghold.ops.plugins.module_utils._log_cleanup import cleanup_findings, deletable, is_live

LIVE = [r"\.log$"]
MIB = 1048576


def files(*names):
    return [{"path": "/logs/" + name, "size": MIB} for name in names]


def test_a_name_a_live_pattern_matches_is_never_deletable():
    found = files("django.log.8.gz", "django.log", "access.log.1.log", "security.log.2026-11-20")
    assert deletable(found, LIVE) == ["/logs/django.log.8.gz", "/logs/security.log.2026-11-20"]
    assert is_live("/a/b/x.log", LIVE) and not is_live("/a/x.log/y.1", LIVE)


def test_a_bad_live_pattern_is_a_clear_error():
    with pytest.raises(FindingError, match="bad live-log pattern"):
        is_live("x", ["("])


def test_deleted_files_are_one_info_finding_with_their_size():
    found = cleanup_findings("/logs", False, "7d", files("a.log.3.gz", "b.log.9", "c.log"), LIVE, results=[])
    assert [(f["severity"], f["summary"]) for f in found] == [
        ("info", "deleted 2 rotated log(s) older than 7d (2.0 MiB)")
    ]
    assert found[0]["details"]["skipped_live"] == ["/logs/c.log"]
    validate_finding(found[0])


def test_check_mode_says_would():
    found = cleanup_findings("/logs", True, "7d", files("a.log.3.gz"), LIVE)
    assert found[0]["summary"] == "would delete 1 rotated log(s) older than 7d (1.0 MiB)"


def test_nothing_old_enough_is_ok():
    assert cleanup_findings("/logs", False, "7d", [], LIVE)[0]["severity"] == "ok"


def test_a_file_not_deleted_is_critical_and_a_failed_listing_too():
    found = cleanup_findings(
        "/logs",
        False,
        "7d",
        files("a.log.1", "b.log.2"),
        LIVE,
        results=[{"item": "/logs/a.log.1", "failed": True, "msg": "Permission denied"}],
    )
    assert [(f["target"], f["severity"]) for f in found] == [("/logs", "info"), ("/logs/a.log.1", "critical")]
    assert found[0]["details"]["deleted"] == ["/logs/b.log.2"]
    failed = cleanup_findings("/logs", False, "7d", [], LIVE, find_result={"failed": True, "msg": "boom"})
    assert [(f["severity"], f["summary"]) for f in failed] == [("critical", "cannot list the logs: boom")]


def test_unreadable_paths_are_a_warning():
    found = cleanup_findings("/logs", False, "7d", [], LIVE, find_result={"skipped_paths": {"/logs/x": "denied"}})
    assert [f["severity"] for f in found] == ["ok", "warning"]
