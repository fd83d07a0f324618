#!/usr/bin/env python
"""Stands in for pg_dump or psql (by the name it is called under) in the "pg_restore killed at a
step" cases of the pg_restore target.

Runs the real program ($REAL_PG_BIN/<name>) with the same arguments and passes the first
$STALL_AFTER_BYTES bytes of the stream on (pg_dump's output to the module, or the module's SQL
to psql), then creates the file $STALL_FLAG and stalls: the module is caught in the middle of
that step, with a real pg_dump running or a real psql transaction open, so the test can kill it
there. With $STALL_GO set, it carries on once that file exists instead of stalling for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def main():
    name = os.path.basename(sys.argv[0])
    real = os.path.join(os.environ["REAL_PG_BIN"], name)
    limit = int(os.environ.get("STALL_AFTER_BYTES", "1024"))
    if name == "pg_dump":
        proc = subprocess.Popen([real] + sys.argv[1:], stdout=subprocess.PIPE)  # pylint: disable=consider-using-with
        source, sink = proc.stdout, sys.stdout.buffer
    else:
        proc = subprocess.Popen([real] + sys.argv[1:], stdin=subprocess.PIPE)  # pylint: disable=consider-using-with
        source, sink = sys.stdin.buffer, proc.stdin
    copied = 0
    while copied < limit:
        chunk = source.read(min(65536, limit - copied))
        if not chunk:
            break
        sink.write(chunk)
        copied += len(chunk)
    sink.flush()
    with open(os.environ["STALL_FLAG"], "w", encoding="utf-8") as flag:
        flag.write("%d\n" % os.getpid())
    go = os.environ.get("STALL_GO")
    if not go:
        while True:
            signal.pause()
    while not os.path.exists(go):
        time.sleep(0.05)
    while True:
        chunk = source.read(65536)
        if not chunk:
            break
        sink.write(chunk)
    sink.close()
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
