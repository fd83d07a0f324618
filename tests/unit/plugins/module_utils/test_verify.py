# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_verify's decisions (module_utils/_verify.py) fed with plain data: no file, no server."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._verify import (
    Outcome,
    Settings,
    Survey,
    VerifyError,
    check_backup,
    collection_checks,
    compare_value,
    failure_message,
    history,
    human_duration,
    judge_queries,
    judge_restore,
    scratch_name,
    select,
    target_label,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 27, 13, 0, 0, tzinfo=UTC)
NOW_TS = NOW.timestamp()
DIRECTORY = "/var/backups"


def params(**changes):
    """The module's parameters as AnsibleModule hands them over (defaults applied)."""
    values = {
        "directory": DIRECTORY,
        "files": None,
        "pattern": None,
        "timezone": "UTC",
        "settle": "2m",
        "which": "latest",
        "count": 1,
        "max_age": None,
        "min_count": None,
        "expected_interval": None,
        "gap_factor": 1.5,
        "min_size": None,
        "max_shrink": None,
        "shrink_window": 7,
        "level": "stream",
        "format": "auto",
        "sidecar": True,
        "require_sidecar": False,
        "pg_bin_dir": None,
        "timeout": None,
        "scratch_db": None,
        "restore_checks": [],
        "fail_on": "critical",
        "login_port": 5432,
        "connect_timeout": 10,
        "login_db": None,
    }
    values.update(changes)
    return values


def item(hours_ago, size=1000, mtime_ago=3600.0, name=None, **extra):
    """A listing entry (as _backup_files.backup_entry gives it) named ``hours_ago`` hours before NOW."""
    when = None if hours_ago is None else NOW - datetime.timedelta(hours=hours_ago)
    if name is None:
        name = when.strftime("backup_%Y%m%d_%H%M%S.sql.gz")
    entry = {
        "path": "%s/%s" % (DIRECTORY, name),
        "name": name,
        "time": when,
        "size": size,
        "mtime": None if mtime_ago is None else NOW_TS - mtime_ago,
    }
    entry.update(extra)
    return entry


def week(days=7, skip=()):
    return [item(1 + 24 * n) for n in range(days) if n not in skip]


def judged(listed, **changes):
    p = params(**changes)
    settings = Settings(p)
    survey = Survey(listed, NOW, NOW_TS, settings.settle)
    return survey, {c["name"]: c for c in collection_checks(survey, p, settings, DIRECTORY)}


# --- options -------------------------------------------------------------------------------------


def test_settings_parse_durations_as_strings_or_seconds():
    settings = Settings(params(settle=0, max_age="26h", expected_interval=86400, timeout="30m", min_size="1M"))
    assert settings.settle == 0 and settings.max_age == 26 * 3600 and settings.interval == 86400
    assert settings.timeout == 1800 and settings.min_size == 1024 * 1024


def test_settings_list_every_problem_at_once():
    with pytest.raises(VerifyError) as caught:
        Settings(
            params(count=3, max_shrink=150, expected_interval="0", timeout=0, files=[]),
            ["backup directory /nowhere does not exist"],
        )
    message = caught.value.msg
    for part in (
        "count applies only to which=last_n",
        "max_shrink is a percentage between 0 and 100, got 150",
        "expected_interval must be longer than 0",
        "timeout must be longer than 0",
        "backup directory /nowhere does not exist",
        "files is empty",
    ):
        assert part in message
    assert caught.value.result == {}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"max_age": "yesterday"}, "max_age: cannot read 'yesterday' as a duration"),
        ({"settle": -5}, "settle: a duration cannot be negative"),
        ({"timeout": True}, "timeout: a duration must be a number of seconds"),
        ({"min_size": "big"}, "min_size: cannot read"),
        ({"pattern": "backup.sql.gz"}, "has no time fields"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"restore_checks": [{"query": "SELECT 1", "expect": 1}]}, "restore_checks need level=restore"),
        ({"level": "restore", "restore_checks": [{"query": " ", "expect": 1}]}, "restore_checks[0] has an empty query"),
        ({"level": "restore", "scratch_db": "template1"}, "scratch_db template1 is not a scratch database"),
        ({"level": "restore", "scratch_db": " "}, "scratch_db cannot be empty"),
        ({"level": "restore", "login_port": 0}, "login_port must be between 1 and 65535"),
    ],
)
def test_settings_refuse(changes, message):
    with pytest.raises(VerifyError) as caught:
        Settings(params(**changes))
    assert message in caught.value.msg


def test_pattern_defaults_by_format():
    assert Settings(params(format="auto")).pattern.pattern == "backup_%Y%m%d_%H%M%S.sql.gz"
    assert Settings(params(format="plain")).pattern.pattern == "backup_%Y%m%d_%H%M%S.sql.gz"
    assert Settings(params(format="custom", pattern="app_%Y%m%d.sql")).pattern.pattern == "app_%Y%m%d.sql"
    assert Settings(params(format="custom")).pattern.match("backup_20261127_020000.dump") is not None


def test_target_label():
    assert target_label("/b", None) == "/b"
    assert target_label(None, ["/a", "/b"]) == "/a, /b"
    assert target_label(None, ["/a", "/b", "/c", "/d"]) == "4 files"


# --- the survey and the checks over every backup -----------------------------------------------


def test_survey_splits_settling_current_and_future():
    listed = [item(-48), item(25), item(1), item(0, mtime_ago=10.0), item(None, name="backup_odd.sql.gz")]
    survey = Survey(listed, NOW, NOW_TS, settle=120)
    assert [b["name"] for b in survey.settling] == [listed[3]["name"]]
    assert survey.settling[0]["modified_seconds_ago"] == 10.0
    # Undated first, then by time.
    assert [b["name"] for b in survey.backups] == [
        listed[4]["name"],
        listed[1]["name"],
        listed[2]["name"],
        listed[0]["name"],
    ]
    assert [b["name"] for b in survey.future] == [listed[0]["name"]] and survey.future[0]["future"]
    assert survey.newest["name"] == listed[2]["name"] and survey.newest["age_seconds"] == 3600
    # The listing itself is left as it was.
    assert "age_seconds" not in listed[2]


def test_a_little_clock_skew_is_current():
    survey = Survey([item(-0.05)], NOW, NOW_TS)
    assert survey.future == [] and survey.newest["age_seconds"] == -180


def test_healthy_week_passes_every_collection_check():
    dummy, checks = judged(week(), max_age="26h", min_count=7, expected_interval="1d")
    assert {name: c["status"] for name, c in checks.items()} == {"count": "ok", "freshness": "ok", "gaps": "ok"}
    assert checks["count"]["detail"] == "7 backups found, min_count 7"
    assert checks["freshness"]["detail"].endswith("is 1h00m old (max_age 26h)")
    assert checks["gaps"]["detail"] == "no gap longer than 1.5 x 1d over 7 backups"
    assert all(c["target"] == DIRECTORY and c["duration"] == 0.0 for c in checks.values())


def test_stale_and_too_few():
    dummy, checks = judged([item(72), item(96)], max_age=93600, min_count=3)
    assert checks["freshness"]["status"] == "failed"
    assert "is 3d00h old, more than max_age 93600" in checks["freshness"]["detail"]
    assert checks["count"]["status"] == "failed" and checks["count"]["detail"] == "2 backups found, min_count 3"


def test_without_max_age_the_age_is_only_reported():
    dummy, checks = judged(week(2))
    assert checks["freshness"]["status"] == "skipped" and "no max_age given" in checks["freshness"]["detail"]
    assert "gaps" not in checks


def test_no_backup_at_all():
    dummy, checks = judged([])
    assert checks["count"]["status"] == "failed"
    assert checks["count"]["detail"] == "no backup matching backup_%Y%m%d_%H%M%S.sql.gz found"
    assert checks["freshness"]["status"] == "skipped"
    dummy, checks = judged([], max_age="1d")
    assert checks["freshness"]["status"] == "failed"
    assert checks["freshness"]["detail"] == "no backup with a time in its name"


def test_gaps_warn_and_need_two_backups():
    dummy, checks = judged(week(5, skip=(1, 2)), expected_interval="1d")
    assert checks["gaps"]["status"] == "warning"
    assert checks["gaps"]["detail"].startswith("1 gap longer than 1.5 x 1d: 3d00h between ")
    dummy, checks = judged(week(1), expected_interval="1d")
    assert checks["gaps"]["status"] == "skipped"


def test_future_backups_are_their_own_warning_and_never_the_newest():
    survey, checks = judged(week(3) + [item(-24)], max_age="26h", min_count=4)
    future = [c for c in collection_checks(survey, params(), Settings(params()), DIRECTORY) if c["name"] == "future"]
    assert len(future) == 1 and future[0]["status"] == "warning" and future[0]["target"] == survey.future[0]["name"]
    assert "1d00h ahead of this host's clock (timezone UTC)" in future[0]["detail"]
    assert checks["count"]["detail"] == "3 backups found, min_count 4 (1 dated in the future not counted)"
    assert checks["freshness"]["status"] == "ok"


def test_every_backup_in_the_future_is_no_backup():
    dummy, checks = judged([item(-24), item(-48)])
    assert checks["freshness"]["status"] == "failed"
    assert "every dated backup (2) is dated in the future" in checks["freshness"]["detail"]
    assert checks["count"]["status"] == "failed"


def test_settling_files_are_reported_as_skipped():
    survey = Survey([item(0, mtime_ago=5.0)], NOW, NOW_TS, settle=120)
    checks = collection_checks(survey, params(), Settings(params()), DIRECTORY)
    assert checks[0]["name"] == "settle" and checks[0]["status"] == "skipped"
    assert checks[0]["detail"] == "modified 5.0s ago, less than settle 2m: still being written, not checked"


# --- choosing and checking backups ----------------------------------------------------------------


def test_select():
    survey = Survey(week(5) + [item(-48)], NOW, NOW_TS)
    newest = survey.newest
    assert select(survey.backups, "latest") == [newest]
    assert [b["name"] for b in select(survey.backups, "last_n", 2)] == [b["name"] for b in survey.current[-2:]]
    assert len(select(survey.backups, "all")) == 6
    assert select([], "latest") == []


def test_history_is_the_window_of_earlier_current_backups():
    survey = Survey([item(1 + 24 * n, size=100 + n) for n in range(5)] + [item(-48, size=10**9)], NOW, NOW_TS)
    assert history(survey.newest, survey.current, 3) == [103, 102, 101]
    assert history(survey.future[0], survey.current, 10) == [104, 103, 102, 101, 100]
    assert history(item(None, name="x.sql.gz"), survey.current, 3) == []


def stream(*checks, **fields):
    result = {"checks": [{"name": n, "status": s, "detail": d, "duration": 0.1} for n, s, d in checks]}
    result.update(fields)
    return result


def test_check_backup_of_a_healthy_file():
    backup = dict(item(1), age_seconds=3600.0)
    verified = stream(
        ("read", "ok", "1000 bytes read"),
        ("gzip", "ok", "1 gzip member"),
        ("marker", "ok", "completion marker"),
        format="plain",
        compressed=True,
        marker_found=True,
        sha256="ab" * 32,
        inflate_backend="zlib",
        toc_entries=None,
    )
    p = params(max_shrink=20.0, min_size="1K")
    entry, checks = check_backup(backup, p, Settings(p), [1000, 1000], verified=verified)
    assert entry["marker_found"] and entry["sha256"] == "ab" * 32 and entry["shrink_pct"] == 0
    assert not entry["ok"]  # 1000 bytes are less than min_size 1K
    assert [c["name"] for c in checks] == ["stat", "size", "shrink", "gzip", "marker"]
    assert {c["target"] for c in checks} == {backup["name"]}
    assert "target" not in entry["checks"][0]
    assert checks[1]["status"] == "failed" and checks[1]["detail"] == "1000 bytes, min_size 1K (1024 bytes)"
    assert checks[2]["detail"] == "1000 bytes, 0.0% below the median 1000 of the 2 backups before it (max_shrink 20.0%)"


def test_check_backup_judges_the_name_stat_and_shrink():
    p = params(max_shrink=30)
    settings = Settings(p)
    odd = item(None, name="ledger.sql", size=0)
    entry, checks = check_backup(odd, p, settings)
    assert [(c["name"], c["status"]) for c in checks] == [("name", "failed"), ("stat", "failed"), ("shrink", "skipped")]
    assert checks[1]["detail"] == "the file is empty (0 bytes)" and not entry["ok"]
    fifo = item(1, size=None, error="not a regular file (FIFO)")
    entry, checks = check_backup(fifo, p, settings)
    assert [c["name"] for c in checks] == ["stat"] and checks[0]["detail"] == "not a regular file (FIFO)"
    entry, checks = check_backup(item(1, size=500), p, settings, [1000], open_error="Permission denied")
    assert checks[0]["detail"] == "cannot open: Permission denied"
    assert checks[1]["status"] == "failed" and entry["shrink_pct"] == 50.0 and entry["median_size"] == 1000
    late = item(1, time_error="the time in the name cannot be placed in time zone UTC")
    assert check_backup(late, p, settings)[1][0]["detail"].startswith("the time in the name")


def test_require_sidecar_fails_a_missing_sidecar_unless_sidecars_are_off():
    verified = stream(("sha256", "skipped", "no sidecar x.sha256"))
    for sidecar, status in ((True, "failed"), (False, "skipped")):
        p = params(require_sidecar=True, sidecar=sidecar)
        dummy, checks = check_backup(item(1), p, Settings(p), verified=verified)
        assert checks[-1]["status"] == status


def test_header_level_keeps_only_format_and_compression():
    p = params(level="header")
    verified = stream(("read", "ok", "read"), ("format", "ok", "plain dump"), format="plain", compressed=False)
    entry, checks = check_backup(item(1), p, Settings(p), verified=verified)
    assert entry["format"] == "plain" and entry["compressed"] is False and "inflate_backend" not in entry
    assert [c["name"] for c in checks] == ["stat", "format"]


# --- the restore test ------------------------------------------------------------------------------


def test_judge_restore():
    fields, restored = judge_restore("scratch", {"ok": True, "duration": 4.25, "command": ["psql"]}, 9.0)
    assert fields == {"seconds": 4.25, "command": ["psql"], "stderr_tail": None, "ok": True}
    assert restored["status"] == "ok" and restored["detail"] == "restored into scratch in 4.25s"
    fields, restored = judge_restore("scratch", {"ok": False, "error": "division by zero\n"}, 1.5)
    assert fields["seconds"] == 1.5 and restored["status"] == "failed"
    assert restored["detail"] == "restore into scratch failed: division by zero"


def test_judge_queries():
    items = [
        {"name": "rows", "query": "SELECT count(*)", "expect": 20000},
        {"query": "SELECT 1", "min": 5},
        {"name": "broken", "query": "SELECT x", "min": 0},
    ]
    answers = [
        {"value": 20000, "error": None, "seconds": 0.01},
        {"value": 1, "error": None, "seconds": 0.01},
        {"value": None, "error": 'column "x" does not exist', "seconds": 0.0},
    ]
    queries, checks = judge_queries(items, True, answers)
    assert [q["status"] for q in queries] == ["ok", "failed", "failed"]
    assert [q["value"] for q in queries] == ["20000", "1", None]
    assert [c["name"] for c in checks] == ["query: rows", "query: SELECT 1", "query: broken"]
    assert queries[1]["detail"] == "1 is below min 5" and queries[2]["detail"].startswith("query error: column")
    queries, checks = judge_queries(items, False)
    assert {q["status"] for q in queries} == {"skipped"} and queries[0]["detail"] == "the restore failed"
    queries, checks = judge_queries(items, True, connect_error="cannot connect")
    assert {(c["status"], c["detail"]) for c in checks} == {("failed", "cannot connect")}


def test_scratch_name():
    assert scratch_name(NOW, 42) == "backup_verify_20261127130000_42"


# --- findings, result and failure -----------------------------------------------------------------


def run(listed, **changes):
    """Judge ``listed`` as the module does when every file reads as healthy at level stat."""
    p = params(level="stat", **changes)
    settings = Settings(p)
    survey = Survey(listed, NOW, NOW_TS, settings.settle)
    checks = collection_checks(survey, p, settings, DIRECTORY)
    checked = []
    for backup in select(survey.backups, p["which"], p["count"]):
        entry, entry_checks = check_backup(backup, p, settings, history(backup, survey.current, p["shrink_window"]))
        checked.append(entry)
        checks.extend(entry_checks)
    return Outcome(checks, survey, checked, p["level"], DIRECTORY).result()


def test_result_of_a_healthy_week():
    result = run(week(), max_age="26h", which="last_n", count=6, max_shrink=20.0)
    assert result["status"] == "ok" and result["worst_severity"] == "ok" and result["found"] == 7
    assert [b["name"] for b in result["backups"]][0] == result["latest"]["name"]
    assert result["latest"]["time"] == (NOW - datetime.timedelta(hours=1)).isoformat()
    assert len(result["findings"]) == 1
    summary = result["findings"][0]
    assert summary["check"] == "backup.verify" and summary["target"] == DIRECTORY
    assert summary["summary"] == (
        "7 backups found, 6 checked at level stat: 0 checks failed, 0 warnings; newest %s, 1h00m old"
        % result["latest"]["name"]
    )
    assert failure_message(result, "critical") is None


def test_findings_by_area_and_failure_message():
    result = run(week(5, skip=(1, 2)) + [item(-48)], max_age="30m", expected_interval="1d", min_count=9, max_shrink=50)
    by_check = {}
    for finding in result["findings"][1:]:
        by_check.setdefault(finding["check"], []).append(finding["severity"])
    assert by_check == {
        "backup.freshness": ["warning", "critical"],
        "backup.retention": ["critical", "warning"],
    }
    assert result["status"] == "failed" and result["worst_severity"] == "critical"
    assert result["future"][0]["ahead_seconds"] == 48 * 3600
    assert result["findings"][0]["summary"].endswith("; 1 dated in the future")
    message = failure_message(result, "critical")
    assert message.startswith("backup verification failed (critical): /var/backups count: ")
    assert "more than max_age 30m" in message
    assert failure_message(result, "never") is None


def test_skipped_checks_are_info_findings_that_fail_only_on_info():
    result = run(week(2))
    assert result["worst_severity"] == "info" and result["status"] == "ok"
    assert failure_message(result, "warning") is None
    assert failure_message(result, "info").startswith("backup verification ok (info): /var/backups freshness:")


def test_restore_in_the_summary_finding():
    survey = Survey(week(1), NOW, NOW_TS)
    restore = {"ok": True, "seconds": 41.2, "queries": [{"name": "rows", "value": "5", "status": "ok", "detail": ""}]}
    findings = Outcome([], survey, [], "restore", DIRECTORY, restore).findings()
    assert findings[0]["summary"].endswith("; restored in 41.2 s, 1 of 1 sanity queries passed")
    assert findings[0]["details"]["restore_queries"] == [{"name": "rows", "value": "5", "status": "ok"}]
    check = {"target": "x", "name": "query: rows", "status": "failed", "detail": "no", "duration": 0.0}
    assert Outcome([check], survey, [], "restore", DIRECTORY).findings()[1]["check"] == "backup.restore"


# --- moved from tests/unit/plugins/modules/test_backup_verify.py with the functions ------------------


def test_compare_value():
    assert compare_value(20000, expect=20000)[0] == "ok"
    assert compare_value("20000", expect="20000.0")[0] == "ok"
    assert compare_value("0042_x", expect="0042_x")[0] == "ok"
    assert compare_value(None, expect=0)[0] == "failed"
    assert compare_value(5, minimum=1, maximum=10) == ("ok", "5 >= 1 and <= 10")
    assert compare_value(5, minimum=6)[1] == "5 is below min 6"
    assert compare_value("abc", maximum=1)[0] == "failed"
    assert compare_value(True, expect=True)[0] == "ok"


def test_human_duration():
    assert human_duration(3 * 86400) == "3d00h"
    assert human_duration(3725) == "1h02m"
    assert human_duration(59) == "59s"


# --- how many files are read at the same time ---------------------------------------------------


@pytest.mark.parametrize(
    "text, cpus",
    [
        (None, None),
        ("", None),
        ("max 100000\n", None),
        ("150000 100000\n", 1.5),
        ("200000 100000", 2.0),
        ("50000", 0.5),
        ("0 100000", None),
        ("abc 100000", None),
        ("100000 0", None),
    ],
)
def test_cpu_quota(text, cpus):
    from ansible_collections.stronghold.ops.plugins.module_utils._verify import cpu_quota

    assert cpu_quota(text) == cpus


@pytest.mark.parametrize(
    "requested, files, cpus, quota, expected",
    [
        (None, 7, 2, None, 2),  # one per CPU
        (None, 1, 8, None, 1),  # never more than the files
        (None, 0, 8, None, 1),  # nothing to read: still a valid number
        (None, 7, 8, 1.5, 2),  # the cgroup quota, rounded up
        (None, 7, 8, 0.2, 1),
        (None, 7, None, None, 1),  # cpu_count() unknown
        (None, 500, 256, None, 64),  # at most MAX_WORKERS
        (1, 7, 8, None, 1),  # serial on request
        (6, 7, 2, None, 6),  # the option wins over the CPUs
        (64, 3, 2, None, 3),  # but never more than the files
    ],
)
def test_choose_workers(requested, files, cpus, quota, expected):
    from ansible_collections.stronghold.ops.plugins.module_utils._verify import choose_workers

    assert choose_workers(requested, files, cpus, quota) == expected


@pytest.mark.parametrize(
    "value, problem",
    [
        (None, None),
        (1, None),
        (64, None),
        (0, "workers must be from 1 to 64"),
        (-1, "workers must be from 1 to 64"),
        (65, "workers must be from 1 to 64"),
        (True, "workers must be a whole number"),
        ("3", "workers must be a whole number"),
    ],
)
def test_workers_problems(value, problem):
    from ansible_collections.stronghold.ops.plugins.module_utils._verify import workers_problems

    problems = workers_problems(value)
    assert (problems == []) if problem is None else (len(problems) == 1 and problem in problems[0])


@pytest.mark.parametrize("level, keys", [(2, 8), (1, 2), (0, 2)])
def test_read_error_fails_the_read_check_only(level, keys):
    from ansible_collections.stronghold.ops.plugins.module_utils._verify import read_error

    verified = read_error("OSError: gone", level)
    assert verified["ok"] is False
    assert [(c["name"], c["status"], c["detail"]) for c in verified["checks"]] == [
        ("read", "failed", "verification error: OSError: gone")
    ]
    assert len(verified) - 2 == keys and all(verified[k] is None for k in verified if k not in ("ok", "checks"))
