# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Holders of the xmin horizon as plain rows (_xmin_holders.holder_dict's shape), shared by the
unit tests of _xmin_holders, _vacuum and _pg_health (imported through the collection's name, as
ansible-test units and plain pytest both resolve it)."""

from __future__ import annotations

SESSION = {
    "kind": "session",
    "scope": "database",
    "id": "4242",
    "who": "app",
    "application": "gunicorn",
    "client": "10.0.0.5",
    "database": "app",
    "state": "idle in transaction",
    "xmin_age": 900,
    "seconds": 5400.0,
    "query_start": "2026-11-27T00:30:00+00:00",
}
OTHER_DB = dict(SESSION, id="77", database="other", xmin_age=5000)
SLOT = {
    "kind": "replication_slot",
    "scope": "cluster",
    "id": "standby1",
    "database": None,
    "state": "physical slot, inactive",
    "xmin_age": 300,
}
LOGICAL = {
    "kind": "replication_slot",
    "scope": "catalogs",
    "id": "cdc",
    "database": "app",
    "state": "logical slot, active",
    "xmin_age": 99999,
}
FEEDBACK = {"kind": "standby_feedback", "scope": "cluster", "id": "replica", "xmin_age": 900}
PREPARED = {"kind": "prepared_transaction", "scope": "database", "id": "gid1", "database": "app", "xmin_age": 10}
