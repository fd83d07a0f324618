"""The tiny service of the compose_rollback integration target.

Serves GET /health on 127.0.0.1:$PORT: JSON {"version": $VERSION}, with status
$HEALTH_STATUS (200 in the healthy images, 500 in crtest:bad). GET /slow answers 200 after
4 s (a health URL that keeps a run, and so the project lock, busy for a while).

Two releases can listen at once (compose_rollback strategy start_first): the shared
127.0.0.1:$PORT is bound with SO_REUSEPORT, and each container also listens on an address of
its own, 127.A.B.C:$PORT drawn at start (127.0.0.0/8 is loopback), written to /tmp/own-addr.
`server.py --check` is the Docker healthcheck: it asks that own address, so it judges this
container and never the other release.
"""

import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
VERSION = os.environ["VERSION"]
STATUS = int(os.environ.get("HEALTH_STATUS", "200"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/health"):
            self.answer(STATUS, {"version": VERSION, "status": "ok" if STATUS == 200 else "broken"})
        elif self.path.startswith("/slow"):
            time.sleep(4)
            self.answer(STATUS, {"version": VERSION, "slow": True})
        else:
            self.answer(404, {"error": "not found"})

    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SharedServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def check():
    with open("/tmp/own-addr", encoding="ascii") as handle:
        host = handle.read().strip()
    # Under the healthcheck's own timeout (10 s), so a slow answer is reported by this probe.
    connection = http.client.HTTPConnection(host, PORT, timeout=8)
    connection.request("GET", "/health")
    sys.exit(0 if connection.getresponse().status == 200 else 1)


if sys.argv[1:] == ["--check"]:
    check()

# PID 1 in the container: without a handler SIGTERM would be ignored and every recreate
# would wait for the stop timeout.
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
own = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))
own_server = SharedServer((own, PORT), Handler)
with open("/tmp/own-addr", "w", encoding="ascii") as out:
    out.write(own)
threading.Thread(target=own_server.serve_forever, daemon=True).start()
SharedServer(("127.0.0.1", PORT), Handler).serve_forever()
