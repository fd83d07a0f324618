# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report's HTML page (_fleet_html.render_page) checked on the string: self-contained, escaped,
the matrix and its links, the sections, long texts, and the size of a 200-host page."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser

from ansible_collections.stronghold.ops.plugins.module_utils._fleet_html import CSP, render_page
from ansible_collections.stronghold.ops.plugins.module_utils._fleet_report import (
    build_fleet_report,
    read_hosts,
    read_run_findings,
    trend_entry,
)

NOW = datetime(2026, 11, 27, 10, 15, 0, tzinfo=timezone.utc)
EVIL = "<script>alert('x')</script>\"&'"


def finding(check, target, severity, summary="s", details=None):
    return {"check": check, "target": target, "severity": severity, "summary": summary, "details": details or {}}


def fleet():
    return [
        {
            "host": "web1",
            "findings": [
                finding("health.http", "http://127.0.0.1/", "ok", "200 in 30 ms"),
                finding(
                    "resources.disk", "/", "warning", "disk 88 % used", {"used_percent": 88.1, "lines": ["a", "b<c"]}
                ),
            ],
            "reports": {"markdown": "/r/web1/daily/latest.md", "json": "/r/web1/daily/latest.json"},
        },
        {"host": "db1", "findings": [finding("postgres.connections", "main", "critical", "97 of 100 used")]},
        {"host": "db2", "status": "down", "reason": "unreachable (ssh timeout)"},
    ]


def page(hosts=None, run_findings=(), charts=(), alert=None, metadata=None, directory="/r/_fleet/daily"):
    report = build_fleet_report(
        read_hosts(fleet() if hosts is None else hosts),
        read_run_findings(list(run_findings)),
        "daily",
        "critical",
        metadata or {},
        alert,
        NOW,
        trends=[trend_entry(series) for series, _svg in charts],
    )
    return render_page(report, list(charts), directory)


class Structure(HTMLParser):
    """Tags, ids, hrefs and the classes of td.cell elements of a page; fails on unbalanced tags."""

    VOID = {"meta", "link", "br", "img", "input", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.ids = []
        self.hrefs = []
        self.cells = []
        self.tags = []
        self.text = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "td" and "cell" in (attrs.get("class") or "").split():
            self.cells.append(attrs["class"])
        if tag not in self.VOID:
            self.stack.append(tag)
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, "unbalanced </%s> after %s" % (tag, self.stack[-3:])
        self.stack.pop()
        self.in_style = False

    def handle_data(self, data):
        if not self.in_style:
            self.text.append(data)


def parse(text):
    parser = Structure()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    return parser


def test_the_page_is_self_contained():
    text = page(charts=[({"key": "k", "title": "t"}, '<svg class="trend" width="10" height="10"></svg>')])
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP in text
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert '<link rel="icon" href="data:,">' in text
    assert "<script" not in text
    assert not re.search(r"(?i)(https?:|ftp:|//[a-z0-9])", text.replace("http://127.0.0.1/", ""))
    assert not re.search(r"(?i)\b(src|srcset|action|xlink:href)=", text)
    assert "@import" not in text and "url(" not in text
    structure = parse(text)
    for tag, attrs in structure.tags:
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")


def test_every_text_is_escaped():
    hosts = [
        {
            "host": EVIL,
            "findings": [finding(EVIL, EVIL, "critical", EVIL, {EVIL: EVIL, "lines": [EVIL]})],
            "reports": {"markdown": "/r/x/daily/<script>.md"},
        }
    ]
    alert = {"subject": EVIL, "recipients": [EVIL], "errors": {"smtp": EVIL}}
    text = page(
        hosts=hosts,
        run_findings=[finding("alert.delivery", EVIL, "warning", EVIL)],
        alert=alert,
        metadata={"playbook": EVIL, "awx_job_id": EVIL},
    )
    assert "<script" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;&#x27;" in text
    parse(text)


def test_the_matrix_has_a_cell_per_host_and_check_with_a_link_to_its_findings():
    text = page(run_findings=[finding("alert.delivery", "smtp", "warning", "refused")])
    structure = parse(text)
    # rows: db2 (down), db1 (critical), (run) (warning), web1; columns: 5 checks
    assert len(structure.cells) == 4 * 5
    assert structure.cells.count("cell none") == 4 * 5 - 5
    assert sorted(c for c in structure.cells if c != "cell none") == [
        "cell sev-critical",
        "cell sev-critical",
        "cell sev-ok",
        "cell sev-warning",
        "cell sev-warning",
    ]
    assert '<table id="matrix">' in text
    assert re.search(
        r'<tr class="row sev-critical down"><th class="host" scope="row" title="db2"><a href="#h0">db2</a> '
        r'<span class="tag">down</span>',
        text,
    )
    ids = set(structure.ids)
    internal = [h[1:] for h in structure.hrefs if h.startswith("#")]
    assert internal and all(target in ids for target in internal)
    assert len(ids) == len(structure.ids), "ids are unique"
    for section in ("verdict", "matrix", "problems", "problem-list", "alert", "trends", "findings"):
        assert section in ids


def test_the_verdict_names_the_worst_the_counts_and_the_down_host():
    text = page(metadata={"playbook": "daily.yml", "awx_job_id": 4242, "check_mode": False})
    verdict = text[text.index('<header id="verdict"') : text.index("</header>")]
    assert 'class="sev-critical"' in verdict
    assert "CRITICAL" in verdict
    assert '<span class="badge sev-critical">2 critical</span>' in verdict
    assert "<dt>hosts down</dt><dd>1</dd>" in verdict
    assert "<dt>AWX job</dt><dd>4242</dd>" in verdict
    assert "<dt>playbook</dt><dd>daily.yml</dd>" in verdict
    assert "<strong>db2</strong> is down: unreachable (ssh timeout)" in verdict
    # sections in the order a person reads them
    order = [
        text.index(s)
        for s in ('id="verdict"', 'id="matrix"', 'id="problems"', 'id="alert"', 'id="trends"', 'id="findings"')
    ]
    assert order == sorted(order)


def test_problems_come_first_critical_before_warning_and_link_to_their_cell():
    structure = parse(page())
    text = "".join(structure.text)
    problems = text[text.index("Act on these first") : text.index("Alert")]
    assert problems.index("CRITICAL db2 run.host") < problems.index("CRITICAL db1 postgres.connections")
    assert problems.index("CRITICAL db1") < problems.index("WARNING web1 resources.disk")


def test_findings_are_grouped_by_host_with_details_and_report_links():
    text = page()
    assert '<details class="host" id="h0" open>' in text  # db2, down
    assert '<details class="host" id="h1" open>' in text  # db1, critical
    assert '<details class="host" id="h2">' in text  # web1, a warning: closed
    web1 = text[text.index('<details class="host" id="h2"') :]
    web1 = web1[: web1.index("</details></section>")]
    assert '<a href="../../web1/daily/latest.json">json</a>' in web1
    assert '<a href="../../web1/daily/latest.md">markdown</a>' in web1
    assert "<tr><th>lines</th><td><pre>a\nb&lt;c</pre></td></tr>" in web1
    assert "<tr><th>used_percent</th><td>88.1</td></tr>" in web1


def test_down_and_critical_hosts_are_open_the_others_closed():
    hosts = [
        {"host": "down", "status": "down"},
        {"host": "critical", "findings": [finding("a.b", "t", "critical")]},
        {"host": "warning", "findings": [finding("a.b", "t", "warning")]},
        {"host": "good", "findings": [finding("a.b", "t", "ok")]},
    ]
    text = page(hosts=hosts)
    assert '<details class="host" id="h0" open>' in text
    assert '<details class="host" id="h1" open>' in text
    assert '<details class="host" id="h2">' in text
    assert '<details class="host" id="h3">' in text


def test_long_texts_are_cut_in_lines_and_kept_whole_in_the_details():
    huge = "x" * (1024 * 1024)
    hosts = [{"host": "h" * 5000, "findings": [finding("c" * 5000, huge, "critical", huge, {"output": huge})]}]
    text = page(hosts=hosts)
    parse(text)
    # the target and summary once each inside the details, the output once: about 3 MB, not more
    assert 3 * len(huge) < len(text) < 3 * len(huge) + 100_000
    matrix = text[text.index('<table id="matrix">') : text.index("</table>")]
    assert len(matrix) < 2000
    problem_list = text[text.index('<ol id="problem-list">') : text.index("</ol>")]
    assert len(problem_list) < 2000
    assert "more characters)" in problem_list


def test_alert_section_says_whether_it_was_delivered():
    text = page(
        alert={
            "subject": "CRITICAL: Financial Stronghold Alert",
            "recipients": ["ops@example.com"],
            "delivered": ["webhook"],
            "errors": {"smtp": "connection refused"},
        }
    )
    alert = text[text.index('<section id="alert">') : text.index('<section id="trends">')]
    assert (
        '<span class="sev sev-critical">NOT delivered ({&quot;smtp&quot;: &quot;connection refused&quot;}); ' in alert
    )
    assert "<tr><th>subject</th><td>CRITICAL: Financial Stronghold Alert</td></tr>" in alert
    assert "<tr><th>recipients</th><td><pre>ops@example.com</pre></td></tr>" in alert
    assert "no alert step ran" in page()


def test_trends_show_the_charts_and_mark_those_getting_worse():
    charts = [
        (
            {"key": "disk|web1|/", "title": "disk used of / on web1", "unit": "%", "worsening": True},
            '<svg class="trend" width="240" height="64"><title>disk</title></svg>',
        ),
        ({"key": "tls|web1|x", "title": "days left"}, '<svg class="trend" width="240" height="64"></svg>'),
        ({"key": "broken"}, "not an svg"),
    ]
    text = page(charts=charts)
    trends = text[text.index('<section id="trends">') : text.index('<section id="findings">')]
    assert trends.count('<svg class="trend"') == 2
    assert trends.count('<figure class="chart') == 2
    assert '<p class="worse-note">Getting worse: disk used of / on web1</p>' in trends
    assert '<figure class="chart worse"><figcaption>disk used of / on web1 <span class="muted">(%)</span>' in trends
    assert "not an svg" not in trends
    assert "No trends" in page()


def test_an_empty_run_renders():
    text = page(hosts=[])
    parse(text)
    assert "No hosts in this run." in text
    assert "No warning or critical finding." in text


def test_200_hosts_by_60_checks_render_one_cell_each_in_a_bounded_page():
    checks = ["area%02d.check" % c for c in range(60)]
    severities = ("ok", "ok", "ok", "info", "warning", "critical")
    hosts = [
        {
            "host": "host%03d.example.com" % h,
            "findings": [
                finding(check, "/t", severities[(h * 7 + c) % 6], "summary %d" % c) for c, check in enumerate(checks)
            ],
            "reports": {"markdown": "/r/host%03d/daily/latest.md" % h},
        }
        for h in range(200)
    ]
    text = page(hosts=hosts)
    structure = parse(text)
    assert len(structure.cells) == 200 * 60
    assert structure.cells.count("cell none") == 0
    assert len(set(structure.ids)) == len(structure.ids)
    assert sum(1 for tag, attrs in structure.tags if tag == "details" and "finding" in attrs.get("class", "")) == 12000
    # about 8 MB at most: a browser opens it at once
    assert len(text) < 8 * 1024 * 1024
