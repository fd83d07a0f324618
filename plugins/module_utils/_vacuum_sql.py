# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""What pg_vacuum reads from the server: its queries, read-only, and the comments that say why.

The module runs them (observe); _vacuum plans from their rows and _vacuum_report reports.
"""

from __future__ import annotations

TABLES_QUERY = """
-- Sizes: pg_class.relpages is 0 until a table's first VACUUM or ANALYZE, so a freshly loaded
-- table would look empty (dropped by min_size, sorted last). pg_total_relation_size() reads the
-- files' true size but takes an ACCESS SHARE lock on the table, its TOAST table and indexes,
-- which queues behind an ACCESS EXCLUSIVE lock held or requested by the application (a
-- migration): planning must never wait there. So the true size is read only for relations
-- nobody holds or awaits ACCESS EXCLUSIVE on (pg_locks, no lock taken to read it), and the
-- relpages estimate is used, and marked, for the others. The caller runs this with a short
-- lock_timeout and falls back to estimates everywhere ({exact} = false) if a lock is taken
-- between the check and the read.
WITH RECURSIVE exclusive AS (
  SELECT DISTINCT relation FROM pg_locks
  WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
), lineage AS (
  SELECT i.inhrelid AS relid, i.inhparent AS ancestor, 1 AS depth
  FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE k.relispartition
  UNION ALL
  SELECT l.relid, i.inhparent, l.depth + 1
  FROM lineage l JOIN pg_inherits i ON i.inhrelid = l.ancestor JOIN pg_class k ON k.oid = i.inhrelid WHERE k.relispartition
)
SELECT c.oid::bigint AS relid, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS table, c.reloptions,
       c.reltuples::float8 AS reltuples,
       ARRAY(SELECT l.ancestor::bigint FROM lineage l WHERE l.relid = c.oid ORDER BY l.depth) AS ancestors,
       CASE WHEN c.relkind = 'p' THEN 0
            WHEN {exact} AND NOT x.locked THEN pg_total_relation_size(c.oid)
            ELSE ((c.relpages::bigint + COALESCE(t.relpages, 0)
                   + COALESCE((SELECT sum(i.relpages) FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
                               WHERE ix.indrelid = c.oid), 0)) * current_setting('block_size')::bigint)::bigint
       END AS total_bytes,
       c.relkind <> 'p' AND NOT ({exact} AND NOT x.locked) AS size_estimated,
       CASE WHEN c.relkind = 'p' THEN 0
            ELSE GREATEST(age(c.relfrozenxid), COALESCE(age(t.relfrozenxid), 0))::bigint END AS xid_age,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE mxid_age(c.relminmxid)::bigint END AS mxid_age,
       CASE WHEN c.relkind = 'p' THEN EXISTS (SELECT 1 FROM pg_stats st WHERE st.schemaname = n.nspname
                                                AND st.tablename = c.relname AND st.inherited) END AS has_inherited_stats,
       s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, {n_ins} AS n_ins_since_vacuum,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
CROSS JOIN LATERAL (
  SELECT EXISTS (SELECT 1 FROM exclusive e
                 WHERE e.relation IN (c.oid, c.reltoastrelid)
                    OR e.relation IN (SELECT ix.indexrelid FROM pg_index ix WHERE ix.indrelid IN (c.oid, c.reltoastrelid))) AS locked
) x
WHERE c.relkind IN ('r', 'm', 'p') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname
"""

# Longest wait of the planning query for a lock taken between its pg_locks check and its size
# reads (see TABLES_QUERY); then every size is estimated instead.
SIZE_LOCK_TIMEOUT = "100ms"

SETTINGS_QUERY = """
SELECT name, setting FROM pg_settings WHERE name IN (
  'autovacuum_vacuum_threshold', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_insert_threshold',
  'autovacuum_vacuum_insert_scale_factor', 'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor',
  'autovacuum_freeze_max_age', 'autovacuum_multixact_freeze_max_age', 'max_connections',
  'superuser_reserved_connections', 'reserved_connections')
"""

AUTOVACUUM_QUERY = """
SELECT p.relid::bigint AS relid, a.query LIKE '%%(to prevent wraparound)%%' AS wraparound
FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND a.backend_type = 'autovacuum worker'
"""

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

DATABASES_QUERY = """
SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate
  AND has_database_privilege(datname, 'CONNECT') ORDER BY datname
"""

DATABASE_AGE_QUERY = """
SELECT age(datfrozenxid)::bigint AS xid_age, mxid_age(datminmxid)::bigint AS mxid_age
FROM pg_database WHERE datname = current_database()
"""

CLIENTS_QUERY = "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'"

DEAD_TUPLES_QUERY = """
SELECT relid::bigint AS relid, n_dead_tup, last_vacuum, last_autovacuum FROM pg_stat_all_tables WHERE relid = ANY(%s)
"""


def tables_query(server_version: int, exact: bool) -> str:
    """TABLES_QUERY for this server (n_ins_since_vacuum from PostgreSQL 13), with true sizes or estimates."""
    n_ins = "s.n_ins_since_vacuum" if server_version >= 130000 else "NULL::bigint"
    return TABLES_QUERY.replace("{n_ins}", n_ins).replace("{exact}", "true" if exact else "false")
