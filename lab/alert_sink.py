#!/usr/bin/env python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's alert receivers, on loopback only: where the report role's mail and webhook land.

* an SMTP server (aiosmtpd) that stores every message it accepts as one JSON line in
  <dir>/mail.jsonl; with --auth USER:PASSWORD it offers STARTTLS (a throwaway trustme
  certificate) and requires AUTH after it, as a real relay would;
* an HTTP server that stores every POST (path, headers, body) as one JSON line in
  <dir>/webhook.jsonl and answers 200, or 500 on /fail (a receiver that is broken).

It writes its pid to <dir>/ready when both listen, and runs until it is terminated.
Used by `make lab` (ports 18025 and 18026) and by the alerts_role integration target.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import threading
import warnings
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

_LOCK = threading.Lock()
# aiosmtpd 1.4 warns about its own use of a deprecated attribute at each AUTH.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


def _append(path: str, record: dict) -> None:
    with _LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


class MailHandler:
    def __init__(self, path: str) -> None:
        self.path = path

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        _append(
            self.path,
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "subject": str(message["Subject"]),
                "to": str(message["To"]),
                "headers": {k: str(v) for k, v in message.items()},
                "body": body.get_content() if body is not None else "",
                "tls": session.ssl is not None,
                "authenticated": bool(session.authenticated),
            },
        )
        return "250 OK"


def make_authenticator(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok)

    return authenticator


def make_http_handler(path: str):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            _append(path, {"path": self.path, "headers": dict(self.headers.items()), "body": body})
            status = 500 if self.path == "/fail" else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok\n" if status == 200 else b"receiver broken on purpose\n")

        def do_GET(self):  # noqa: N802 (a liveness probe, not recorded)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"alert sink\n")

        def log_message(self, *args):
            return

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--auth", help="USER:PASSWORD: offer STARTTLS and require AUTH")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    secure: dict = {}
    if args.auth:
        import trustme  # only the tests' relay needs a certificate

        user, password = args.auth.split(":", 1) if ":" in args.auth else (args.auth, "")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        trustme.CA().issue_cert("127.0.0.1", "localhost").configure_cert(context)
        secure = {
            "tls_context": context,
            "require_starttls": True,
            "authenticator": make_authenticator(user, password),
            "auth_required": True,
            "auth_require_tls": True,
        }
    smtp = Controller(
        MailHandler(os.path.join(args.dir, "mail.jsonl")), hostname="127.0.0.1", port=args.smtp_port, **secure
    )
    smtp.start()
    http = ThreadingHTTPServer(
        ("127.0.0.1", args.http_port), make_http_handler(os.path.join(args.dir, "webhook.jsonl"))
    )
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with open(os.path.join(args.dir, "ready"), "w", encoding="utf-8") as handle:
        handle.write("%d\n" % os.getpid())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    http.shutdown()
    smtp.stop()


if __name__ == "__main__":
    main()
