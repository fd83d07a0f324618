#!/usr/bin/env python
"""Stands in for pg_dump in the "pg_dump killed midway" case of the pg_backup target.

Runs the real pg_dump ($REAL_PG_DUMP) with the same arguments, passes the first
$KILL_AFTER_BYTES bytes of its output on, then kills it with SIGKILL and dies of SIGKILL
itself: what the module sees is a pg_dump killed in the middle of its output (as by the OOM
killer or an operator), with a real partial dump already written to its pipe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def main():
    limit = int(os.environ.get("KILL_AFTER_BYTES", "1048576"))
    real = subprocess.Popen([os.environ["REAL_PG_DUMP"]] + sys.argv[1:], stdout=subprocess.PIPE)  # pylint: disable=consider-using-with
    out = sys.stdout.buffer
    copied = 0
    while copied < limit:
        chunk = real.stdout.read(min(65536, limit - copied))
        if not chunk:
            break
        out.write(chunk)
        copied += len(chunk)
    out.flush()
    real.kill()
    real.wait()
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
