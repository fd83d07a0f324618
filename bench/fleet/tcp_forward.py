# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP forwarder of the fleet bench: one process, one listener per (address, port).

usage: tcp_forward.py TARGET_HOST ADDRS PORTS [READY_FILE]
  ADDRS  comma-separated listen addresses (the fleet's root-side veth addresses 10.251.<i>.1)
  PORTS  comma-separated ports; each ADDR:PORT is forwarded to TARGET_HOST:PORT

Run in the root namespace by `fleet_hosts.sh up N --services`: it exposes the lab's
127.0.0.1-only services on each fleet host's root-side veth address without any rule in the
root namespace's netfilter (the NAT that makes them the host's own 127.0.0.1:<port> lives inside
each namespace). READY_FILE is written once every listener is bound.
"""

import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main(target, addrs, ports, ready):
    def handler(port):
        async def handle(r1, w1):
            try:
                r2, w2 = await asyncio.open_connection(target, port)
            except OSError:
                w1.close()
                return
            await asyncio.gather(pipe(r1, w2), pipe(r2, w1), return_exceptions=True)

        return handle

    servers = [await asyncio.start_server(handler(p), a, p, reuse_address=True) for a in addrs for p in ports]
    if ready:
        with open(ready, "w") as f:
            f.write("%d listeners\n" % len(servers))
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    target, addrs, ports = sys.argv[1:4]
    asyncio.run(
        main(target, addrs.split(","), [int(p) for p in ports.split(",")], sys.argv[4] if len(sys.argv) > 4 else None)
    )
