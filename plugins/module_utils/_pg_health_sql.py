# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""What pg_health reads from the server: its queries, all read-only, and the version quirks of
pg_stat_statements in one place.

Every query works for a role with only ``pg_monitor`` (which grants ``pg_read_all_stats`` and
``pg_read_all_settings``); without it, other users' sessions show no state and no times, which
_pg_health reports instead of misjudging.
"""

from __future__ import annotations

import re
from typing import Optional

# identity names the cluster whatever the way in (socket or TCP, host name or address) so that a
# statement snapshot is only compared with one of the same cluster.
SERVER_QUERY = """
SELECT version() AS version, current_setting('server_version_num')::int AS server_version_num,
       pg_is_in_recovery() AS in_recovery, current_database()::text AS database, current_user::text AS user,
       (SELECT system_identifier FROM pg_control_system())::text || ':' || current_setting('port') AS identity
"""

# On a standby: how far replay is behind what was received (bytes), and the age of the last
# replayed transaction. The age alone grows on an idle primary too, so _pg_health counts it as
# lag only while received WAL waits to be replayed (or nothing is being received).
REPLAY_QUERY = """
SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_bytes,
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_seconds
"""

# The guards are read as this session sees them, before pg_health sets its own statement_timeout;
# per-database and per-role values (ALTER DATABASE/ROLE ... SET) come from pg_db_role_setting.
GUARDS = ("idle_in_transaction_session_timeout", "statement_timeout", "transaction_timeout", "idle_session_timeout")
# The version each guard appeared in (server_version_num).
GUARD_SINCE = {
    "idle_in_transaction_session_timeout": 90600,
    "statement_timeout": 0,
    "transaction_timeout": 170000,
    "idle_session_timeout": 140000,
}

SETTINGS_QUERY = """
SELECT name, setting, unit, source FROM pg_settings WHERE name IN (
  'max_connections', 'superuser_reserved_connections', 'reserved_connections',
  'autovacuum_freeze_max_age', 'autovacuum_multixact_freeze_max_age',
  'idle_in_transaction_session_timeout', 'statement_timeout', 'transaction_timeout', 'idle_session_timeout',
  'pg_stat_statements.max', 'pg_stat_statements.track', 'shared_preload_libraries')
"""

OVERRIDES_QUERY = """
SELECT COALESCE(d.datname::text, '') AS database, COALESCE(r.rolname::text, '') AS role, s.setconfig
FROM pg_db_role_setting s
LEFT JOIN pg_database d ON d.oid = s.setdatabase
LEFT JOIN pg_roles r ON r.oid = s.setrole
"""

# pg_database_size() needs CONNECT on the database or pg_read_all_stats; otherwise null rather
# than an error that would lose every other database.
DATABASES_QUERY = """
SELECT d.datname::text AS name, d.datallowconn AS allow_connections, d.datistemplate AS template,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE')
            THEN pg_database_size(d.oid) END AS size_bytes,
       age(d.datfrozenxid)::bigint AS xid_age, mxid_age(d.datminmxid)::bigint AS mxid_age
FROM pg_database d ORDER BY d.datname
"""

# Every backend: _pg_health counts and judges the client backends, and describes any other
# process (an autovacuum worker, a walsender) that blocks one of them. blocked_by only for a
# session waiting on a heavyweight lock: pg_blocking_pids() takes the lock manager's partition
# locks, so it is not called for the others.
# {query} is the session's query (shortened) when query_text is asked for, NULL otherwise.
# Without pg_read_all_stats, other users' rows show their user but no backend_type, state nor
# times: they are kept (and counted by _pg_health as client backends when they have a user).
ACTIVITY_QUERY = """
SELECT a.pid, a.backend_type::text AS backend_type, a.pid = pg_backend_pid() AS self,
       a.usename::text AS user, a.datname::text AS database, a.application_name::text AS application,
       COALESCE(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local socket' END) AS client,
       a.state::text AS state, a.wait_event_type::text AS wait_event_type, a.wait_event::text AS wait_event,
       EXTRACT(EPOCH FROM now() - a.xact_start)::float8 AS xact_seconds,
       EXTRACT(EPOCH FROM now() - a.query_start)::float8 AS query_seconds,
       EXTRACT(EPOCH FROM now() - a.state_change)::float8 AS state_seconds,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by,
       {query} AS query
FROM pg_stat_activity a
"""

EXTENSION_QUERY = """
SELECT e.extversion::text AS version, n.nspname::text AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'
"""

NAMES_QUERY = """
SELECT 'd' AS kind, oid::bigint AS id, datname::text AS name FROM pg_database
UNION ALL SELECT 'u', oid::bigint, rolname::text FROM pg_roles
"""

# Characters of a statement's or session's text returned when query_text is true.
QUERY_CHARS = 400

# pg_stat_statements' column names follow the version of the extension installed in the
# database (ALTER EXTENSION ... UPDATE), not the server's, so the variant is chosen by extversion:
#   1.8 (PostgreSQL 13): total_time became total_exec_time (and mean, min, max, stddev).
#   1.9 (14): toplevel, and the pg_stat_statements_info view (dealloc, stats_reset).
#   1.11 (17): blk_read_time became shared_blk_read_time; stats_since (entry creation time).
# Older versions (total_time) are not read: an info finding says so.
VARIANTS = {
    13: {"toplevel": "true", "blk_read_time": "s.blk_read_time", "stats_since": "NULL::float8", "info": False},
    14: {"toplevel": "s.toplevel", "blk_read_time": "s.blk_read_time", "stats_since": "NULL::float8", "info": True},
    17: {
        "toplevel": "s.toplevel",
        "blk_read_time": "s.shared_blk_read_time",
        "stats_since": "EXTRACT(EPOCH FROM s.stats_since)::float8",
        "info": True,
    },
}

STATEMENTS_QUERY = """
SELECT s.dbid::bigint AS dbid, s.userid::bigint AS userid, s.queryid, {toplevel} AS toplevel, s.calls,
       s.total_exec_time AS total_ms, s.rows, s.shared_blks_read, s.shared_blks_hit,
       {blk_read_time} AS blk_read_ms, {stats_since} AS stats_since
FROM {schema}.pg_stat_statements(false) s WHERE s.queryid IS NOT NULL
"""

STATEMENTS_INFO_QUERY = """
SELECT dealloc, EXTRACT(EPOCH FROM stats_reset)::float8 AS stats_reset FROM {schema}.pg_stat_statements_info
"""

# Text only for the statements reported, after they are chosen: pg_stat_statements(true) reads
# the whole query-text file on the server, once.
STATEMENT_TEXTS_QUERY = """
SELECT s.queryid, s.dbid::bigint AS dbid, s.userid::bigint AS userid, left(s.query, %(chars)s) AS query
FROM {schema}.pg_stat_statements(true) s WHERE s.queryid = ANY(%(ids)s)
"""

_VERSION = re.compile(r"^(\d+)\.(\d+)")


def statements_era(server_version: int, extversion: Optional[str]) -> Optional[int]:
    """13, 14 or 17: which column set pg_stat_statements has; None when it is older than 1.8 (13)."""
    match = _VERSION.match(extversion or "")
    if match is None:
        major = server_version // 10000
        return None if major < 13 else 13 if major == 13 else 14 if major < 17 else 17
    version = (int(match.group(1)), int(match.group(2)))
    if version < (1, 8):
        return None
    if version < (1, 9):
        return 13
    if version < (1, 11):
        return 14
    return 17


def statements_query(era: int) -> str:
    """The snapshot query of pg_stat_statements for a column set, without the text; {schema} left to quote."""
    variant = VARIANTS[era]
    text = STATEMENTS_QUERY
    for name in ("toplevel", "blk_read_time", "stats_since"):
        text = text.replace("{%s}" % name, str(variant[name]))
    return text


def has_info_view(era: int) -> bool:
    """Whether pg_stat_statements_info (dealloc, stats_reset) exists: extension 1.9 (PostgreSQL 14) and later."""
    return bool(VARIANTS[era]["info"])


def activity_query(query_text: bool) -> str:
    return ACTIVITY_QUERY.replace("{query}", "left(a.query, %d)" % QUERY_CHARS if query_text else "NULL::text")
