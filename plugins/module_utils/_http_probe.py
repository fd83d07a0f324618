# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""One timed HTTP request, its failure classified, for health checks and health gates.

ansible.builtin.uri reports elapsed time in whole seconds, too coarse for the runbook's
500 ms threshold, so the probe times the request itself with a monotonic clock.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from http.client import HTTPException
from typing import Any, Callable, Iterable, Optional, Pattern
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

# A health endpoint's body is small; read at most this much so a misrouted URL that streams
# a large file cannot exhaust memory.
MAX_BODY = 64 * 1024


def url_problem(url: Any, name: str = "url") -> Optional[str]:
    """Why ``url`` cannot be checked over HTTP (the message names the option ``name``), or None.

    The one rule of the collection for a URL to probe (http_check's url, compose_rollback's
    health_url, the health role's health_url): http or https, a host, no white space, and a
    port from 1 to 65535 when there is one. IPv6 literals and user info pass, as urllib reads them.
    """
    problem = (
        "%s must be an http:// or https:// URL whose port, when given, is a number from 1 to 65535: %r is not a valid URL"
        % (name, url)
    )
    if not isinstance(url, str) or any(char.isspace() for char in url):
        return problem
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return problem
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return problem
    return None


def classify_error(exc: BaseException) -> str:
    """Name the kind of failure: dns, connect, timeout, tls or error."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return "dns"
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
        return "timeout"
    if isinstance(reason, ssl.SSLError) or isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(reason, (ConnectionError, OSError)):
        return "connect"
    return "error"


def probe(
    url: str,
    timeout: float = 10.0,
    validate_certs: bool = True,
    ca_path: Optional[str] = None,
    headers: Optional[dict[str, str]] = None,
    method: str = "GET",
) -> dict[str, Any]:
    """Perform one request. Never raises for network or HTTP failures.

    Returns ``{url, status, elapsed_ms, body, error, error_kind}``: ``status`` is the HTTP
    status when the server answered (also for 4xx/5xx), otherwise None with ``error`` set.
    """
    result: dict[str, Any] = {
        "url": url,
        "status": None,
        "elapsed_ms": None,
        "body": "",
        "error": None,
        "error_kind": None,
    }
    # Imported here, not at the top: ansible.module_utils.urls pulls in the TLS and x509 stack
    # (about 30-50 ms), which the modules that import this file only for its pure helpers
    # (compose_rollback's read-only plan) never need.
    from ansible.module_utils.urls import open_url

    start = time.monotonic()
    try:
        response = open_url(
            url,
            method=method,
            timeout=timeout,
            validate_certs=validate_certs,
            ca_path=ca_path,
            headers=headers or {},
            follow_redirects="none",
        )
        body = response.read(MAX_BODY)
        result["status"] = response.getcode()
    except HTTPError as exc:
        result["status"] = exc.code
        try:
            body = exc.read(MAX_BODY)
        except Exception:  # the server may have closed the body already; the status is what counts
            body = b""
    except (URLError, socket.error, ssl.SSLError, ValueError, HTTPException) as exc:
        result["elapsed_ms"] = round((time.monotonic() - start) * 1000.0, 1)
        result["error"] = str(getattr(exc, "reason", exc)) or exc.__class__.__name__
        result["error_kind"] = classify_error(exc)
        return result
    result["elapsed_ms"] = round((time.monotonic() - start) * 1000.0, 1)
    result["body"] = body.decode("utf-8", errors="replace")
    return result


def status_accepted(status: Optional[int], accepted: Iterable[Any]) -> bool:
    """True when ``status`` matches one of ``accepted``: codes (200) or classes ("2xx")."""
    if status is None:
        return False
    for item in accepted:
        text = str(item).strip().lower()
        if re.match(r"^[1-5]xx$", text):
            if str(status)[0] == text[0]:
                return True
        elif text.isdigit() and int(text) == status:
            return True
    return False


def valid_status_spec(item: Any) -> bool:
    text = str(item).strip().lower()
    return bool(re.match(r"^[1-5]xx$", text)) or (text.isdigit() and 100 <= int(text) <= 599)


def probe_until_ok(
    url: str,
    accepted: Iterable[Any],
    pattern: Optional[Pattern[str]] = None,
    retries: int = 10,
    interval: float = 2.0,
    timeout: float = 5.0,
    validate_certs: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Ask ``url`` up to ``retries`` times (at least once), ``interval`` seconds apart, until the
    status is accepted and the body matches ``pattern``: {status, attempts, ok, elapsed_ms or reason}."""
    accepted = list(accepted)
    last: dict[str, Any] = {}
    for attempt in range(1, max(retries, 1) + 1):
        last = probe(url, timeout=timeout, validate_certs=validate_certs)
        if status_accepted(last["status"], accepted) and (pattern is None or pattern.search(last["body"])):
            return {"status": last["status"], "attempts": attempt, "ok": True, "elapsed_ms": last["elapsed_ms"]}
        if attempt < retries:
            sleep(interval)
    reason = last["error"] or (
        "status %s" % last["status"]
        if not status_accepted(last["status"], accepted)
        else "body does not match %s" % (pattern.pattern if pattern else "")
    )
    return {"status": last["status"], "attempts": retries, "ok": False, "reason": reason}
