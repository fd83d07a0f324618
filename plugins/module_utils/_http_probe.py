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

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

# A health endpoint's body is small; read at most this much so a misrouted URL that streams
# a large file cannot exhaust memory.
MAX_BODY = 64 * 1024


def classify_error(exc):
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


def probe(url, timeout=10.0, validate_certs=True, ca_path=None, headers=None, method="GET"):
    """Perform one request. Never raises for network or HTTP failures.

    Returns ``{url, status, elapsed_ms, body, error, error_kind}``: ``status`` is the HTTP
    status when the server answered (also for 4xx/5xx), otherwise None with ``error`` set.
    """
    result = {"url": url, "status": None, "elapsed_ms": None, "body": "", "error": None, "error_kind": None}
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


def status_accepted(status, accepted):
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


def valid_status_spec(item):
    text = str(item).strip().lower()
    return bool(re.match(r"^[1-5]xx$", text)) or (text.isdigit() and 100 <= int(text) <= 599)


def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0
