#!/usr/bin/env python
"""One process serving the lab certificates on loopback, a minimal HTTP answer per connection.

usage: tls_server.py DIR [PIDFILE]   (127.0.0.1:18443 valid, :18444 expiring, :18445 wronghost)
"""

import datetime as dt
import os
import signal
import socket
import ssl
import sys
import threading
from pathlib import Path

PORTS = {18443: "valid", 18444: "expiring", 18445: "wronghost"}


def log(msg):
    print(f"{dt.datetime.now().isoformat(timespec='seconds')} {msg}", flush=True)


def handle(conn, addr, ctx, name):
    conn.settimeout(10)
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            try:
                tls.recv(4096)
            except (OSError, ssl.SSLError):
                pass
            body = f"stronghold lab TLS endpoint: {name}\n".encode()
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
    except (OSError, ssl.SSLError) as exc:
        # Clients that reject the certificate (wronghost, strict expiry checks) end up here.
        log(f"{name} {addr[0]}:{addr[1]} handshake/IO ended: {exc}")
    finally:
        try:
            conn.close()
        except OSError:
            pass


def serve(port, name, certdir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certdir / f"{name}.pem", certdir / f"{name}.key")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    log(f"serving {name}.pem on 127.0.0.1:{port}")
    while True:
        conn, addr = srv.accept()
        threading.Thread(target=handle, args=(conn, addr, ctx, name), daemon=True).start()


def main():
    certdir = Path(sys.argv[1])
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threads = []
    for port, name in PORTS.items():
        t = threading.Thread(target=serve, args=(port, name, certdir), daemon=True)
        t.start()
        threads.append(t)
    while all(t.is_alive() for t in threads):
        for t in threads:
            t.join(1)
    log("a listener died; exiting")
    sys.exit(1)


if __name__ == "__main__":
    main()
