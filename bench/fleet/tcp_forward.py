#!/usr/bin/env python3
"""Tiny TCP forwarder for the fleet probe: listen LISTEN_HOST:PORT, forward to TARGET_HOST:PORT.

Used in the root namespace to expose a 127.0.0.1-only service on a fleet
host's root-side veth address (10.251.<i>.1) without changing the root
namespace's firewall.  usage: tcp_forward.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT
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


async def main(lh, lp, th, tp):
    async def handle(r1, w1):
        try:
            r2, w2 = await asyncio.open_connection(th, tp)
        except OSError:
            w1.close()
            return
        await asyncio.gather(pipe(r1, w2), pipe(r2, w1), return_exceptions=True)

    server = await asyncio.start_server(handle, lh, lp)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    lh, lp, th, tp = sys.argv[1:5]
    asyncio.run(main(lh, int(lp), th, int(tp)))
