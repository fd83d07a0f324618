# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health-URL rule and the probe loop of _http_probe, against a real local HTTP server."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import (
    probe_until_ok,
    status_accepted,
    url_problem,
    valid_status_spec,
)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/api/v1/health/", "https://app.example", "http://app:1/?x=1", "http://h#top"],
)
def test_health_urls_that_pass(url):
    assert url_problem(url, "health_url") is None


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:eighty/", "ftp://h/", "http://", "http://h:0/", "http://h:70000/", "h/health", None, 8000],
)
def test_health_urls_that_fail_name_the_option(url):
    problem = url_problem(url, "health_url")
    assert problem.startswith("health_url must be an http:// or https:// URL whose port, when given, is a number")
    assert repr(url) in problem


def test_status_specs():
    assert valid_status_spec("2xx") and valid_status_spec(204) and not valid_status_spec("600")
    assert status_accepted(204, ["2xx"]) and not status_accepted(None, ["2xx"])


class Handler(BaseHTTPRequestHandler):
    answers: list[int] = []

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        status = self.answers.pop(0) if self.answers else 200
        body = b'{"status": "healthy"}' if status == 200 else b"down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/health" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_probe_until_ok_retries_until_the_endpoint_answers(server):
    Handler.answers[:] = [503, 503, 200]
    slept = []
    result = probe_until_ok(server, ["2xx"], retries=5, interval=0.5, sleep=slept.append)
    assert result["ok"] and result["attempts"] == 3 and result["status"] == 200
    assert slept == [0.5, 0.5]


def test_probe_until_ok_says_why_it_gave_up(server):
    Handler.answers[:] = [500, 500]
    result = probe_until_ok(server, ["2xx"], retries=2, interval=0, sleep=lambda s: None)
    assert result == {"status": 500, "attempts": 2, "ok": False, "reason": "status 500"}
    Handler.answers[:] = []
    result = probe_until_ok(server, [200], re.compile("ready"), retries=1, sleep=lambda s: None)
    assert result["reason"] == "body does not match ready"
