# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""What pg_vacuum reads from the server: its queries, read-only, and the comments that say why.

The module runs them (observe); _vacuum plans from their rows and _vacuum_report reports.
"""

from __future__ import annotations

# The relations nobody holds or awaits ACCESS EXCLUSIVE on can have their true size read (see
# TABLES_QUERY); the relpages estimate of a table, its TOAST table and its indexes otherwise.
_EXCLUSIVE_CTE = """exclusive AS (
  SELECT DISTINCT relation FROM pg_locks
  WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)"""
_LOCKED = """CROSS JOIN LATERAL (
  SELECT EXISTS (SELECT 1 FROM exclusive e
                 WHERE e.relation IN (c.oid, c.reltoastrelid)
                    OR e.relation IN (SELECT ix.indexrelid FROM pg_index ix WHERE ix.indrelid IN (c.oid, c.reltoastrelid))) AS locked
) x"""
_SIZE = """CASE WHEN c.relkind = 'p' THEN 0
            WHEN {exact} AND NOT x.locked THEN pg_total_relation_size(c.oid)
            ELSE ((c.relpages::bigint + COALESCE(t.relpages, 0)
                   + COALESCE((SELECT sum(i.relpages) FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
                               WHERE ix.indrelid = c.oid), 0)) * current_setting('block_size')::bigint)::bigint
       END AS total_bytes,
       c.relkind <> 'p' AND NOT ({exact} AND NOT x.locked) AS size_estimated"""

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
-- Reading the true size costs a relation open of the table, its TOAST table and each index
-- (about 0.1 ms each, 1 s for 10,000 tables): with select: needed the module reads estimates
-- here ({exact} = false) and then the true sizes of the tables the plan can use them for
-- (SIZES_QUERY).
WITH RECURSIVE {exclusive_cte}, lineage AS (
  SELECT i.inhrelid AS relid, i.inhparent AS ancestor, 1 AS depth
  FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE k.relispartition
  UNION ALL
  SELECT l.relid, i.inhparent, l.depth + 1
  FROM lineage l JOIN pg_inherits i ON i.inhrelid = l.ancestor JOIN pg_class k ON k.oid = i.inhrelid WHERE k.relispartition
), ancestry AS (
  -- Each partition's ancestors, nearest first, grouped once and joined by hash: a subquery per
  -- table over the whole lineage would cost tables x partitions (10,000 partitions: 10^8 rows).
  SELECT relid, array_agg(ancestor::bigint ORDER BY depth) AS ancestors FROM lineage GROUP BY relid
)
SELECT c.oid::bigint AS relid, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS table, c.reloptions,
       c.reltuples::float8 AS reltuples,
       COALESCE(a.ancestors, '{}'::bigint[]) AS ancestors,
       {size},
       CASE WHEN c.relkind = 'p' THEN 0
            ELSE GREATEST(age(c.relfrozenxid), COALESCE(age(t.relfrozenxid), 0))::bigint END AS xid_age,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE mxid_age(c.relminmxid)::bigint END AS mxid_age,
       CASE WHEN c.relkind = 'p' THEN EXISTS (SELECT 1 FROM pg_stats st WHERE st.schemaname = n.nspname
                                                AND st.tablename = c.relname AND st.inherited) END AS has_inherited_stats,
       -- The functions pg_stat_all_tables is made of, called for these tables only: the view
       -- groups every relation, TOAST tables included, by its indexes (a third of the query's
       -- time with 10,000 tables). The same values, 0 or NULL where nothing is counted yet.
       pg_stat_get_live_tuples(c.oid) AS n_live_tup, pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,
       pg_stat_get_mod_since_analyze(c.oid) AS n_mod_since_analyze, {n_ins} AS n_ins_since_vacuum,
       pg_stat_get_last_vacuum_time(c.oid) AS last_vacuum, pg_stat_get_last_autovacuum_time(c.oid) AS last_autovacuum,
       pg_stat_get_last_analyze_time(c.oid) AS last_analyze,
       pg_stat_get_last_autoanalyze_time(c.oid) AS last_autoanalyze
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
LEFT JOIN ancestry a ON a.relid = c.oid
{locked}
WHERE c.relkind IN ('r', 'm', 'p') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname
"""

# The true sizes of the tables given by relid (the same rules as TABLES_QUERY's with {exact}).
SIZES_QUERY = """
WITH {exclusive_cte}
SELECT c.oid::bigint AS relid, {size}
FROM pg_class c
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
{locked}
WHERE c.oid = ANY(%s::oid[])
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

# XMIN_HOLDERS_QUERY: _xmin_holders, shared with pg_health.

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
    n_ins = "pg_stat_get_ins_since_vacuum(c.oid)" if server_version >= 130000 else "NULL::bigint"
    return _fill(TABLES_QUERY, exact).replace("{n_ins}", n_ins)


def sizes_query() -> str:
    """SIZES_QUERY: true sizes where reading them cannot wait for a lock; its parameter is a list of relids."""
    return _fill(SIZES_QUERY, True)


def _fill(text: str, exact: bool) -> str:
    text = text.replace("{exclusive_cte}", _EXCLUSIVE_CTE).replace("{size}", _SIZE).replace("{locked}", _LOCKED)
    return text.replace("{exact}", "true" if exact else "false")
