# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    count_by_severity,
    findings_of_result,
    make_finding,
    median,
    parse_duration,
    parse_percent,
    parse_size,
    severity_at_least,
    severity_for_value,
    sort_findings,
    validate_finding,
    worst_severity,
)


def test_worst_severity_orders_ok_info_warning_critical():
    assert worst_severity([]) == "ok"
    assert worst_severity(["info", "ok"]) == "info"
    assert worst_severity([{"severity": "warning"}, "info"]) == "warning"
    assert worst_severity(["warning", {"severity": "critical"}, "ok"]) == "critical"


def test_worst_severity_refuses_unknown_names():
    with pytest.raises(FindingError, match="unknown severity 'fatal'"):
        worst_severity(["ok", "fatal"])


@pytest.mark.parametrize(
    "severity, threshold, expected",
    [
        ("critical", "critical", True),
        ("warning", "critical", False),
        ("warning", "warning", True),
        ("critical", "warning", True),
        ("info", "warning", False),
        ("critical", "never", False),
    ],
)
def test_severity_at_least(severity, threshold, expected):
    assert severity_at_least(severity, threshold) is expected


def test_make_finding_normalises_details_and_validates():
    finding = make_finding("health.http", "http://x/", "ok", "answered")
    assert finding == {
        "check": "health.http",
        "target": "http://x/",
        "severity": "ok",
        "summary": "answered",
        "details": {},
    }
    with pytest.raises(FindingError, match="non-empty string 'summary'"):
        make_finding("health.http", "http://x/", "ok", "  ")
    with pytest.raises(FindingError, match="unknown severity"):
        make_finding("health.http", "http://x/", "CRITICAL", "down")
    with pytest.raises(FindingError, match="details .* must be a mapping"):
        make_finding("health.http", "http://x/", "ok", "up", details=["a"])


def test_validate_finding_rejects_unknown_keys():
    with pytest.raises(FindingError, match="unknown keys: colour"):
        validate_finding({"check": "a", "target": "b", "severity": "ok", "summary": "c", "colour": "red"})


def test_sort_and_count_put_worst_first_and_keep_order_within_a_severity():
    findings = [
        make_finding("a", "t", "ok", "s"),
        make_finding("b", "t", "critical", "s"),
        make_finding("c", "t", "warning", "s"),
        make_finding("d", "t", "critical", "s"),
    ]
    assert [f["check"] for f in sort_findings(findings)] == ["b", "d", "c", "a"]
    assert count_by_severity(findings) == {"ok": 1, "info": 0, "warning": 1, "critical": 2}


@pytest.mark.parametrize(
    "value, expected",
    [
        (85, "ok"),
        (85.01, "warning"),
        (95, "warning"),
        (95.5, "critical"),
        ("96", "critical"),
    ],
)
def test_severity_for_value_above_is_strict_as_in_the_runbook(value, expected):
    assert severity_for_value(value, warning=85, critical=95) == expected


@pytest.mark.parametrize(
    "days, expected", [(40, "ok"), (29.9, "warning"), (7, "warning"), (6.99, "critical"), (-1, "critical")]
)
def test_severity_for_value_below_for_days_left(days, expected):
    assert severity_for_value(days, warning=30, critical=7, direction="below") == expected


def test_severity_for_value_rejects_thresholds_in_the_wrong_order():
    with pytest.raises(FindingError, match="warning threshold 96.0 is above the critical threshold 95.0"):
        severity_for_value(50, warning=96, critical=95)
    with pytest.raises(FindingError, match="below the critical"):
        severity_for_value(50, warning=5, critical=7, direction="below")
    with pytest.raises(FindingError, match="value must be a number"):
        severity_for_value("fast", warning=1)
    with pytest.raises(FindingError, match="direction"):
        severity_for_value(1, warning=1, direction="sideways")


@pytest.mark.parametrize(
    "text, seconds",
    [
        (90, 90.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("26h", 93600.0),
        ("1d12h", 129600.0),
        ("1h 30m", 5400.0),
        ("500ms", 0.5),
        ("2w", 1209600.0),
        ("1.5h", 5400.0),
        ("3 days", 259200.0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "26x", "h", "-5", -5, "5h later", True])
def test_parse_duration_rejects(text):
    with pytest.raises(FindingError):
        parse_duration(text)


@pytest.mark.parametrize(
    "text, size",
    [
        (1024, 1024),
        ("512", 512),
        ("512K", 512 * 1024),
        ("10G", 10 * 1024**3),
        ("10GiB", 10 * 1024**3),
        ("10GB", 10 * 1000**3),
        ("1.5T", int(1.5 * 1024**4)),
        ("2 MiB", 2 * 1024**2),
        ("100b", 100),
    ],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["ten", "10X", "-1", -1, "iB", "10 G B", False])
def test_parse_size_rejects(text):
    with pytest.raises(FindingError):
        parse_size(text)


@pytest.mark.parametrize("text, value", [(85, 85.0), ("85%", 85.0), (" 85.5 % ", 85.5), ("0", 0.0), (100, 100.0)])
def test_parse_percent(text, value):
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["101%", -1, "abc", "nan", True])
def test_parse_percent_rejects(text):
    with pytest.raises(FindingError):
        parse_percent(text)


# --- values a tester types that are numbers to Python but no duration, size or percentage ---


@pytest.mark.parametrize(
    "value, message",
    [
        ("inf", "must be finite, got 'inf'"),
        ("-inf", "must be finite"),
        ("Infinity", "must be finite"),
        (float("inf"), "must be finite, got inf"),
        ("nan", "cannot be NaN: 'nan'"),
        (float("nan"), "cannot be NaN"),
        ("1e999", "must be finite, got '1e999'"),
        ("9" * 400 + "s", "must be finite, got '999"),
        (10**400, "is too large"),
        ("-1e999", "must be finite"),
    ],
)
def test_parse_duration_refuses_non_finite_values(value, message):
    with pytest.raises(FindingError, match=message.replace("(", r"\(")):
        parse_duration(value)


@pytest.mark.parametrize("value", [100 * 366 * 86400, "36600d", "5300w", 4e9, "3200000000"])
def test_parse_duration_refuses_more_than_a_century(value):
    with pytest.raises(FindingError, match="too long: at most 100 years"):
        parse_duration(value)


def test_parse_duration_maximum_and_its_message():
    assert parse_duration("24d", maximum=2147483.647) == 24 * 86400
    with pytest.raises(FindingError, match=r"the duration '30d' is too long: at most 24.86 days"):
        parse_duration("30d", maximum=2147483.647)
    # a maximum can only lower the century limit
    with pytest.raises(FindingError, match="at most 100 years"):
        parse_duration("200w" * 30, maximum=1e300)
    assert parse_duration("-0") == 0.0


@pytest.mark.parametrize(
    "value, message",
    [
        (float("inf"), "must be finite"),
        (float("nan"), "cannot be NaN"),
        ("inf", "cannot read 'inf'"),
        ("nan", "cannot read 'nan'"),
        ("1e999", "cannot read '1e999'"),
        ("9" * 400 + "G", "too large"),
        (10**400, "too large"),
        (2**63, "too large: at most 9223372036854775807 bytes"),
        ("9999999P", "too large"),
        (-0.5, "negative"),
    ],
)
def test_parse_size_refuses_non_finite_and_absurd_values(value, message):
    with pytest.raises(FindingError, match=message):
        parse_size(value)


def test_parse_size_limits():
    assert parse_size(2**63 - 1) == 2**63 - 1
    assert parse_size("7P") == 7 * 1024**5
    assert parse_size("16G", maximum=16 * 1024**3) == 16 * 1024**3
    with pytest.raises(FindingError, match="too large: at most 17179869184 bytes"):
        parse_size("17G", maximum=16 * 1024**3)


@pytest.mark.parametrize("value", ["inf", "nan", "1e999%", float("inf"), float("nan"), 10**400, "-inf%"])
def test_parse_percent_refuses_non_finite_values(value):
    with pytest.raises(FindingError, match="percentage"):
        parse_percent(value)


def test_messages_shorten_long_values():
    with pytest.raises(FindingError) as caught:
        parse_duration("9" * 400 + "s")
    assert len(str(caught.value)) < 120


def test_parse_size_reads_the_largest_size_exactly():
    assert parse_size("9223372036854775807") == 2**63 - 1
    with pytest.raises(FindingError, match="too large"):
        parse_size("9223372036854775808")


@pytest.mark.parametrize(
    "value, bounds, message",
    [
        (float("nan"), {}, "t must be a finite number"),
        ("nan", {}, "t must be a finite number"),
        (float("inf"), {}, "t must be a finite number"),
        ("-inf", {}, "t must be a finite number"),
        ("1e999", {}, "t must be a finite number"),
        (True, {}, "t must be a number, got a boolean"),
        ("soon", {}, "t must be a number"),
        (0, {"above": 0}, "t must be greater than 0, got 0"),
        (-0.5, {"minimum": 0}, "t must be at least 0, got -0.5"),
        (1e300, {"maximum": 3600}, "t must be at most 3600, got 1e+300"),
    ],
)
def test_bounded_number_refuses_what_a_comparison_lets_through(value, bounds, message):
    with pytest.raises(FindingError) as caught:
        bounded_number(value, "t", **bounds)
    assert message in str(caught.value)


def test_bounded_number_keeps_the_edges():
    assert bounded_number("0.001", "t", above=0, maximum=3600) == 0.001
    assert bounded_number(3600, "t", above=0, maximum=3600) == 3600.0
    assert bounded_number(0, "t", minimum=0) == 0.0


@pytest.mark.parametrize(
    "values, expected",
    [
        ([], None),
        ([7], 7.0),
        ([3, 1, 2], 2.0),
        ([4, 1, 3, 2], 2.5),
        ([10, 10, 1000], 10.0),
        ((x for x in (5.5, 1.5)), 3.5),
    ],
)
def test_median(values, expected):
    found = median(values)
    assert found == expected
    assert found is None or isinstance(found, float)


def test_median_does_not_reorder_its_input():
    values = [3, 1, 2]
    median(values)
    assert values == [3, 1, 2]


def test_findings_of_result_each_case_of_the_rescue_rule():
    what = ("backup.verify", "/b", "backup verification")
    warning = make_finding("backup.verify", "/b", "warning", "old")
    assert findings_of_result({}, *what) == []
    assert findings_of_result({"skipped": True}, *what, skipped="nothing to verify") == [
        make_finding("backup.verify", "/b", "info", "nothing to verify")
    ]
    assert findings_of_result({"findings": [warning]}, *what) == [warning]
    assert findings_of_result({"failed": True, "msg": "boom", "findings": [warning]}, *what) == [
        warning,
        make_finding("backup.verify", "/b", "critical", "backup verification failed: boom"),
    ]
    assert findings_of_result({"failed": True, "msg": "no such directory"}, *what) == [
        make_finding("backup.verify", "/b", "critical", "backup verification did not run: no such directory")
    ]


def test_findings_of_result_refuses_what_is_not_a_result():
    with pytest.raises(FindingError, match="the result of backup verification must be a mapping, got list"):
        findings_of_result(["x"], "backup.verify", "/b", "backup verification")
    with pytest.raises(FindingError, match="unknown severity"):
        findings_of_result(
            {"findings": [{"check": "c", "target": "t", "severity": "bad", "summary": "s"}]}, "c", "t", "w"
        )


def test_linear_fit_is_the_least_squares_slope_or_none():
    from ansible_collections.stronghold.ops.plugins.module_utils._findings import linear_fit

    assert linear_fit([(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) == pytest.approx(2.0)
    assert linear_fit(iter([(0.0, 5.0), (10.0, 0.0)])) == pytest.approx(-0.5)
    assert linear_fit([]) is None
    assert linear_fit([(1.0, 2.0)]) is None
    assert linear_fit([(3.0, 1.0), (3.0, 9.0)]) is None
    assert linear_fit([(0.0, -1e308), (1e-300, 1e308)]) is None
