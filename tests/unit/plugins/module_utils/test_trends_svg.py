# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trend charts (module_utils/_trends_svg.py): well-formed, escaped, self-contained SVG whatever
the series holds."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._report import build_report, plan_write
from ansible_collections.stronghold.ops.plugins.module_utils._trends import series_from_reports
from ansible_collections.stronghold.ops.plugins.module_utils._trends_read import read_kept_reports
from ansible_collections.stronghold.ops.plugins.module_utils._trends_svg import format_value, render_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)


def series(points, **extra):
    base = {
        "key": "disk_used|db1|/",
        "title": "Disk use of / on db1",
        "unit": "%",
        "host": "db1",
        "target": "/",
        "metric": "disk_used",
        "points": points,
        "forecast": [],
        "thresholds": {},
        "worse": "up",
        "worsening": False,
        "last": points[-1][1] if points else None,
        "severity": "ok",
    }
    base.update(extra)
    return base


def at(day, value):
    return ["2026-12-%02dT12:00:00Z" % day, value]


def parse(svg):
    """The chart as XML: it must parse, and hold no number that is not finite."""
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img" and "trend" in root.get("class").split()
    assert not re.search(r"nan|inf", " ".join(v for e in root.iter() for v in e.attrib.values()), re.I)
    for element in root.iter():
        for name in ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "width", "height"):
            if element.get(name) is not None:
                float(element.get(name))
        if element.get("points") is not None:
            for pair in element.get("points").split():
                x, y = (float(v) for v in pair.split(","))
                assert -1 <= x <= float(root.get("width")) + 1 and -1 <= y <= float(root.get("height")) + 1
    return root


def line(root, name):
    found = [e for e in root.iter() if name in (e.get("class") or "").split()]
    return found


def test_a_rising_disk_with_forecast_and_thresholds():
    s = series(
        [at(1, 60), at(2, 64), at(3, 68), at(4, 72)],
        forecast=[at(4, 72), at(7, 84)],
        thresholds={"warning": 85, "critical": 95},
        worsening=True,
    )
    root = parse(render_chart_svg(s))
    assert root.get("viewBox") == "0 0 240 64" and root.get("width") == "240" and root.get("height") == "64"
    assert root.find(SVG + "title").text == (
        "Disk use of / on db1: last 72%, getting worse (4 points, 2026-12-01 to 2026-12-04, lowest 60%, highest 72%)"
    )
    assert "trend-worsening" in root.get("class")
    (trend,) = line(root, "trend-line")
    assert len(trend.get("points").split()) == 4
    (forecast,) = line(root, "trend-forecast")
    assert forecast.get("stroke-dasharray") and len(forecast.get("points").split()) == 2
    assert [e.get("class") for e in line(root, "trend-threshold")] == [
        "trend-threshold trend-warning",
        "trend-threshold trend-critical",
    ]
    # Higher values are drawn higher: the critical line above the warning line above the last point.
    warning, critical = line(root, "trend-threshold")
    (last,) = line(root, "trend-last-point")
    assert float(critical.get("y1")) < float(warning.get("y1")) < float(last.get("cy"))
    (label,) = line(root, "trend-last")
    assert label.text == "72%"
    # The forecast starts at the last point and the line rises to the right.
    first_forecast = forecast.get("points").split()[0]
    assert first_forecast == "%s,%s" % (last.get("cx"), last.get("cy"))
    ys = [float(p.split(",")[1]) for p in trend.get("points").split()]
    assert ys == sorted(ys, reverse=True)


@pytest.mark.parametrize(
    "points",
    [
        [],
        [at(1, 5)],
        [at(1, 5), at(2, 5)],
        [at(1, 5), at(1, 7), at(1, 9)],  # one moment
        [at(1, 0), at(2, 0), at(3, 0)],
        [at(1, -3), at(2, -1)],
        [at(1, 1e18), at(2, 2e18)],
        [at(1, -1e308), at(2, 1e308)],
        [at(1, 1e-9), at(2, 2e-9)],
    ],
)
def test_any_number_of_points_draws_sanely(points):
    root = parse(render_chart_svg(series(points, thresholds={"warning": 85})))
    assert root.get("data-points") == str(len(points))
    if not points:
        assert "no data" in root.find(SVG + "title").text
        assert line(root, "trend-line") == []
    else:
        assert len(line(root, "trend-last-point")) == 1
        assert len(line(root, "trend-line")) == (1 if len(points) >= 2 else 0)


def test_a_long_series_is_thinned_to_a_small_chart():
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    points = [[(start + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), i % 13] for i in range(5000)]
    svg = render_chart_svg(series(points))
    root = parse(svg)
    assert root.get("data-points") == "500" and len(line(root, "trend-line")[0].get("points").split()) == 500
    assert len(svg) < 8000


def test_unusable_points_are_dropped():
    points = [at(1, 5), ["yesterday", 6], [None, 7], "x", at(2, "nan"), at(3, float("inf")), [1, 2, 3], at(4, "8")]
    root = parse(render_chart_svg(series(points, forecast="junk", thresholds={"warning": "x", "critical": None})))
    assert root.get("data-points") == "2"
    assert line(root, "trend-threshold") == [] and line(root, "trend-forecast") == []
    assert line(root, "trend-last")[0].text == "8%"


def test_titles_and_labels_are_escaped_and_xml_safe():
    hostile = 'Disk <script>alert("x")</script> & \x00\x1b\ufffe "q" \'a\' データ'
    svg = render_chart_svg(series([at(1, 5), at(2, 6)], title=hostile, metric='"><x y="', unit="<b>"))
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg
    assert root.find(SVG + "title").text == (
        'Disk <script>alert("x")</script> &  "q" \'a\' データ: last 6 <b>'
        " (2 points, 2026-12-01 to 2026-12-02, lowest 5 <b>, highest 6 <b>)"
    )
    assert root.get("data-metric") == '"><x y="'


def test_no_external_reference():
    s = series([at(1, 60), at(2, 64)], forecast=[at(2, 64), at(4, 70)], thresholds={"warning": 85})
    svg = render_chart_svg(s)
    assert not re.search(r"href|url\(|<script|<style|@import|<image|<foreignObject", svg, re.I)
    assert re.findall(r"https?://[^\"]*", svg) == ["http://www.w3.org/2000/svg"]


@pytest.mark.parametrize(
    "width, height, shown",
    [(400, 100, ("400", "100")), (0, -5, ("60", "30")), (10**9, 10**9, ("2000", "1000")), ("x", None, ("240", "64"))],
)
def test_size_is_bounded(width, height, shown):
    root = parse(render_chart_svg(series([at(1, 1), at(2, 2)]), width, height))
    assert (root.get("width"), root.get("height")) == shown
    assert root.get("viewBox") == "0 0 %s %s" % shown


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (72, "%", "72%"),
        (72.456, "%", "72.5%"),
        (3.14159, "ms", "3.14 ms"),
        (0, "tuples", "0 tuples"),
        (12500, "tuples", "12.5k tuples"),
        (2500000, "tuples", "2.5M tuples"),
        (-3.5, "days", "-3.5 days"),
        (1023, "bytes", "1023 B"),
        (1536, "bytes", "1.5 KiB"),
        (10**18, "bytes", "888.2 PiB"),
        (1e300, "bytes", "8.67e+281 EiB"),
        (1e300, "", "1.00e+288T"),
        (-0.0001, "%", "0%"),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


def test_every_series_the_trends_make_draws(tmp_path):
    findings = [
        {"check": "resources.disk", "target": "/", "severity": "ok", "summary": "s", "details": {"used_percent": v}}
        for v in (50, 50, 50)
    ]
    reports = [
        build_report([f], "db1", "daily", "critical", {}, NOW - datetime.timedelta(days=i))
        for i, f in enumerate(findings)
    ]
    for s in series_from_reports(reports, NOW):
        root = parse(render_chart_svg(s))
        assert root.find(SVG + "title").text == (
            "Disk use of / on db1: last 50% (3 points, 2026-12-03 to 2026-12-05, lowest 50%, highest 50%)"
        )


def test_from_kept_files_to_charts(tmp_path):
    """The whole way: reports written as run_report writes them, read back, turned into series, drawn."""
    directory = tmp_path / "db1" / "daily"
    directory.mkdir(parents=True)
    for day, used in enumerate((60, 66, 72, 78)):
        when = NOW - datetime.timedelta(days=3 - day)
        finding = {
            "check": "resources.disk",
            "target": "/",
            "severity": "ok",
            "summary": "s",
            "details": {"used_percent": used, "warning": 85, "critical": 95},
        }
        report = build_report([finding], "db1", "daily", "critical", {}, when)
        plan = plan_write(report, str(directory), [p.name for p in directory.iterdir()], ["json"], 0, when)
        for key in ("json", "latest_json"):
            with open(plan["paths"][key], "w", encoding="utf-8") as handle:
                handle.write(plan["documents"]["json"])
    reports, problems = read_kept_reports(str(tmp_path), ["db1"], NOW - datetime.timedelta(days=30))
    assert problems == [] and len(reports) == 4
    (disk,) = series_from_reports(reports, NOW)
    assert disk["worsening"] is True and [p[1] for p in disk["points"]] == [60, 66, 72, 78]
    root = parse(render_chart_svg(disk))
    assert root.find(SVG + "title").text.startswith("Disk use of / on db1: last 78%, getting worse (4 points")
    assert len(line(root, "trend-line")[0].get("points").split()) == 4
