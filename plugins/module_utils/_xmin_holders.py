# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""What holds back the xmin horizon, shared by pg_vacuum and pg_health.

One query (read-only) lists every holder; the functions below are pure: which holders keep
VACUUM from cleaning a database's tables, which to name first, and how to name it. pg_vacuum
blames them for the dead tuples a VACUUM kept, pg_health for a database's wraparound age.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

# A holder: one row of XMIN_HOLDERS_QUERY as a plain dict.
Row = dict[str, Any]

# Everything that holds back the xmin horizon, oldest first. A session holds it by its
# transaction id (backend_xid: idle in transaction after a write, no snapshot needed) or by its
# snapshot (backend_xmin: a long query, REPEATABLE READ); a prepared transaction by its id; a
# replication slot by xmin (a standby's feedback through a physical slot) or catalog_xmin (a
# logical slot, system catalogs only); a standby with hot_standby_feedback and no slot by the
# xmin its walsender reports. The module's own sessions and autovacuum (whose xmin VACUUM
# ignores) are left out; walsenders are reported from pg_stat_replication.
XMIN_HOLDERS_QUERY = """
SELECT * FROM (
  SELECT 'session' AS kind, 'database' AS scope, a.pid::text AS id, a.pid, a.usename::text AS who,
         a.application_name::text AS application,
         COALESCE(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local socket' END) AS client,
         a.datname::text AS database, a.state::text AS state,
         GREATEST(age(a.backend_xid), age(a.backend_xmin))::bigint AS xmin_age,
         EXTRACT(EPOCH FROM now() - a.xact_start)::float8 AS seconds, a.xact_start, a.query_start,
         a.backend_xid::text AS xid, a.backend_xmin::text AS xmin
  FROM pg_stat_activity a
  WHERE (a.backend_xid IS NOT NULL OR a.backend_xmin IS NOT NULL) AND a.pid <> pg_backend_pid()
    AND a.backend_type NOT IN ('walsender', 'autovacuum worker')
    AND a.application_name IS DISTINCT FROM %(application)s
  UNION ALL
  SELECT 'prepared_transaction', 'database', p.gid, NULL, p.owner::text, NULL, NULL, p.database::text, 'prepared',
         age(p.transaction)::bigint, EXTRACT(EPOCH FROM now() - p.prepared)::float8, p.prepared, NULL,
         p.transaction::text, NULL
  FROM pg_prepared_xacts p
  UNION ALL
  SELECT 'replication_slot', 'cluster', r.slot_name::text, r.active_pid, NULL, r.plugin::text, NULL, r.database::text,
         r.slot_type || ' slot, ' || CASE WHEN r.active THEN 'active' ELSE 'inactive' END,
         age(r.xmin)::bigint, NULL, NULL, NULL, NULL, r.xmin::text
  FROM pg_replication_slots r WHERE r.xmin IS NOT NULL
  UNION ALL
  SELECT 'replication_slot', 'catalogs', r.slot_name::text, r.active_pid, NULL, r.plugin::text, NULL, r.database::text,
         r.slot_type || ' slot, ' || CASE WHEN r.active THEN 'active' ELSE 'inactive' END,
         age(r.catalog_xmin)::bigint, NULL, NULL, NULL, NULL, r.catalog_xmin::text
  FROM pg_replication_slots r WHERE r.catalog_xmin IS NOT NULL
  UNION ALL
  SELECT 'standby_feedback', 'cluster', COALESCE(NULLIF(w.application_name, ''), w.pid::text), w.pid, w.usename::text,
         w.application_name::text, COALESCE(host(w.client_addr), 'local socket'), NULL, w.state::text,
         age(w.backend_xmin)::bigint, NULL, NULL, NULL, NULL, w.backend_xmin::text
  FROM pg_stat_replication w WHERE w.backend_xmin IS NOT NULL
) holders ORDER BY xmin_age DESC NULLS LAST
"""


HOLDER_KINDS = ("session", "prepared_transaction", "replication_slot", "standby_feedback")


def holders_for(holders: Optional[Iterable[Row]], database: Optional[str] = None) -> list[Row]:
    """Holders that keep VACUUM in ``database`` from removing dead tuples of ordinary tables.

    Oldest first. A session or prepared transaction only holds back its own database; a
    replication slot's ``xmin`` and a standby's feedback hold back every database; a slot's
    ``catalog_xmin`` only holds back the system catalogs, never an application table.
    """
    found = []
    for holder in holders or ():
        if holder.get("scope") == "catalogs":
            continue
        if database is not None and holder.get("scope") == "database" and holder.get("database") != database:
            continue
        found.append(holder)
    return sorted(found, key=_holder_order)


def _holder_order(holder: Row) -> tuple[int, int]:
    # Oldest first; at equal age the primary's own transaction before a slot or standby whose
    # xmin only echoes it (a standby's horizon includes the primary's running transactions).
    kind = holder.get("kind")
    return (-(holder.get("xmin_age") or 0), HOLDER_KINDS.index(kind) if kind in HOLDER_KINDS else len(HOLDER_KINDS))


def oldest_holder(holders: Optional[Iterable[Row]]) -> Optional[Row]:
    """The holder to name first: the oldest that holds back tables, else the oldest catalog holder."""
    tables = holders_for(holders)
    if tables:
        return tables[0]
    rest = sorted(holders or (), key=_holder_order)
    return rest[0] if rest else None


def describe_holder(holder: Row) -> str:
    """One line naming a holder the way a DBA would look for it."""
    kind = holder["kind"].replace("_", " ")
    facts = []
    for key, label in (
        ("who", "user"),
        ("application", "application"),
        ("client", "client"),
        ("database", "database"),
        ("state", None),
    ):
        if holder.get(key):
            facts.append("%s %s" % (label, holder[key]) if label else str(holder[key]))
    if holder.get("xmin_age") is not None:
        facts.append("xmin age %d" % holder["xmin_age"])
    if holder.get("seconds") is not None:
        facts.append("open %.0f s" % holder["seconds"])
    if holder.get("query_start"):
        facts.append("query start %s" % holder["query_start"])
    name = "%s %s" % (kind, holder["id"]) if holder["kind"] != "session" else "session pid %s" % holder["id"]
    if holder.get("scope") == "catalogs":
        name += " (catalog_xmin: system catalogs only)"
    return "%s (%s)" % (name, ", ".join(facts)) if facts else name


def holder_dict(row: Mapping[str, Any]) -> Row:
    """A row of XMIN_HOLDERS_QUERY as returned: its timestamps as ISO 8601 text."""
    holder = dict(row)
    for key in ("xact_start", "query_start"):
        if holder.get(key) is not None:
            holder[key] = holder[key].isoformat()
    return holder
