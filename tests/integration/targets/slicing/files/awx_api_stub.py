# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in of the AWX API endpoints playbooks/combine.yml reads (not a real AWX).

    python awx_api_stub.py ROUTES.json TOKEN PORT_FILE ASKED_FILE

Serves GET <path> from ROUTES.json (path -> JSON body; the query string is ignored) on a free
loopback port, which it writes to PORT_FILE; refuses a request without "Authorization: Bearer
TOKEN" with 401; appends every path asked to ASKED_FILE. Runs in a process of its own (the test
forks ansible-runner; a server thread in the test's process would make that fork unsafe).
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES_FILE, TOKEN, PORT_FILE, ASKED_FILE = sys.argv[1:5]
with open(ROUTES_FILE, encoding="utf-8") as handle:
    ROUTES = json.load(handle)


class Api(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's hook name)
        with open(ASKED_FILE, "a", encoding="utf-8") as asked:
            asked.write(self.path + "\n")
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.send_response(401)
            self.end_headers()
            return
        body = ROUTES.get(self.path.split("?", 1)[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body if body is not None else {"detail": "Not found."}).encode())

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
with open(PORT_FILE + ".tmp", "w", encoding="utf-8") as handle:
    handle.write(str(server.server_address[1]))
os.replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
