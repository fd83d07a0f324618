# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load a fleet report page in headless Chromium and check that it renders, offline and clean.

    python3 tests/browser/check_page.py PAGE.html --screenshot OUT.png [--expect-cells N] [--expect-charts N]
        [--chromium /usr/bin/chromium] [--timeout SECONDS]

Starts Debian's chromium headless with a fresh profile and no network helpers, drives it over
the DevTools protocol on a pipe (``--remote-debugging-pipe``: no port, no driver, no download,
no dependency beyond the standard library), loads the page from disk (``file://``) and fails
(exit 1, every reason on stderr) when:

* the console shows an error or an exception, or the browser logs an error (a load refused by
  the page's Content-Security-Policy is one);
* a load fails, or the page asks for anything that is not the page itself or a ``data:`` URL;
* ``table#matrix`` is missing or renders empty, its ``td.cell`` count is not ``--expect-cells``,
  or a cell's link leads to no element;
* a ``section#trends svg.trend`` renders with a zero width or height, or their count is not
  ``--expect-charts``;
* a cell's link to findings inside a closed ``<details>`` does not reveal them when clicked
  (checked after the screenshot, on the first such cell).

It always saves a full-page screenshot (PNG, the first 16000 pixels of a longer page) when the
page loaded, and prints one JSON line on stdout: ``ok``, ``errors``, what it measured and the
screenshot's path. Exit 2: the browser could not be started or driven within ``--timeout``.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import pathlib
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]
VIEWPORT = (1400, 900)
MAX_SHOT_HEIGHT = 16000
# Schemes a self-contained page may load: itself, data: URLs, and about:blank before it.
LOCAL_SCHEMES = ("file:", "data:", "about:")

MEASURE = r"""
(() => {
  const m = document.querySelector('table#matrix');
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const cells = m ? Array.from(m.querySelectorAll('td.cell')) : [];
  const classes = {};
  for (const c of cells) for (const k of c.classList) if (k !== 'cell') classes[k] = (classes[k] || 0) + 1;
  const links = Array.from(document.querySelectorAll('td.cell a[href^="#"]'));
  const dangling = links.filter((a) => !document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1))));
  const worst = document.querySelector('#verdict .worst');
  return {
    title: document.title,
    verdict: worst ? worst.textContent : null,
    matrix: m ? box(m) : null,
    cells: cells.length,
    cell_classes: classes,
    cell_links: links.length,
    dangling_links: dangling.slice(0, 5).map((a) => a.getAttribute('href')),
    trends_section: !!document.querySelector('section#trends'),
    charts: Array.from(document.querySelectorAll('section#trends svg.trend')).map(box),
    scripts: document.scripts.length,
    size: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  };
})()
"""


# After the screenshot: a cell whose findings sit in a closed <details> is clicked; the browser must
# reveal them (open the details, give the target a size): the details are one click away.
REVEAL = r"""
new Promise((done) => {
  const hidden = (e) => e.parentElement && e.parentElement.closest('details:not([open])');
  const link = Array.from(document.querySelectorAll('td.cell a[href^="#"]')).find((a) => {
    const target = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
    return target && hidden(target);
  });
  if (!link) { done(null); return; }
  const target = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
  link.click();
  setTimeout(() => {
    const r = target.getBoundingClientRect();
    done({href: link.getAttribute('href'), revealed: !hidden(target) && r.height > 0});
  }, 500);
})
"""


class BrowserError(Exception):
    """The browser could not be started or stopped answering."""


class Pipe:
    """The DevTools protocol over Chromium's fds 3 (commands in) and 4 (messages out), NUL-separated JSON."""

    def __init__(self, proc, to_browser, from_browser):
        self.proc = proc
        self.to_browser = to_browser
        self.messages = queue.Queue()
        self.events = []
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, args=(from_browser,), daemon=True)
        self.reader.start()

    def _read(self, fd):
        buffer = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self.messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                try:
                    self.messages.put(json.loads(raw.decode("utf-8", "replace")))
                except ValueError:
                    continue

    def call(self, method, params=None, session=None, deadline=None):
        self.next_id += 1
        wanted = self.next_id
        message = {"id": wanted, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self.to_browser, json.dumps(message).encode("utf-8") + b"\0")
        except OSError as exc:
            raise BrowserError("cannot send %s to the browser: %s" % (method, exc)) from exc
        while True:
            got = self._next(deadline, method)
            if got.get("id") == wanted:
                if "error" in got:
                    raise BrowserError("%s failed: %s" % (method, got["error"].get("message", got["error"])))
                return got.get("result", {})

    def wait_event(self, name, deadline):
        while True:
            for event in self.events:
                if event.get("method") == name:
                    return event
            self._next(deadline, name)

    def drain(self, seconds):
        """Collect the events that arrive within ``seconds`` (late console errors, late loads)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                got = self.messages.get(timeout=left)
            except queue.Empty:
                return
            if got is None:
                raise BrowserError("the browser went away")
            if "method" in got:
                self.events.append(got)

    def _next(self, deadline, waiting_for):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from the browser to %s in time" % waiting_for)
            try:
                got = self.messages.get(timeout=min(left, 1.0))
            except queue.Empty:
                got = False
            if got is False:
                if self.proc.poll() is not None:
                    raise BrowserError(
                        "the browser exited (status %s) while waiting for %s" % (self.proc.returncode, waiting_for)
                    )
                continue
            if got is None:
                raise BrowserError("the browser closed the pipe while waiting for %s" % waiting_for)
            if "method" in got:
                self.events.append(got)
                return got
            return got


def start_browser(chromium, profile):
    to_read, to_browser = os.pipe()  # the browser reads commands on fd 3
    from_browser, to_write = os.pipe()  # and writes messages on fd 4

    def child_fds():
        # Out of the way first: either end may itself be fd 3 or 4.
        high_read = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10)
        high_write = fcntl.fcntl(to_write, fcntl.F_DUPFD, 10)
        os.dup2(high_read, 3)
        os.dup2(high_write, 4)

    argv = [chromium] + FLAGS + ["--user-data-dir=" + profile, "--window-size=%d,%d" % VIEWPORT, "about:blank"]
    log = open(os.path.join(os.path.dirname(profile), "chromium.log"), "wb")
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # fds 3 and 4 are made in child_fds; every other descriptor of this process is
            # non-inheritable (Python's default), so nothing else reaches the browser.
            close_fds=False,
            preexec_fn=child_fds,
            start_new_session=True,
        )
    except OSError as exc:
        raise BrowserError("cannot start %s: %s" % (chromium, exc)) from exc
    finally:
        log.close()
        os.close(to_read)
        os.close(to_write)
    return Pipe(proc, to_browser, from_browser)


def stop_browser(pipe, deadline):
    try:
        pipe.call("Browser.close", deadline=min(deadline, time.monotonic() + 10))
    except BrowserError:
        pass
    try:
        pipe.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if pipe.proc.poll() is None:
        try:
            os.killpg(pipe.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pipe.proc.wait(timeout=30)
    os.close(pipe.to_browser)


def log_tail(work):
    try:
        with open(os.path.join(work, "chromium.log"), "rb") as handle:
            return handle.read()[-1500:].decode("utf-8", "replace").strip() or "(nothing)"
    except OSError:
        return "(no log)"


def problems_of(events):
    """Console errors, exceptions, browser log errors, failed loads and external requests."""
    found = []
    for event in events:
        method = event.get("method")
        params = event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            found.append("console %s: %s" % (params["type"], " ".join(texts)[:500]))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            found.append("exception: %s" % str(text)[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(
                "console error (%s): %s %s" % (entry.get("source"), entry.get("text", "")[:500], entry.get("url", ""))
            )
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(LOCAL_SCHEMES):
                found.append("request to %s (a self-contained page loads nothing)" % url[:300])
        elif method == "Network.loadingFailed":
            reason = params.get("blockedReason") or params.get("errorText")
            found.append("load failed (%s, request %s): %s" % (params.get("type"), params.get("requestId"), reason))
        elif method == "Network.responseReceived":
            status = params.get("response", {}).get("status") or 0
            if status >= 400:
                found.append("load failed: %s answered %s" % (params["response"].get("url", "")[:300], status))
        elif method in ("Inspector.targetCrashed", "Target.targetCrashed"):
            found.append("the page crashed")
    return found


def check(measured, expect_cells, expect_charts):
    errors = []
    if measured["matrix"] is None:
        if expect_cells:
            errors.append("no table#matrix in the page")
    elif measured["matrix"][0] <= 0 or measured["matrix"][1] <= 0:
        errors.append("table#matrix renders with size %s" % measured["matrix"])
    if expect_cells is not None and measured["cells"] != expect_cells:
        errors.append("table#matrix has %d td.cell, expected %d" % (measured["cells"], expect_cells))
    if measured["dangling_links"]:
        errors.append("cell links lead nowhere: %s" % ", ".join(measured["dangling_links"]))
    if not measured["trends_section"]:
        errors.append("no section#trends in the page")
    flat = [i for i, (w, h) in enumerate(measured["charts"]) if not (w > 0 and h > 0)]
    if flat:
        errors.append("svg.trend %s render with a zero size" % ", ".join(str(i) for i in flat))
    if expect_charts is not None and len(measured["charts"]) != expect_charts:
        errors.append("section#trends has %d svg.trend, expected %d" % (len(measured["charts"]), expect_charts))
    return errors


def run(args):
    deadline = time.monotonic() + args.timeout
    page = os.path.abspath(args.page)
    if not os.path.isfile(page):
        raise BrowserError("no page at %s" % page)
    url = pathlib.Path(page).as_uri()
    work = tempfile.mkdtemp(prefix="check-page.")
    profile = os.path.join(work, "profile")
    os.mkdir(profile)
    result = {"page": page, "ok": False, "errors": [], "screenshot": None}
    pipe = start_browser(args.chromium, profile)
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True}, deadline=deadline)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network", "Inspector"):
            pipe.call(domain + ".enable", session=session, deadline=deadline)
        pipe.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
            session=session,
            deadline=deadline,
        )
        pipe.events.clear()
        navigated = pipe.call("Page.navigate", {"url": url}, session=session, deadline=deadline)
        if navigated.get("errorText"):
            result["errors"].append("cannot load %s: %s" % (url, navigated["errorText"]))
        else:
            pipe.wait_event("Page.loadEventFired", deadline)
            pipe.drain(min(1.0, max(0.0, deadline - time.monotonic())))
            measured = pipe.call(
                "Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session=session, deadline=deadline
            )
            if "exceptionDetails" in measured:
                raise BrowserError("the measuring script failed: %s" % measured["exceptionDetails"].get("text"))
            result["measured"] = measured["result"]["value"]
            result["errors"].extend(check(result["measured"], args.expect_cells, args.expect_charts))
            metrics = pipe.call("Page.getLayoutMetrics", session=session, deadline=deadline)
            size = metrics.get("cssContentSize") or metrics.get("contentSize")
            width = max(1, int(min(size["width"], 8000)))
            height = max(1, int(min(size["height"], MAX_SHOT_HEIGHT)))
            shot = pipe.call(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                },
                session=session,
                deadline=deadline,
            )
            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            with open(args.screenshot, "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
            result["screenshot"] = os.path.abspath(args.screenshot)
            result["screenshot_size"] = [width, height]
            revealed = pipe.call(
                "Runtime.evaluate",
                {"expression": REVEAL, "returnByValue": True, "awaitPromise": True},
                session=session,
                deadline=deadline,
            )
            result["reveal"] = revealed.get("result", {}).get("value")
            if result["reveal"] and not result["reveal"]["revealed"]:
                result["errors"].append("the link %s did not reveal its findings" % result["reveal"]["href"])
        pipe.drain(0.2)
        result["errors"] = problems_of(pipe.events) + result["errors"]
    except BrowserError as exc:
        raise BrowserError("%s; the browser's log ends with: %s" % (exc, log_tail(work))) from exc
    finally:
        stop_browser(pipe, deadline)
        shutil.rmtree(work, ignore_errors=True)
    result["ok"] = not result["errors"]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("page")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--expect-cells", type=int)
    parser.add_argument("--expect-charts", type=int)
    parser.add_argument("--chromium", default=os.environ.get("STRONGHOLD_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=float, default=240.0, help="for the whole check (default 240 s)")
    args = parser.parse_args(argv)
    try:
        result = run(args)
    except BrowserError as exc:
        print(json.dumps({"page": args.page, "ok": False, "errors": ["browser: %s" % exc]}))
        print("check_page: %s" % exc, file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True))
    for error in result["errors"]:
        print("check_page: %s" % error, file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
