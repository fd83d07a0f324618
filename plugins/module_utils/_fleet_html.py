# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The HTML page of fleet_report, as one pure function: ``render_page(report, charts, directory)``.

The page is self-contained and works offline: inline CSS, inline SVG, no script, no external
URL (its Content-Security-Policy forbids every load but inline styles and data: images, so a
stray reference is an error in the browser test rather than a silent request). Every text that
comes from a host, a check or a finding goes through ``html.escape``; long texts are cut in the
matrix, the problems and the finding lines, and kept whole inside the finding's ``<details>``.

Stable hooks for tests and readers: ``header#verdict``, ``table#matrix`` with ``td.cell`` and
``td.cell.sev-<severity>`` (``td.cell.none`` where the host did not report the check),
``ol#problem-list``, ``code#rerun`` (the --limit of the hosts down), ``section#alert``,
``section#timing`` with ``table#timing-table`` (``tr.straggler`` for hosts much slower than the
median), ``section#trends`` with the charts' ``svg.trend``,
``section#findings`` with one ``details.host`` per row (id ``h<row>``) and one ``div.check`` per
cell (id ``h<row>-c<column>``, the target of the cell's link).
"""

from __future__ import annotations

import html
import json
import os
from typing import Any
from urllib.parse import quote

from ansible_collections.stronghold.ops.plugins.module_utils._findings import SEVERITIES, severity_at_least
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import cut, describe_alert, timing_line

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Problems listed in the page (each host's findings below list them all).
MAX_PAGE_PROBLEMS = 500
# Characters of a host or check name shown in the matrix (the title and the findings keep more).
MAX_NAME = 60

_STYLE = """
:root{--ok:#2e7d32;--info:#1565c0;--warning:#b26a00;--critical:#c62828;--none:#f3f3f3;--line:#d0d0d0}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1d;background:#fff}
main{padding:0 1.2rem 2rem}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}
header#verdict{padding:1rem 1.2rem;color:#fff;background:var(--ok)}
header#verdict.sev-info{background:var(--info)}header#verdict.sev-warning{background:var(--warning)}
header#verdict.sev-critical{background:var(--critical)}
header#verdict dl{display:flex;flex-wrap:wrap;gap:.2rem 1.4rem;margin:.4rem 0 0}
header#verdict dt{font-weight:600}header#verdict dt::after{content:":"}header#verdict dd{margin:0 0 0 .3rem}
header#verdict .pair{display:flex}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-weight:600;margin-right:.3rem;
 background:#fff;color:#1d1d1d}
.badge.sev-critical{color:var(--critical)}.badge.sev-warning{color:var(--warning)}
.badge.sev-info{color:var(--info)}.badge.sev-ok{color:var(--ok)}
.down-list{margin:.4rem 0 0;padding-left:1.2rem}
.rerun code{user-select:all}
table#timing-table{border-collapse:collapse;font-size:13px}
table#timing-table th,table#timing-table td{text-align:left;padding:.1rem .5rem}
table#timing-table .bar{display:inline-block;height:.6rem;background:#888;vertical-align:middle}
table#timing-table tr.straggler .bar{background:var(--warning)}
.scroll{display:inline-block;max-width:100%;overflow:auto;max-height:80vh;border:1px solid var(--line)}
table#matrix{border-collapse:separate;border-spacing:0;font-size:12px}
table#matrix th,table#matrix td{border-right:1px solid #fff;border-bottom:1px solid #fff;padding:0}
table#matrix thead th{position:sticky;top:0;background:#fafafa;z-index:2;vertical-align:bottom}
table#matrix thead th.check span{display:block;writing-mode:vertical-rl;transform:rotate(180deg);
 max-height:11rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:.3rem .1rem}
table#matrix th.host{position:sticky;left:0;background:#fafafa;z-index:1;text-align:left;padding:.15rem .5rem;
 white-space:nowrap;max-width:18rem;overflow:hidden;text-overflow:ellipsis}
table#matrix thead th.corner{left:0;z-index:3;text-align:left;padding:.3rem .5rem}
table#matrix tr.down th.host{color:var(--critical)}
td.cell{min-width:2.1rem;height:1.6rem;text-align:center;font-weight:600}
td.cell a{display:block;color:inherit;text-decoration:none;line-height:1.6rem}
td.cell.none{background:var(--none)}
td.cell.sev-ok{background:#a5d6a7}td.cell.sev-info{background:#90caf9}
td.cell.sev-warning{background:#ffb74d}td.cell.sev-critical{background:#e53935;color:#fff}
.tag{font-size:11px;font-weight:600;padding:0 .3rem;border-radius:.3rem;background:var(--critical);color:#fff}
.legend span{display:inline-block;padding:0 .4rem;margin-right:.3rem}
.legend .sev-ok{background:#a5d6a7}.legend .sev-info{background:#90caf9}.legend .sev-warning{background:#ffb74d}
.legend .sev-critical{background:#e53935;color:#fff}
.sev{font-weight:700}.sev.sev-critical{color:var(--critical)}.sev.sev-warning{color:var(--warning)}
.sev.sev-info{color:var(--info)}.sev.sev-ok{color:var(--ok)}
ol#problem-list li{margin:.15rem 0;overflow-wrap:anywhere}
section#alert table,.finding table{border-collapse:collapse;margin:.3rem 0}
section#alert td,section#alert th,.finding td,.finding th{border:1px solid var(--line);padding:.15rem .4rem;
 text-align:left;vertical-align:top;overflow-wrap:anywhere}
.finding th{white-space:nowrap;background:#fafafa}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:24rem;overflow:auto;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure.chart{margin:0;padding:.4rem;border:1px solid var(--line);border-radius:.3rem}
figure.chart figcaption{font-weight:600;margin-bottom:.2rem}
figure.chart.worse{border-color:var(--critical)}
.worse-note{color:var(--critical);font-weight:700;margin-left:.4rem}
details.host{border:1px solid var(--line);border-radius:.3rem;margin:.4rem 0;padding:.2rem .6rem}
details.host>summary{cursor:pointer;font-weight:600;overflow-wrap:anywhere}
div.check{margin:.3rem 0 .5rem .8rem}div.check h3{font-size:.95rem;margin:.4rem 0 .1rem;overflow-wrap:anywhere}
details.finding{margin:.1rem 0 .1rem .4rem}details.finding>summary{cursor:pointer;overflow-wrap:anywhere}
details.finding .body{margin:.2rem 0 .4rem 1.2rem}
.muted{color:#666}
footer{padding:1rem 1.2rem;color:#666;font-size:12px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _ec(text: Any, limit: int) -> str:
    return _e(cut(text, limit))


def _href(path: str, directory: str) -> str:
    """A link to a local file, relative to the page's directory when both are absolute."""
    target = (
        os.path.relpath(path, directory) if os.path.isabs(path) and directory and os.path.isabs(directory) else path
    )
    return _e(quote(target, safe="/"))


def _counts_badges(counts: dict[str, int]) -> str:
    return "".join(
        '<span class="badge sev-%s">%d %s</span>' % (name, counts[name], name) for name in reversed(SEVERITIES)
    )


def _value(value: Any) -> str:
    """A detail value: scalars as text, lists of lines as a pre, anything else as indented JSON."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "<pre>%s</pre>" % _e("\n".join(value))
    if isinstance(value, (dict, list)):
        return "<pre>%s</pre>" % _e(json.dumps(value, indent=2, sort_keys=True, default=str))
    text = str(value)
    if "\n" in text or len(text) > 200:
        return "<pre>%s</pre>" % _e(text)
    return _e(text)


def _finding(finding: dict[str, Any]) -> str:
    severity = finding["severity"]
    line = "%s: %s" % (finding["target"], finding["summary"])
    parts = [
        '<details class="finding sev-%s"><summary><span class="sev sev-%s">%s</span> %s</summary><div class="body">'
        % (severity, severity, severity.upper(), _ec(line, 240))
    ]
    if len(" ".join(line.split())) > 240 or "\n" in finding["summary"]:
        parts.append("<table><tr><th>target</th><td>%s</td></tr>" % _value(finding["target"]))
        parts.append("<tr><th>summary</th><td>%s</td></tr></table>" % _value(finding["summary"]))
    details = finding["details"]
    if details:
        parts.append("<table>")
        parts.extend("<tr><th>%s</th><td>%s</td></tr>" % (_e(key), _value(details[key])) for key in sorted(details))
        parts.append("</table>")
    elif len(" ".join(line.split())) <= 240:
        parts.append('<span class="muted">no details</span>')
    parts.append("</div></details>")
    return "".join(parts)


def _verdict(report: dict[str, Any]) -> str:
    summary = report["summary"]
    metadata = report["metadata"]
    worst = summary["worst_severity"]
    hosts = len(summary["hosts"])
    facts = [("run", report["run"]), ("generated at", report["generated_at"]), ("hosts", str(hosts))]
    facts.append(("hosts down", str(len(summary["down_hosts"]))))
    for key, label in (("playbook", "playbook"), ("awx_job_id", "AWX job"), ("check_mode", "check mode")):
        if key in metadata and metadata[key] not in (None, ""):
            facts.append((label, str(metadata[key])))
    facts.append(
        ("fails from", "%s (%s)" % (report["fail_on"], "reached" if report["threshold_reached"] else "not reached"))
    )
    parts = [
        '<header id="verdict" class="sev-%s">' % worst,
        '<h1>%s run on %d host%s: <span class="worst">%s</span></h1>'
        % (_ec(report["run"], 80), hosts, "" if hosts == 1 else "s", worst.upper()),
        '<div class="counts">%s</div>' % _counts_badges(summary["counts"]),
        "<dl>%s</dl>"
        % "".join('<div class="pair"><dt>%s</dt><dd>%s</dd></div>' % (_e(k), _ec(v, 120)) for k, v in facts),
    ]
    down = [h for h in report["hosts"] if h["status"] == "down"]
    if down:
        parts.append('<ul class="down-list">')
        parts.extend(
            "<li><strong>%s</strong> is down: %s</li>"
            % (_ec(h["host"], MAX_NAME), _ec(h["reason"] or "failed or unreachable", 200))
            for h in down
        )
        parts.append("</ul>")
    if summary["rerun"]:
        parts.append(
            '<p class="rerun">Rerun the failed hosts: <code id="rerun">ansible-playbook &lt;playbook&gt; %s</code></p>'
            % _e(summary["rerun"]["limit"])
        )
    parts.append("</header>")
    return "".join(parts)


def _matrix(report: dict[str, Any], directory: str, reports_of: dict[str, dict[str, str]]) -> str:
    matrix = report["matrix"]
    checks = matrix["checks"]
    parts = ['<section id="matrix-section"><h2>Hosts by check</h2>']
    if not matrix["rows"]:
        parts.append("<p>No hosts in this run.</p></section>")
        return "".join(parts)
    parts.append('<div class="scroll"><table id="matrix"><thead><tr><th class="corner" scope="col">host</th>')
    parts.extend(
        '<th class="check" scope="col" title="%s"><span>%s</span></th>' % (_ec(check, 200), _ec(check, MAX_NAME))
        for check in checks
    )
    parts.append("</tr></thead><tbody>")
    for i, row in enumerate(matrix["rows"]):
        classes = "row sev-%s%s%s" % (
            row["worst_severity"],
            " down" if row["status"] == "down" else "",
            " run" if row["run_row"] else "",
        )
        host = '<a href="#h%d">%s</a>' % (i, _ec(row["host"], MAX_NAME))
        if row["status"] == "down":
            host += ' <span class="tag">down</span>'
        reports = reports_of.get(row["host"], {})
        if reports.get("markdown"):
            host += ' <a class="report" href="%s">report</a>' % _href(reports["markdown"], directory)
        parts.append(
            '<tr class="%s"><th class="host" scope="row" title="%s">%s</th>' % (classes, _ec(row["host"], 200), host)
        )
        cells = row["cells"]
        for j, check in enumerate(checks):
            cell = cells.get(check)
            if cell is None:
                parts.append('<td class="cell none"></td>')
                continue
            breakdown = ", ".join("%d %s" % (cell["counts"][s], s) for s in reversed(SEVERITIES) if cell["counts"][s])
            parts.append(
                '<td class="cell sev-%s" title="%s"><a href="#h%d-c%d">%d</a></td>'
                % (cell["worst"], breakdown, i, j, cell["count"])
            )
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    parts.append(
        '<p class="legend">%s<span class="muted">a number is how many findings the host has for the check; '
        "its colour the worst of them; a click shows them.</span></p></section>"
        % "".join('<span class="sev-%s">%s</span>' % (s, s) for s in reversed(SEVERITIES))
    )
    return "".join(parts)


def _problems(report: dict[str, Any], anchors: dict[tuple[str, str], str]) -> str:
    parts = ['<section id="problems"><h2>Act on these first</h2>']
    pairs = [
        (row["host"], f)
        for row in _rows_with_findings(report)
        for f in row["findings"]
        if severity_at_least(f["severity"], "warning")
    ]
    pairs.sort(key=lambda pair: pair[1]["severity"] != "critical")
    if not pairs:
        parts.append("<p>No warning or critical finding.</p></section>")
        return "".join(parts)
    parts.append('<ol id="problem-list">')
    for host, f in pairs[:MAX_PAGE_PROBLEMS]:
        parts.append(
            '<li class="sev-%s"><a href="#%s"><span class="sev sev-%s">%s</span></a> <strong>%s</strong> %s %s: %s</li>'
            % (
                f["severity"],
                anchors[(host, f["check"])],
                f["severity"],
                f["severity"].upper(),
                _ec(host, MAX_NAME),
                _ec(f["check"], MAX_NAME),
                _ec(f["target"], 120),
                _ec(f["summary"], 240),
            )
        )
    parts.append("</ol>")
    if len(pairs) > MAX_PAGE_PROBLEMS:
        parts.append('<p class="muted">%d more below, by host.</p>' % (len(pairs) - MAX_PAGE_PROBLEMS))
    parts.append("</section>")
    return "".join(parts)


def _alert(report: dict[str, Any]) -> str:
    alert = report["alert"]
    parts = ['<section id="alert"><h2>Alert</h2>']
    severity, verdict = describe_alert(alert, report["run_findings"])
    parts.append('<p class="delivery"><span class="sev sev-%s">%s</span></p>' % (severity, _e(verdict)))
    if alert:
        keys = [k for k in ("subject", "recipients", "counts", "delivered", "errors", "error") if k in alert]
        keys += sorted(k for k in alert if k not in keys)
        parts.append("<table>")
        parts.extend("<tr><th>%s</th><td>%s</td></tr>" % (_e(k), _alert_value(k, alert[k])) for k in keys)
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def _alert_value(key: str, value: Any) -> str:
    """The alert's counts as one line (3 new, 1 resolved); anything else as a detail value."""
    if key == "counts" and isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
        said = ", ".join("%d %s" % (n, name) for name, n in value.items() if n)
        return _e(said or "nothing new, repeated or resolved")
    return _value(value)


def _timing(report: dict[str, Any]) -> str:
    """The wall time of each host (the sum of its own tasks), slowest first, stragglers marked."""
    timing = report["summary"]["timing"]
    parts = ['<section id="timing"><h2>Time per host</h2><p class="timing-line">%s</p>' % _e(timing_line(timing))]
    if not timing["available"]:
        parts.append("</section>")
        return "".join(parts)
    flagged = {s["host"] for s in timing["stragglers"]}
    checks_of = {h["host"]: (h.get("timing") or {}).get("checks") or {} for h in report["hosts"]}
    longest = max(timing["hosts"].values()) or 1.0
    parts.append(
        '<table id="timing-table"><thead><tr><th scope="col">host</th><th scope="col">wall time (s)</th>'
        '<th scope="col">slowest checks (s)</th></tr></thead><tbody>'
    )
    for host in sorted(timing["hosts"], key=lambda h: (-timing["hosts"][h], h)):
        wall = timing["hosts"][host]
        slow = sorted(checks_of.get(host, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        parts.append(
            '<tr class="%s"><th scope="row" title="%s">%s%s</th><td><span class="bar" style="width:%dpx"></span> %.1f</td>'
            "<td>%s</td></tr>"
            % (
                "straggler" if host in flagged else "timed",
                _ec(host, 200),
                _ec(host, MAX_NAME),
                ' <span class="tag">much slower than the median</span>' if host in flagged else "",
                int(round(120 * wall / longest)),
                wall,
                _e(", ".join("%s %.1f" % (name, seconds) for name, seconds in slow)),
            )
        )
    parts.append("</tbody></table></section>")
    return "".join(parts)


def _trends(charts: list[tuple[dict[str, Any], str]]) -> str:
    parts = ['<section id="trends"><h2>Trends</h2>']
    drawn = [(series, svg) for series, svg in charts if isinstance(svg, str) and svg.lstrip().startswith("<svg")]
    if not drawn:
        parts.append("<p>No trends: no kept reports with measurements in the trend window.</p></section>")
        return "".join(parts)
    worse = [series for series, _svg in drawn if series.get("worsening")]
    if worse:
        parts.append('<p class="worse-note">Getting worse: %s</p>' % _e(", ".join(cut(_title(s), 80) for s in worse)))
    parts.append('<div class="charts">')
    for series, svg in drawn:
        caption = _ec(_title(series), 120)
        if series.get("unit"):
            caption += ' <span class="muted">(%s)</span>' % _ec(series["unit"], 80)
        if series.get("worsening"):
            caption += '<span class="worse-note">getting worse</span>'
        note = '<div class="muted">%s</div>' % _ec(series["note"], 200) if series.get("note") else ""
        parts.append(
            '<figure class="chart%s"><figcaption>%s</figcaption>%s%s</figure>'
            % (" worse" if series.get("worsening") else "", caption, note, svg)
        )
    parts.append("</div></section>")
    return "".join(parts)


def _title(series: dict[str, Any]) -> str:
    return str(series.get("title") or series.get("key") or series.get("name") or "series")


def _rows_with_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the matrix with their findings (host entries, and the run row)."""
    by_host = {h["host"]: h for h in report["hosts"]}
    rows = []
    for row in report["matrix"]["rows"]:
        if row["run_row"]:
            rows.append(
                {"host": row["host"], "status": "ok", "reason": "", "reports": {}, "findings": report["run_findings"]}
            )
        else:
            rows.append(by_host[row["host"]])
    return rows


def _findings(report: dict[str, Any], directory: str) -> str:
    checks = report["matrix"]["checks"]
    column = {check: j for j, check in enumerate(checks)}
    parts = ['<section id="findings"><h2>Every finding, by host</h2>']
    for i, row in enumerate(_rows_with_findings(report)):
        matrix_row = report["matrix"]["rows"][i]
        # Open where the on-call person acts (down, critical); a warning is one click away, and a
        # cell's link opens its host (browsers reveal the target of a link inside a closed details).
        opened = row["status"] == "down" or matrix_row["worst_severity"] == "critical"
        summary = '%s%s <span class="sev sev-%s">%s</span> %s' % (
            _ec(row["host"], 200),
            ' <span class="tag">down</span>' if row["status"] == "down" else "",
            matrix_row["worst_severity"],
            matrix_row["worst_severity"].upper(),
            _counts_badges({s: sum(1 for f in row["findings"] if f["severity"] == s) for s in SEVERITIES}),
        )
        parts.append('<details class="host" id="h%d"%s><summary>%s</summary>' % (i, " open" if opened else "", summary))
        if row["status"] == "down":
            parts.append("<p><strong>Down:</strong> %s</p>" % _e(row["reason"] or "failed or unreachable"))
        if row["reports"]:
            parts.append(
                '<p class="reports">Report of this host: %s</p>'
                % ", ".join(
                    '<a href="%s">%s</a>' % (_href(path, directory), _e(kind))
                    for kind, path in sorted(row["reports"].items())
                )
            )
        groups: dict[str, list[dict[str, Any]]] = {}
        for finding in row["findings"]:
            groups.setdefault(finding["check"], []).append(finding)
        if not groups:
            parts.append('<p class="muted">No findings.</p>')
        for check in sorted(groups, key=lambda c: column[c]):
            parts.append('<div class="check" id="h%d-c%d"><h3>%s</h3>' % (i, column[check], _ec(check, 200)))
            parts.extend(_finding(f) for f in groups[check])
            parts.append("</div>")
        parts.append("</details>")
    parts.append("</section>")
    return "".join(parts)


def render_page(report: dict[str, Any], charts: list[tuple[dict[str, Any], str]], directory: str = "") -> str:
    """The HTML page of a fleet report (_fleet_report.build_fleet_report's document).

    ``charts`` are (series, svg) pairs from _trends, drawn in the order given; ``directory`` is
    where the page goes: links to the per-host reports are relative to it."""
    rows = report["matrix"]["rows"]
    checks = report["matrix"]["checks"]
    column = {check: j for j, check in enumerate(checks)}
    anchors = {
        (row["host"], check): "h%d-c%d" % (i, column[check]) for i, row in enumerate(rows) for check in row["cells"]
    }
    reports_of = {h["host"]: h["reports"] for h in report["hosts"]}
    title = "%s: %s (fleet report %s)" % (
        cut(report["run"], 80),
        report["summary"]["worst_severity"].upper(),
        report["generated_at"],
    )
    return "".join(
        [
            "<!DOCTYPE html>\n",
            '<html lang="en"><head><meta charset="utf-8">\n',
            '<meta http-equiv="Content-Security-Policy" content="%s">\n' % CSP,
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<link rel="icon" href="data:,">\n',
            "<title>%s</title>\n" % _e(title),
            "<style>%s</style></head>\n<body>\n" % _STYLE,
            _verdict(report),
            "\n<main>\n",
            _matrix(report, directory, reports_of),
            "\n",
            _problems(report, anchors),
            "\n",
            _alert(report),
            "\n",
            _timing(report),
            "\n",
            _trends(charts),
            "\n",
            _findings(report, directory),
            "\n</main>\n",
            "<footer>%s, generated %s by stronghold.ops.fleet_report.</footer>\n"
            % (_e(report["schema"]), _e(report["generated_at"])),
            "</body></html>\n",
        ]
    )
