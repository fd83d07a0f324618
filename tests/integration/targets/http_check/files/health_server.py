#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real HTTP server on loopback for the http_check tests; it stops by itself."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, document, delay=0.0):
        time.sleep(delay)
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/v1/health/":
            self._send(200, {"status": "healthy", "version": "test"})
        elif self.path == "/slow/":
            self._send(200, {"status": "healthy"}, delay=0.7)
        elif self.path == "/down/":
            self._send(503, {"status": "unhealthy", "database": "unreachable"})
        elif self.path == "/degraded/":
            self._send(200, {"status": "degraded"})
        elif self.path == "/hang/":
            time.sleep(30)
        else:
            self._send(404, {"detail": "not found"})


def main():
    port, lifetime = int(sys.argv[1]), float(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Timer(lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
