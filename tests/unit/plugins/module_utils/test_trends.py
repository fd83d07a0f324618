# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report's trends (module_utils/_trends.py) from kept reports as run_report writes them,
with findings made by the real module_utils of each check (no file, no server)."""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.stronghold.ops.plugins.module_utils import _trends
from ansible_collections.stronghold.ops.plugins.module_utils._cert_check import build_output, endpoint_result
from ansible_collections.stronghold.ops.plugins.module_utils._cert_check import check_options as cert_options
from ansible_collections.stronghold.ops.plugins.module_utils._findings import linear_fit
from ansible_collections.stronghold.ops.plugins.module_utils._logscan import (
    access_result,
    judge_access,
    judge_pattern,
    pattern_result,
)
from ansible_collections.stronghold.ops.plugins.module_utils._logscan import check_options as log_options
from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report
from ansible_collections.stronghold.ops.plugins.module_utils._resources import Judge, next_state
from ansible_collections.stronghold.ops.plugins.module_utils._resources import check_options as resource_options
from ansible_collections.stronghold.ops.plugins.module_utils._tls import judge_chain
from ansible_collections.stronghold.ops.plugins.module_utils._trends import (
    MAX_POINTS,
    MAX_SERIES,
    downsample,
    is_worsening,
    number,
    parse_time,
    series_from_reports,
)
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum_report import Outcome as VacuumOutcome
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum_report import build_findings
from ansible_collections.stronghold.ops.plugins.module_utils._verify import Outcome as VerifyOutcome
from ansible_collections.stronghold.ops.plugins.module_utils._verify import (
    Settings,
    Survey,
    check_backup,
    collection_checks,
    history,
    select,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_cert_decisions import (
    endpoint as cert_endpoint,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_cert_decisions import (
    params as cert_params,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_logscan import (
    WINDOW,
    _Fake,
    _matcher,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_logscan import params as log_params
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_resources import mount
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_resources import (
    params as resource_params,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_vacuum_report import (
    checked as vacuum_checked,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_vacuum_report import (
    database,
    entry,
    observed,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_vacuum_report import (
    params as vacuum_params,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_verify import params as verify_params

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)


def report(findings, when, host="db1", run="daily"):
    """A kept report exactly as run_report writes it (build_report validates every finding),
    through JSON as it is read back from disk."""
    return json.loads(json.dumps(build_report(findings, host, run, "critical", {}, when), default=str))


def one(series, metric, host="db1", target=None):
    found = [s for s in series if s["metric"] == metric and s["host"] == host]
    if target is not None:
        found = [s for s in found if s["target"] == target]
    assert len(found) == 1, [s["key"] for s in series]
    return found[0]


def values(series):
    return [p[1] for p in series["points"]]


# --- every metric, from the real findings ---------------------------------------------------------


def backup_findings(now, sizes):
    """backup_verify's findings at ``now`` over daily backups of ``sizes`` (oldest first, the last one
    taken an hour before ``now``), judged as the module judges them at level stat."""
    listed = []
    for index, size in enumerate(sizes):
        when = now - datetime.timedelta(hours=1 + 24 * (len(sizes) - 1 - index))
        name = when.strftime("backup_%Y%m%d_%H%M%S.sql.gz")
        listed.append({"path": "/var/backups/" + name, "name": name, "time": when, "size": size, "mtime": 0.0})
    p = verify_params(level="stat", max_age="26h", max_shrink=20.0)
    settings = Settings(p)
    survey = Survey(listed, now, now.timestamp(), settings.settle)
    checks = collection_checks(survey, p, settings, "/var/backups")
    checked = []
    for backup in select(survey.backups, p["which"], p["count"]):
        found, more = check_backup(backup, p, settings, history(backup, survey.current, p["shrink_window"]))
        checked.append(found)
        checks.extend(more)
    return VerifyOutcome(checks, survey, checked, p["level"], "/var/backups").result()["findings"]


def test_backup_size_and_age_from_backup_verify():
    sizes = [1000000, 1000000, 990000, 700000, 500000]
    reports = []
    for day in range(4):
        when = NOW - (3 - day) * DAY
        reports.append(report(backup_findings(when, sizes[: day + 2]), when))
    summary = reports[-1]["findings"]
    assert [f for f in summary if f["check"] == "backup.verify"][0]["details"]["newest_size"] == 500000
    series = series_from_reports(reports, NOW)
    size = one(series, "backup_size", target="/var/backups")
    assert size["unit"] == "bytes" and size["worse"] == "down"
    assert values(size) == [1000000, 990000, 700000, 500000]
    assert size["last"] == 500000 and size["worsening"] is True
    assert size["points"][0][0] == "2026-12-02T12:00:00Z" and size["points"][-1][0] == "2026-12-05T12:00:00Z"
    age = one(series, "backup_age")
    assert age["unit"] == "hours" and values(age) == [1, 1, 1, 1] and age["worsening"] is False
    assert size["title"] == "Backup size of /var/backups on db1"


def self_signed(not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app.example.test")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - 90 * DAY)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


def cert_findings(cert, now):
    """cert_check's findings for one endpoint serving ``cert``, judged at ``now`` with the defaults."""
    settings = cert_options(cert_params(endpoints=[cert_endpoint(host="app.example.test")], files=[]))
    result = judge_chain([cert], settings["judge"], now, verify=False, check_order=False)
    result["error"] = None
    judged = endpoint_result(settings["endpoints"][0], result, 1.0)
    return build_output([judged], 1.0, "critical", settings["judge"])["findings"]


def test_days_left_of_a_certificate_fall_without_worsening_until_a_threshold():
    cert = self_signed(NOW + 40 * DAY)
    reports = [report(cert_findings(cert, NOW - d * DAY), NOW - d * DAY, host="web1") for d in (30, 20, 10, 0)]
    details = reports[-1]["findings"][0]["details"]
    assert (details["warning_days"], details["critical_days"]) == (25.0, 7.0)
    days = one(series_from_reports(reports, NOW), "cert_days_left", host="web1", target="app.example.test:443")
    assert values(days) == [70, 60, 50, 40] and days["unit"] == "days" and days["worse"] == "down"
    # Days left always fall a day a day: that alone is no worsening.
    assert days["worsening"] is False
    assert days["thresholds"] == {"warning": 25, "critical": 7}
    # Past the warning threshold for the first time: worsening.
    later = reports + [report(cert_findings(cert, NOW + 20 * DAY), NOW + 20 * DAY, host="web1")]
    days = one(series_from_reports(later, NOW + 20 * DAY), "cert_days_left", host="web1")
    assert days["last"] == 20 and days["worsening"] is True and days["severity"] == "warning"


def test_an_expired_certificate_is_a_negative_number_of_days():
    cert = self_signed(NOW - 3 * DAY)
    reports = [report(cert_findings(cert, NOW - d * DAY), NOW - d * DAY) for d in (6, 4, 0)]
    days = one(series_from_reports(reports, NOW), "cert_days_left")
    assert values(days) == [3, 1, -3]
    assert days["severity"] == "critical" and days["worsening"] is True


def vacuum_findings(before, after):
    tables = [entry("t%d" % i, "ok", n_dead_tup=b, n_dead_tup_after=a) for i, (b, a) in enumerate(zip(before, after))]
    return build_findings(vacuum_params(), vacuum_checked(), observed(database(tables)), VacuumOutcome(jobs=1))


def test_dead_tuples_before_and_after_maintenance():
    found = [f for f in vacuum_findings([5000, 7000], [0, 30]) if f["check"] == "postgres.vacuum"][0]
    assert (found["details"]["n_dead_tup_before"], found["details"]["n_dead_tup_after"]) == (12000, 30)
    # A table that was not vacuumed (no after) keeps its dead tuples, as the totals count them.
    found = [f for f in vacuum_findings([5000, 7000], [0, None]) if f["check"] == "postgres.vacuum"][0]
    assert found["details"]["n_dead_tup_after"] == 7000
    weeks = [([5000, 5000], [0, 0]), ([9000, 8000], [100, 0]), ([20000, 15000], [4000, 2000])]
    reports = [report(vacuum_findings(b, a), NOW - (2 - i) * 7 * DAY, run="weekly") for i, (b, a) in enumerate(weeks)]
    series = series_from_reports(reports, NOW)
    before = one(series, "dead_tuples_before", target="app")
    after = one(series, "dead_tuples_after", target="app")
    assert values(before) == [10000, 17000, 35000] and before["worsening"] is True
    assert values(after) == [0, 100, 6000] and after["worsening"] is True
    assert before["unit"] == "tuples" and before["title"] == "Dead tuples before maintenance of app on db1"


def test_check_mode_vacuum_has_no_dead_tuples_to_draw():
    tables = [entry("t0", "ok", n_dead_tup=5000, n_dead_tup_after=0)]
    findings = build_findings(
        vacuum_params(), vacuum_checked(), observed(database(tables)), VacuumOutcome(check_mode=True)
    )
    assert series_from_reports([report(findings, NOW)], NOW) == []


def test_disk_use_with_the_forecast_of_resource_check():
    settings = resource_options(resource_params())
    state = None
    reports = []
    for day, used in enumerate((60.0, 64.0, 68.0, 72.0)):
        when = NOW - (3 - day) * DAY
        judge = Judge(settings, state, when.timestamp())
        judge.disk(mount(used=used))
        state = next_state(state, judge, [mount(used=used)], None, [], when.timestamp(), 30)
        reports.append(report(judge.findings, when, host="app1"))
    disk = one(series_from_reports(reports, NOW), "disk_used", host="app1", target="/")
    assert values(disk) == [60, 64, 68, 72] and disk["unit"] == "%"
    assert disk["thresholds"] == {"warning": 85, "critical": 95}
    assert disk["worsening"] is True
    # resource_check fitted 4 %/day, full in 7 days: the line goes as far ahead as the history drawn.
    assert reports[-1]["findings"][0]["details"]["forecast"]["percent_per_day"] == 4.0
    assert disk["forecast"] == [["2026-12-05T12:00:00Z", 72], ["2026-12-08T12:00:00Z", 84]]


def test_a_disk_forecast_stops_at_full():
    finding = {
        "check": "resources.disk",
        "target": "/",
        "severity": "warning",
        "summary": "s",
        "details": {"used_percent": 90, "forecast": {"percent_per_day": 5.0, "days_to_full": 2.0}},
    }
    older = dict(finding, details={"used_percent": 60})
    reports = [report([older], NOW - 10 * DAY), report([finding], NOW)]
    disk = one(series_from_reports(reports, NOW), "disk_used")
    assert disk["forecast"] == [["2026-12-05T12:00:00Z", 90], ["2026-12-07T12:00:00Z", 100]]
    # A full disk, or a forecast without a rate, draws no line.
    full = dict(finding, details={"used_percent": 100, "forecast": {"percent_per_day": 5.0, "days_to_full": 0.0}})
    assert one(series_from_reports([report([full], NOW)], NOW), "disk_used")["forecast"] == []
    odd = dict(finding, details={"used_percent": 50, "forecast": {"percent_per_day": "fast"}})
    assert one(series_from_reports([report([odd], NOW)], NOW), "disk_used")["forecast"] == []


def failed_login_findings(per_hour_peak):
    pattern = log_options(log_params(patterns=[{"name": "failed_logins"}]), now=NOW.timestamp())["patterns"][0]
    base = NOW.timestamp() - 7200
    times = {"10.0.0.9": [base + i for i in range(per_hour_peak)]}
    matcher = _matcher(per_hour_peak, times=times, groups={"10.0.0.9": per_hour_peak})
    return [judge_pattern(pattern, pattern_result(pattern, matcher), WINDOW)]


def test_failed_logins_per_hour_against_the_runbook_rate():
    reports = [report(failed_login_findings(n), NOW - (3 - i) * DAY, host="app1") for i, n in enumerate((2, 3, 4, 14))]
    logins = one(series_from_reports(reports, NOW), "log_rate", host="app1", target="failed_logins")
    assert values(logins) == [2, 3, 4, 14] and logins["unit"] == "per hour"
    assert logins["thresholds"] == {"warning": 10} and logins["severity"] == "warning"
    assert logins["worsening"] is True and logins["title"] == "Failed logins on app1"


def test_a_pattern_without_matches_is_zero_and_one_without_a_rate_is_not_drawn():
    zero = failed_login_findings(0)
    assert zero[0]["details"]["worst_window"] is None
    assert values(one(series_from_reports([report(zero, NOW)], NOW), "log_rate")) == [0]
    pattern = log_options(log_params(), now=NOW.timestamp())["patterns"][0]  # errors: a count, no rate
    plain = [judge_pattern(pattern, pattern_result(pattern, _matcher(40)), WINDOW)]
    assert series_from_reports([report(plain, NOW)], NOW) == []


def access_findings(p95):
    times = [10.0] * 94 + [p95] * 6
    access = log_options(log_params(paths=[], patterns=[], access_log={"path": "/var/log/gunicorn/access.log"}))
    return judge_access(access["access"], access_result([_Fake(100, 0, times)]), WINDOW)


def test_p95_response_time_from_the_access_log():
    reports = [report(access_findings(v), NOW - (2 - i) * DAY) for i, v in enumerate((120.0, 150.0, 240.0))]
    p95 = one(series_from_reports(reports, NOW), "p95_response", target="/var/log/gunicorn/access.log")
    assert values(p95) == [120, 150, 240] and p95["unit"] == "ms"
    assert p95["thresholds"] == {"warning": 200} and p95["worsening"] is True


def test_every_metric_of_one_host_is_a_series_of_its_own():
    findings = (
        backup_findings(NOW, [1000, 1000])
        + cert_findings(self_signed(NOW + 40 * DAY), NOW)
        + vacuum_findings([10], [0])
        + failed_login_findings(1)
        + access_findings(100.0)
    )
    settings = resource_options(resource_params())
    judge = Judge(settings, None, NOW.timestamp())
    judge.disk(mount(used=50.0))
    series = series_from_reports([report(findings + judge.findings, NOW)], NOW)
    assert sorted(s["metric"] for s in series) == sorted(_trends.METRICS)
    assert all(s["worsening"] is False and len(s["points"]) == 1 for s in series)


# --- the series' rules ---------------------------------------------------------------------------


def disk(used, severity="ok", target="/", warning=85, critical=95, **details):
    details.update(used_percent=used, warning=warning, critical=critical)
    return {"check": "resources.disk", "target": target, "severity": severity, "summary": "s", "details": details}


def disk_reports(used_values, host="db1", target="/", start=None, step=DAY):
    start = start or NOW - step * (len(used_values) - 1)
    return [report([disk(v, target=target)], start + i * step, host=host) for i, v in enumerate(used_values)]


def test_no_reports_no_series():
    assert series_from_reports([], NOW) == []


@pytest.mark.parametrize("used", [[70], [70, 84], [70, 84, 70, 70, 70]])
def test_fewer_than_three_points_never_worsen_nor_a_flat_line(used):
    series = one(series_from_reports(disk_reports(used), NOW), "disk_used")
    assert series["worsening"] is False and len(series["points"]) == len(used)


def test_a_small_rise_is_not_worsening_a_meaningful_one_is():
    assert one(series_from_reports(disk_reports([50, 50.5, 51]), NOW), "disk_used")["worsening"] is False
    assert one(series_from_reports(disk_reports([50, 52, 54]), NOW), "disk_used")["worsening"] is True
    # Getting better is never worsening.
    assert one(series_from_reports(disk_reports([80, 70, 60]), NOW), "disk_used")["worsening"] is False


def test_the_last_point_past_a_threshold_the_others_were_not_is_worsening():
    # A jump at the end that the slope over many flat points would hide.
    used = [60] * 30 + [86]
    assert one(series_from_reports(disk_reports(used), NOW), "disk_used")["worsening"] is True
    # Already past it before: the threshold says nothing new.
    assert is_worsening([(0, 90.0), (1, 80.0), (2, 90.0)], ["ok"] * 3, {"warning": 85.0}, "disk_used") is False


def test_a_first_warning_severity_is_worsening_even_without_a_threshold_in_the_details():
    assert is_worsening([(0, 5.0), (1, 5.0), (2, 5.0)], ["ok", "ok", "warning"], {}, "cert_days_left") is True
    assert is_worsening([(0, 5.0), (1, 5.0), (2, 5.0)], ["warning", "ok", "warning"], {}, "cert_days_left") is False


def test_identical_timestamps_are_one_point_the_worse_kept():
    same = [report([disk(70)], NOW), report([disk(75, severity="warning")], NOW), report([disk(72)], NOW)]
    series = one(series_from_reports(same, NOW), "disk_used")
    assert series["points"] == [["2026-12-05T12:00:00Z", 75]] and series["severity"] == "warning"
    assert linear_fit([(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]) is None
    assert is_worsening([(1.0, 1.0), (1.0, 2.0), (1.0, 90.0)], ["ok"] * 3, {}, "disk_used") is False


def test_reports_from_the_future_or_without_a_time_are_left_out():
    reports = disk_reports([50, 60])
    ahead = report([disk(99)], NOW + datetime.timedelta(hours=1))
    skewed = report([disk(61)], NOW + datetime.timedelta(minutes=2))
    broken = dict(report([disk(98)], NOW), generated_at="yesterday")
    naive = dict(report([disk(62)], NOW), generated_at="2026-12-05T11:00:00")
    series = one(series_from_reports(reports + [ahead, skewed, broken, naive], NOW), "disk_used")
    assert values(series) == [50, 62, 60, 61]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("72.5", 72.5),
        (" 72 ", 72.0),
        (10**18, 1e18),
        (True, None),
        ("abc", None),
        ("nan", None),
        (float("inf"), None),
        (float("nan"), None),
        (None, None),
        ([1], None),
        ("", None),
        (10**400, None),
        ("1" * 100, None),
    ],
)
def test_numbers_from_details(raw, expected):
    assert number(raw) == expected


def test_values_that_are_not_numbers_are_skipped_strings_of_numbers_are_read():
    findings = [[disk("70")], [disk("not a number")], [disk(float("nan"))], [disk(None)], [disk(True)], [disk(80)]]
    reports = [report(f, NOW - (5 - i) * DAY) for i, f in enumerate(findings)]
    assert values(one(series_from_reports(reports, NOW), "disk_used")) == [70, 80]


def test_missing_details_keys_make_no_series():
    bare = [
        {"check": "backup.verify", "target": "/b", "severity": "ok", "summary": "s", "details": {"level": "stat"}},
        {"check": "certificates.file", "target": "/c", "severity": "critical", "summary": "s", "details": {}},
        {"check": "postgres.vacuum", "target": "app", "severity": "info", "summary": "s", "details": {}},
        {"check": "resources.disk", "target": "/", "severity": "critical", "summary": "s", "details": {"device": "x"}},
        {"check": "logs.pattern", "target": "p", "severity": "ok", "summary": "s", "details": {"rate": None}},
        {"check": "logs.access.latency", "target": "/a", "severity": "info", "summary": "s", "details": {}},
        {"check": "logs.pattern", "target": "q", "severity": "ok", "summary": "s", "details": {"rate": {}}},
    ]
    assert series_from_reports([report(bare, NOW)], NOW) == []


def test_damaged_reports_are_skipped_not_raised():
    good = report([disk(70)], NOW)
    junk = [
        None,
        "text",
        {"findings": None, "generated_at": "2026-12-05T10:00:00Z", "host": "db1"},
        {"findings": [None, "x", {"check": "resources.disk"}], "generated_at": "2026-12-05T10:00:00Z", "host": "db1"},
        {"findings": [disk(1)], "generated_at": "2026-12-05T10:00:00Z", "host": None},
        {"findings": [dict(disk(1), target=None)], "generated_at": "2026-12-05T10:00:00Z", "host": "db1"},
        {"findings": [dict(disk(1), details="x")], "generated_at": "2026-12-05T10:00:00Z", "host": "db1"},
    ]
    assert values(one(series_from_reports(junk + [good], NOW), "disk_used")) == [70]


def test_huge_values_stay_finite():
    finding = {"check": "backup.verify", "target": "/b", "severity": "ok", "summary": "s", "details": {}}
    reports = [
        report([dict(finding, details={"newest_size": size})], NOW - (2 - i) * DAY)
        for i, size in enumerate((10**18, 2 * 10**18, 10**17))
    ]
    size = one(series_from_reports(reports, NOW), "backup_size")
    assert values(size) == [10**18, 2 * 10**18, 10**17] and size["worsening"] is True
    assert json.loads(json.dumps(size, allow_nan=False)) == size


def test_points_are_downsampled_evenly_oldest_first_first_and_last_kept():
    reports = disk_reports([50 + (i % 7) for i in range(500)], step=datetime.timedelta(hours=1))
    series = one(series_from_reports(list(reversed(reports)), NOW), "disk_used")
    assert len(series["points"]) == MAX_POINTS
    times = [p[0] for p in series["points"]]
    assert times == sorted(times) and len(set(times)) == MAX_POINTS
    assert series["points"][0] == [reports[0]["generated_at"], 50]
    assert series["points"][-1] == [reports[-1]["generated_at"], series["last"]]
    assert downsample(list(range(10)), 4) == [0, 3, 6, 9]
    assert downsample(list(range(3)), 200) == [0, 1, 2]
    assert downsample(list(range(5)), 1) == [4] and downsample(list(range(5)), 0) == []


def test_at_most_max_series_worst_first():
    reports = []
    for index in range(100):
        reports += disk_reports([50, 50, 50], host="host%03d" % index)
    reports += disk_reports([50, 60, 70], host="zz-rising")
    reports += [report([disk(96, severity="critical")], NOW, host="zz-critical")]
    series = series_from_reports(reports, NOW)
    assert len(series) == MAX_SERIES
    assert [s["host"] for s in series[:3]] == ["zz-rising", "zz-critical", "host000"]
    assert series[0]["worsening"] and series[1]["severity"] == "critical"
    assert [s["host"] for s in series[2:]] == sorted(s["host"] for s in series[2:])


def test_one_series_per_metric_host_and_target_across_runs():
    daily = disk_reports([50, 52], host="db1")
    weekly = [report([disk(51, target="/var")], NOW - DAY, host="db1", run="weekly")]
    other = disk_reports([10], host="db2")
    series = series_from_reports(daily + weekly + other, NOW)
    assert sorted(s["key"] for s in series) == ["disk_used|db1|/", "disk_used|db1|/var", "disk_used|db2|/"]


def test_unicode_hosts_and_targets():
    reports = disk_reports([50, 51], host="höst-データ", target="/srv/dätä <&>")
    series = one(series_from_reports(reports, NOW), "disk_used", host="höst-データ")
    assert series["target"] == "/srv/dätä <&>" and series["key"] == "disk_used|höst-データ|/srv/dätä <&>"
    assert series["title"] == "Disk use of /srv/dätä <&> on höst-データ"


def test_a_naive_now_is_utc_and_times_are_utc():
    assert parse_time("2026-12-05T13:00:00+01:00") == NOW
    assert parse_time("2026-12-05T12:00:00Z") == NOW
    assert parse_time("2026-13-05T12:00:00Z") is None and parse_time(12) is None and parse_time("x" * 100) is None
    reports = disk_reports([50])
    assert series_from_reports(reports, NOW.replace(tzinfo=None)) == series_from_reports(reports, NOW)


def test_every_series_has_the_documented_keys():
    series = series_from_reports(disk_reports([50, 60, 70]), NOW)[0]
    assert set(series) == {
        "key",
        "title",
        "unit",
        "host",
        "target",
        "metric",
        "points",
        "forecast",
        "thresholds",
        "worse",
        "worsening",
        "last",
        "severity",
    }


def test_a_rate_per_other_periods_keeps_its_own_unit_and_severity():
    details = {
        "count": 40,
        "rate": {"count": 5, "per_seconds": 600, "severity": "critical"},
        "worst_window": {"count": 7, "start": "a", "end": "b", "group": None},
    }
    finding = {"check": "logs.pattern", "target": "errors", "severity": "critical", "summary": "s", "details": details}
    rate = one(series_from_reports([report([finding], NOW)], NOW), "log_rate", target="errors")
    assert rate["unit"] == "per 10m" and rate["thresholds"] == {"critical": 5} and rate["last"] == 7
    assert rate["title"] == "errors matches on db1"
    hourly = dict(details, rate={"count": 5, "per_seconds": 86400, "severity": "info"})
    rate = one(series_from_reports([report([dict(finding, details=hourly)], NOW)], NOW), "log_rate")
    assert rate["unit"] == "per day" and rate["thresholds"] == {"warning": 5}
