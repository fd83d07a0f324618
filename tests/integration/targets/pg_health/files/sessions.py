# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A session of the kind the application leaves behind, for pg_health to find.

    sessions.py KIND CONNINFO SECONDS

KIND: idle    - wrote a row and sits idle in transaction (backend_xid: holds the xmin horizon)
      locker  - holds an ACCESS EXCLUSIVE lock on public.pgh_lock, idle in transaction
      waiter  - reads public.pgh_lock, and so waits behind the locker
The session's application_name is pgh_KIND. It ends after SECONDS, or when the test terminates
it with pg_terminate_backend() (the script then exits with an error, as expected).
"""

from __future__ import annotations

import select
import sys
import time

import psycopg


def main():
    kind, conninfo, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    conn = psycopg.connect(conninfo, application_name="pgh_" + kind)
    if kind == "idle":
        conn.execute("INSERT INTO public.pgh_t VALUES (0)")
    elif kind == "locker":
        conn.execute("LOCK TABLE public.pgh_lock IN ACCESS EXCLUSIVE MODE")
    elif kind == "waiter":
        conn.execute("SET statement_timeout = %d" % int(seconds * 1000))
        conn.execute("SELECT count(*) FROM public.pgh_lock").fetchone()
    else:
        raise SystemExit("unknown kind %s" % kind)
    # Sleep until the deadline, or until the server closes the connection (pg_terminate_backend):
    # a plain sleep would keep the script alive long after its session ended.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readable, dummy, dummy = select.select([conn.fileno()], [], [], 0.5)
        if readable:
            raise SystemExit("the session was ended by the server")
    conn.rollback()


if __name__ == "__main__":
    main()
