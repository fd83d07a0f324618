"""The tiny service of the compose_rollback integration target.

Serves GET /health on 127.0.0.1:$PORT: JSON {"version": $VERSION}, with status
$HEALTH_STATUS (200 in the healthy images, 500 in crtest:bad). GET /slow answers 200 after
4 s (a health URL that keeps a run, and so the project lock, busy for a while).
"""
import json
import os
import signal
import sys
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


# PID 1 in the container: without a handler SIGTERM would be ignored and every recreate
# would wait for the stop timeout.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
