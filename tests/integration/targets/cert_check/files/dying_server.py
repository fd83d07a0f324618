#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server that goes away mid-run: it listens on a free port of 127.0.0.1, writes the port to
PORTFILE, accepts connections without answering TLS, and exits (the kernel then closes every
connection) DELAY seconds after the first one, or after 60 s when nobody comes.

    dying_server.py PORTFILE [DELAY]
"""

import os
import socket
import sys
import time


def main():
    port_file, delay = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(port_file + ".tmp", "w") as handle:
        handle.write("%d\n" % listener.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    listener.settimeout(60)
    held = []
    try:
        held.append(listener.accept()[0])
    except OSError:
        os._exit(0)
    end = time.monotonic() + delay
    listener.settimeout(0.05)
    while time.monotonic() < end:
        try:
            held.append(listener.accept()[0])
        except OSError:
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
