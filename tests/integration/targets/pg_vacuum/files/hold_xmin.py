# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hold back the xmin horizon of a test cluster in one of the ways an application does, then wait.

    hold_xmin.py KIND CONNINFO SECONDS

KIND: xid      - a transaction that wrote a row and then sits idle (backend_xid, no snapshot)
      snapshot - a REPEATABLE READ transaction that read once and sits idle (backend_xmin only)
      query    - a long query (on a hot standby: its snapshot, sent to the primary as feedback)
The session's application_name is pgv_holder_KIND. It ends after SECONDS, or when the test
terminates it with pg_terminate_backend() (the script then exits with an error, as expected).
"""

from __future__ import annotations

import sys
import time

import psycopg


def main():
    kind, conninfo, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    conn = psycopg.connect(conninfo, application_name="pgv_holder_" + kind)
    if kind == "xid":
        conn.execute("INSERT INTO public.scratch VALUES (1)")
        assert conn.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL").fetchone()[0]
    elif kind == "snapshot":
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT count(*) FROM public.scratch").fetchone()
    elif kind == "query":
        conn.execute("SELECT pg_sleep(%s)", [seconds])
        return
    else:
        raise SystemExit("unknown kind %s" % kind)
    time.sleep(seconds)
    conn.rollback()


if __name__ == "__main__":
    main()
