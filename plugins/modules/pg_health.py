#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_health
short_description: Check a PostgreSQL server's health (connections, sessions, wraparound, top statements) as findings
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - The runbook's C(SELECT version();) and what ops look at every day, as findings of the
    collection's findings model. Read-only; it never changes the server.
  - Connectivity, server version, whether the server is a standby (and its replay lag) and the
    size of each database. A server that refuses the connection (down, full, wrong password) is
    a critical C(postgres.connect) finding whose summary says that PostgreSQL refuses
    connections and carries the driver's error; the task does not fail.
  - Connections in use (client backends only) against what clients can really use,
    C(max_connections) less C(superuser_reserved_connections) and, on PostgreSQL 16+,
    C(reserved_connections); warning above the runbook's 80 %.
  - Longest transactions, longest queries, sessions idle in transaction and sessions waiting on a
    lock with the sessions that block them (C(pg_blocking_pids)), each against its thresholds;
    whether the guards C(idle_in_transaction_session_timeout), C(statement_timeout),
    C(idle_session_timeout) (14+) and C(transaction_timeout) (17+) are set, server-wide or per
    database or role.
  - Wraparound per database (C(age(datfrozenxid)) and C(mxid_age(datminmxid))), naming the
    holder of the xmin horizon with the same logic as M(stronghold.ops.pg_vacuum).
  - The top O(top) statements of C(pg_stat_statements) by total time, calls, mean time and
    shared blocks read, read through C(pg_stat_statements(false)) (no query text unless
    O(query_text)), and the average query time against the runbook's 100 ms. With O(state_path)
    a snapshot is kept between runs so the figures are those since the previous run; resets
    (C(stats_reset)) and evictions (C(dealloc), statements gone or re-created) are detected.
    The column names of the extension's versions for PostgreSQL 13, 14-16 and 17+ are handled.
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.postgres
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    details: Every check runs (it only reads); the state file is not written.
options:
  checks:
    description:
      - Which checks run besides connectivity (always). V(connections), V(sessions)
        (transactions, queries, idle in transaction, blocked), V(wraparound) (and the xmin
        horizon), V(settings) (the session guards), V(statements) (pg_stat_statements).
      - A daily run takes the first four; a monthly performance review V(statements).
    type: list
    elements: str
    choices: [connections, sessions, wraparound, settings, statements]
    default: [connections, sessions, wraparound, settings, statements]
  connections_warning:
    description: Percentage of usable connections in use above which C(postgres.connections) is a warning (runbook, 80); 0 to 100, null for none.
    type: raw
    default: 80
  connections_critical:
    description: Percentage above which it is critical; not below O(connections_warning); null for none.
    type: raw
    default: 95
  transaction_warning:
    description: A transaction open longer than this is a warning (C(postgres.transactions)); null for none.
    type: raw
    default: 1h
  transaction_critical:
    description: A transaction open longer than this is critical; null for none.
    type: raw
    default: 6h
  query_warning:
    description: A query running longer than this is a warning (C(postgres.queries)); null for none.
    type: raw
    default: 5m
  query_critical:
    description: A query running longer than this is critical; null for none.
    type: raw
    default: 30m
  idle_in_transaction_warning:
    description: A session idle in transaction longer than this is a warning (C(postgres.idle_in_transaction)); null for none.
    type: raw
    default: 5m
  idle_in_transaction_critical:
    description: A session idle in transaction longer than this is critical; null for none.
    type: raw
    default: 30m
  blocked_warning:
    description: A session waiting on a lock longer than this is a warning (C(postgres.blocked)); null for none.
    type: raw
    default: 1m
  blocked_critical:
    description: A session waiting on a lock longer than this is critical; null for none.
    type: raw
    default: 5m
  replay_lag_warning:
    description: On a standby, replay lag above which C(postgres.replay_lag) is a warning; null for none.
    type: raw
    default: 5m
  replay_lag_critical:
    description: On a standby, replay lag above which it is critical; null for none.
    type: raw
    default: 30m
  xid_age_warning:
    description: Transaction-ID age of a database (C(age(datfrozenxid))) above which C(postgres.wraparound) is a warning (check_postgres's default); 1 to 2^31.
    type: int
    default: 1300000000
  xid_age_critical:
    description: Transaction-ID age above which it is critical.
    type: int
    default: 1400000000
  mxid_age_warning:
    description: Multixact age of a database (C(mxid_age(datminmxid))) above which it is a warning.
    type: int
    default: 1300000000
  mxid_age_critical:
    description: Multixact age above which it is critical.
    type: int
    default: 1400000000
  mean_time_warning:
    description: Average query time above which C(postgres.query_time) is a warning (runbook, 100 ms); null for none.
    type: raw
    default: 100ms
  mean_time_critical:
    description: Average query time above which it is critical; none by default.
    type: raw
  top:
    description: How many statements each top list, and each session list, holds (1 to 1000).
    type: int
    default: 10
  state_path:
    description:
      - File (on the managed host) that keeps the snapshot of C(pg_stat_statements) between runs,
        so the top statements are those since the previous run. Written (0600, atomically) only
        by a run with V(statements) in O(checks), never in check mode; its directory must exist.
      - Unset, the figures count since the statistics were last reset.
    type: path
  query_text:
    description:
      - Return the text (first 400 characters) of the top statements and of the sessions listed.
        Off by default, because reading it makes the server load its whole query-text file, and the
        text can carry data.
    type: bool
    default: false
notes:
  - Works as a role with only C(pg_monitor). Without it (or superuser), other users' sessions
    show no state, and an info finding C(postgres.privileges) says so.
  - The module's session runs with C(statement_timeout) 30 s, C(lock_timeout) 5 s, and is named
    C(stronghold.ops.pg_health) in C(pg_stat_activity); it leaves itself out of the sessions judged.
  - C(pg_stat_statements) must be in C(shared_preload_libraries) and created (C(CREATE EXTENSION))
    in O(login_db); otherwise an info finding says what is missing.
seealso:
  - module: stronghold.ops.pg_vacuum
  - name: check_postgres
    description: The Nagios probe whose thresholds are the defaults here.
    link: https://bucardo.org/check_postgres/
"""

EXAMPLES = r"""
- name: Daily database health (runbook thresholds)
  stronghold.ops.pg_health:
    login_host: 127.0.0.1
    login_user: monitor
    login_password: "{{ vault_monitor_password }}"
    login_db: financial_stronghold
    checks: [connections, sessions, wraparound, settings]
  register: pg_health

- name: Monthly performance review, the top statements since the previous review
  stronghold.ops.pg_health:
    login_unix_socket: /var/run/postgresql
    login_db: financial_stronghold
    checks: [statements]
    top: 20
    state_path: /var/lib/stronghold-ops/pg_health.json
"""

RETURN = r"""
server_version:
  description: Version of the server; null when it refused the connection.
  returned: always
  type: str
  sample: "15.18"
version:
  description: The text of C(SELECT version()); null when the server refused the connection.
  returned: always
  type: str
  sample: PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu
in_recovery:
  description: Whether the server is a standby; null when it refused the connection.
  returned: always
  type: bool
  sample: false
reachable:
  description: Whether the module could connect.
  returned: always
  type: bool
  sample: true
replay:
  description: On a standby, the replay position and lag.
  returned: on a standby
  type: dict
  contains:
    lag_seconds:
      description: Seconds replay is behind (0 when everything received is replayed).
      type: float
    replay_bytes:
      description: WAL received and not yet replayed, in bytes.
      type: int
databases:
  description: Every database with its size and wraparound ages.
  returned: when V(wraparound) is checked
  type: list
  elements: dict
  sample:
    - {name: financial_stronghold, size_bytes: 52428800, xid_age: 1203, mxid_age: 1, allow_connections: true, template: false}
  contains:
    name:
      description: The database.
      type: str
    size_bytes:
      description: Its size; null when the role may not connect to it and lacks pg_read_all_stats.
      type: int
    xid_age:
      description: C(age(datfrozenxid)).
      type: int
    mxid_age:
      description: C(mxid_age(datminmxid)).
      type: int
    allow_connections:
      description: C(datallowconn).
      type: bool
    template:
      description: C(datistemplate).
      type: bool
connections:
  description: Connections in use against usable ones.
  returned: when V(connections) is checked
  type: dict
  sample: {used: 12, usable: 97, percent: 12.4, max_connections: 100, superuser_reserved_connections: 3,
           reserved_connections: 0, by_state: {active: 1, idle: 11}}
  contains:
    used:
      description: Client backends (this module's session included).
      type: int
    usable:
      description: C(max_connections) less C(superuser_reserved_connections) and C(reserved_connections).
      type: int
    percent:
      description: O(connections_warning) and O(connections_critical) are compared with it.
      type: float
    by_state:
      description: Client backends by state.
      type: dict
sessions:
  description:
    - The longest (at most O(top)) of each kind of session; each item has C(pid), C(user),
      C(database), C(application), C(client), C(state), C(wait_event_type), C(wait_event),
      C(seconds) (the duration judged) and C(query) with O(query_text).
  returned: when V(sessions) is checked
  type: dict
  contains:
    longest_transactions:
      description: Sessions in a transaction, longest first (seconds since C(xact_start)).
      type: list
      elements: dict
    longest_queries:
      description: Active sessions, longest query first (seconds since C(query_start)).
      type: list
      elements: dict
    idle_in_transaction:
      description: Sessions idle in transaction, longest first (seconds since C(state_change)).
      type: list
      elements: dict
    blocked:
      description: Sessions waiting on a lock, each with C(blocked_by) (pids) and C(blockers) (those sessions).
      type: list
      elements: dict
    hidden:
      description: Sessions of other users whose state this role cannot see.
      type: int
settings:
  description: Each session guard with C(value), C(source), C(set) and C(overrides) (per database or role).
  returned: when V(settings) is checked
  type: dict
  sample: {statement_timeout: {value: "0ms", source: default, set: false, overrides: ["role app: 30s"]}}
xmin_holders:
  description: Everything holding back the xmin horizon, oldest first (as pg_vacuum's RV(xmin_holders)), at most 20.
  returned: when V(wraparound) is checked
  type: list
  elements: dict
  contains:
    kind:
      description: V(session), V(prepared_transaction), V(replication_slot) or V(standby_feedback).
      type: str
    scope:
      description: V(database) (its own database), V(cluster) (every database) or V(catalogs) (a slot's C(catalog_xmin)).
      type: str
    id:
      description: The pid, the prepared transaction's gid, the slot's name or the standby's name.
      type: str
    xmin_age:
      description: Age of what it holds.
      type: int
oldest_xmin_holder:
  description: The holder named first (as pg_vacuum); null when there is none.
  returned: when V(wraparound) is checked
  type: dict
statements:
  description: What pg_stat_statements says, since the previous run (with O(state_path)) or the last reset.
  returned: when V(statements) is checked
  type: dict
  contains:
    available:
      description: Whether pg_stat_statements could be read; C(reason) says why not.
      type: bool
    since:
      description: Epoch seconds the figures count from (previous run or reset); null when unknown.
      type: float
    first_run:
      description: No usable previous snapshot.
      type: bool
    reset:
      description: The statistics were reset since the previous run.
      type: bool
    evicted:
      description: Evictions (C(dealloc)) since the previous run (14+); null when unknown.
      type: int
    disappeared:
      description: Statements of the previous snapshot that are gone.
      type: int
    recreated:
      description: Statements evicted and created again since the previous run.
      type: int
    statements:
      description: Statements in pg_stat_statements now.
      type: int
    calls:
      description: Calls of top-level statements in the period.
      type: int
    mean_time_ms:
      description: Average time of those calls.
      type: float
    top:
      description:
        - V(total_time), V(calls), V(mean_time) and V(shared_blks_read), each a list of at most O(top)
          statements with C(queryid), C(database), C(user), C(toplevel), C(calls), C(total_time_ms),
          C(mean_time_ms), C(rows), C(shared_blks_read), C(shared_blks_hit) (and C(query) with O(query_text)).
      type: dict
state:
  description: The state file, whether it was written, and any problem reading it.
  returned: when O(state_path) is set
  type: dict
  sample: {path: /var/lib/stronghold-ops/pg_health.json, saved: true, problem: null}
findings:
  description: Findings in the collection's model, one per check (per database for wraparound).
  returned: always
  type: list
  elements: dict
  sample:
    - {check: postgres.connect, target: "127.0.0.1:5432", severity: ok, summary: PostgreSQL 15.18 accepts connections (primary), details: {}}
  contains:
    check:
      description:
        - C(postgres.connect), C(postgres.replay_lag), C(postgres.connections), C(postgres.transactions),
          C(postgres.queries), C(postgres.idle_in_transaction), C(postgres.blocked),
          C(postgres.privileges), C(postgres.settings), C(postgres.wraparound), C(postgres.xmin_horizon),
          C(postgres.statements), C(postgres.query_time) or C(postgres.state).
      type: str
    target:
      description: The server (C(host:port)); C(host:port/database) for C(postgres.wraparound); the holder for C(postgres.xmin_horizon).
      type: str
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
    summary:
      description: One line for the on-call person.
      type: str
    details:
      description: The measurements and the sessions, holder or statements concerned.
      type: dict
worst_severity:
  description: The worst severity among the findings.
  returned: always
  type: str
  sample: ok
"""

import time
from contextlib import closing

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils import _pg_health as health
from ansible_collections.stronghold.ops.plugins.module_utils import _pg_health_sql as queries
from ansible_collections.stronghold.ops.plugins.module_utils import _xmin_holders as xmin
from ansible_collections.stronghold.ops.plugins.module_utils._findings import worst_severity
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    check_connection_params,
    connect,
    psycopg,
    psycopg_missing,
    server_version_text,
    sql,
)
from ansible_collections.stronghold.ops.plugins.module_utils._state import StateError, load_state, save_state

APPLICATION_NAME = "stronghold.ops.pg_health"
HOLDERS_LISTED = 20


class ServerLost(Exception):
    """The connection broke during a check: the run stops with a critical finding."""


class Health:
    """One run: connect, read each selected check (read-only), judge it, and build the result."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        problems = check_connection_params(self.p)
        if problems:
            raise health.HealthError("; ".join(problems))
        self.opts = health.read_options(self.p)
        self.target = health.describe_target(self.p)
        self.findings = []
        self.result = {
            "changed": False,
            "reachable": False,
            "server_version": None,
            "version": None,
            "in_recovery": None,
        }

    def read(self, conn, check, query, params=None):
        """Rows of a query as dicts; a broken connection is ServerLost, another error is the caller's."""
        try:
            return [dict(r) for r in conn.execute(query, params)]
        except psycopg.Error as exc:
            if conn.broken or conn.closed or isinstance(exc, psycopg.OperationalError):
                raise ServerLost(check, str(exc).strip() or type(exc).__name__) from exc
            raise

    def not_checked(self, check, exc):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.findings.append(
            health.make_finding("postgres.%s" % check, self.target, "warning", "%s not checked: %s" % (check, text), {})
        )

    def run(self):
        try:
            conn = connect(self.p, None, APPLICATION_NAME)
        except PostgresConnectError as exc:
            cause = exc.__cause__
            error = " ".join(str(cause if cause is not None else exc).split())
            self.findings.append(health.refused(self.target, self.p, error))
            return self.finish()
        with closing(conn):
            try:
                self.observe(conn)
            except ServerLost as exc:
                self.findings.append(health.lost(self.target, exc.args[1], exc.args[0]))
        return self.finish()

    def observe(self, conn):
        server = self.read(conn, "connect", queries.SERVER_QUERY)[0]
        server["server_version"] = server_version_text(server["server_version_num"])
        self.result.update(
            reachable=True,
            server_version=server["server_version"],
            version=server["version"],
            in_recovery=server["in_recovery"],
        )
        self.findings.append(health.server_finding(self.target, server))
        version = server["server_version_num"]
        settings = dict((r["name"], r) for r in self.read(conn, "settings", queries.SETTINGS_QUERY))
        checks = self.opts["checks"]
        guards = None
        if "settings" in checks or "sessions" in checks:
            overrides = self.guarded(conn, "settings", queries.OVERRIDES_QUERY) or []
            guards, found = health.judge_settings(self.target, settings, overrides, version)
            if "settings" in checks:
                self.result["settings"] = guards
                self.findings.extend(found)
        # The module's own limits, set after the guards were read as the server gives them.
        self.read(
            conn,
            "connect",
            "SELECT set_config('statement_timeout', '30s', false), set_config('lock_timeout', '5s', false)",
        )
        if server["in_recovery"]:
            replay = self.guarded(conn, "replay_lag", queries.REPLAY_QUERY)
            if replay:
                self.result["replay"], finding = health.judge_replay(self.target, replay[0], self.opts)
                self.findings.append(finding)
        activity = None
        if "connections" in checks or "sessions" in checks:
            activity = self.guarded(conn, "sessions", queries.activity_query(self.opts["query_text"]))
        if activity is not None and "connections" in checks:
            self.result["connections"], finding = health.judge_connections(self.target, settings, activity, self.opts)
            self.findings.append(finding)
        if activity is not None and "sessions" in checks:
            self.result["sessions"], found = health.judge_sessions(self.target, activity, self.opts, guards)
            self.findings.extend(found)
        if "wraparound" in checks:
            self.wraparound(conn, settings)
        if "statements" in checks:
            self.statements(conn, server, settings)

    def guarded(self, conn, check, query, params=None):
        """Rows, or None with a warning finding when this one check cannot be read (permissions ...)."""
        try:
            return self.read(conn, check, query, params)
        except psycopg.Error as exc:
            self.not_checked(check, exc)
            return None

    def wraparound(self, conn, settings):
        databases = self.guarded(conn, "wraparound", queries.DATABASES_QUERY)
        if databases is None:
            return
        rows = self.guarded(conn, "xmin_horizon", xmin.XMIN_HOLDERS_QUERY, {"application": APPLICATION_NAME})
        holders = [xmin.holder_dict(r) for r in rows or []]
        self.result["databases"] = databases
        self.result["xmin_holders"] = holders[:HOLDERS_LISTED]
        self.result["oldest_xmin_holder"] = xmin.oldest_holder(holders)
        self.findings.extend(health.judge_wraparound(self.target, databases, holders, settings, self.opts))
        horizon = health.judge_horizon(self.target, holders, self.opts)
        if horizon is not None:
            self.findings.append(horizon)

    def statements(self, conn, server, settings):
        path = self.opts["state_path"]
        extension = self.guarded(conn, "statements", queries.EXTENSION_QUERY)
        if extension is None:
            return
        if not extension:
            self.unavailable("the pg_stat_statements extension is not created in database %s" % server["database"])
            return
        era = queries.statements_era(server["server_version_num"], extension[0]["version"])
        if era is None:
            self.unavailable("pg_stat_statements %s is older than 1.8 (PostgreSQL 13)" % extension[0]["version"])
            return
        schema = sql.Identifier(extension[0]["schema"])
        try:
            info = None
            if queries.has_info_view(era):
                info = self.read(conn, "statements", sql.SQL(queries.STATEMENTS_INFO_QUERY).format(schema=schema))[0]
            cursor = conn.execute(sql.SQL(queries.statements_query(era)).format(schema=schema))
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                raise ServerLost("statements", str(exc).strip()) from exc
            self.unavailable(str(exc).strip().splitlines()[0])
            return
        identity = "cluster %s" % server["identity"]
        previous, problem = load_state(path, health.STATE_KIND, health.STATE_VERSION)
        previous, mismatch = health.usable_previous(previous, identity)
        for text in (problem, mismatch):
            if text:
                self.findings.append(health.state_finding(self.target, text))
        # The cursor is read row by row: one compact list per statement is kept, never the rows.
        entries, events, snapshot = health.statement_deltas(cursor, info, previous, time.time())
        tops = health.top_statements(entries, self.opts["top"])
        names = dict(((r["kind"], r["id"]), r["name"]) for r in self.read(conn, "statements", queries.NAMES_QUERY))
        texts = self.texts(conn, schema, tops) if self.opts["query_text"] else {}
        self.result["statements"], found = health.judge_statements(
            self.target, entries, events, names, texts, self.opts, settings
        )
        self.findings.extend(found)
        if path:
            state = {"path": path, "saved": False, "problem": problem or mismatch}
            if not self.module.check_mode:
                snapshot["server"] = identity
                try:
                    save_state(path, health.STATE_KIND, health.STATE_VERSION, snapshot)
                    state["saved"] = True
                except StateError as exc:
                    self.findings.append(
                        health.make_finding("postgres.state", self.target, "warning", str(exc), {"path": path})
                    )
            self.result["state"] = state

    def texts(self, conn, schema, tops):
        keys = set(key for items in tops.values() for key, dummy in items)
        ids = sorted(set(int(key.split(":")[2]) for key in keys))
        if not ids:
            return {}
        query = sql.SQL(queries.STATEMENT_TEXTS_QUERY).format(schema=schema)
        texts = {}
        for row in self.guarded(conn, "statements", query, {"chars": queries.QUERY_CHARS, "ids": ids}) or []:
            for toplevel in (0, 1):
                key = "%d:%d:%d:%d" % (row["dbid"], row["userid"], row["queryid"], toplevel)
                if key in keys:
                    texts[key] = row["query"]
        return texts

    def unavailable(self, reason):
        self.result["statements"], finding = health.statements_unavailable(self.target, reason)
        self.findings.append(finding)

    def finish(self):
        self.result["findings"] = self.findings
        self.result["worst_severity"] = worst_severity(self.findings)
        return self.result


def main():
    module = AnsibleModule(argument_spec=health.ARGUMENT_SPEC, supports_check_mode=True)
    output = psycopg_missing()
    if output is None:
        try:
            output = Health(module).run()
        except health.HealthError as exc:
            output = {"msg": str(exc)}
    if "msg" in output:
        module.fail_json(**output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
