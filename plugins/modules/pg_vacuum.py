#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_vacuum
short_description: VACUUM, ANALYZE or FREEZE the PostgreSQL tables that need it, without blocking the application
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's weekly C(VACUUM ANALYZE;) and C(ANALYZE;) on the whole database with
    maintenance that chooses its tables, never queues behind the application's locks, and says
    what it did.
  - With O(select=needed) a table is selected when autovacuum's own formula says it is due
    (with the table's own reloptions), or when it reaches one of the explicit thresholds; every
    selected table carries the reasons. Tables at risk of transaction-ID wraparound come first,
    then the largest (or those with most dead tuples).
  - Each table is one command on an autocommit connection with a short C(lock_timeout) and
    C(SKIP_LOCKED), so a table the application holds is skipped instead of blocking it;
    C(TRUNCATE false) avoids the ACCESS EXCLUSIVE lock at the end of a vacuum; a table that
    autovacuum is working on is left to it unless it is a wraparound risk.
  - O(jobs) processes tables in parallel on separate connections, largest first, capped by the
    connections the server has free. O(max_runtime) stops starting new tables when the budget
    is spent.
  - On a standby (recovery), VACUUM and ANALYZE cannot run; the module skips (or fails, by
    O(on_recovery)) and changes nothing.
  - Options the server version lacks are dropped with a warning.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stronghold.ops.postgres
  - stronghold.ops.findings
attributes:
  check_mode:
    support: full
    details: Runs only the read-only selection and returns the plan, with the exact commands.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  mode:
    description:
      - V(vacuum_analyze) (the runbook's C(VACUUM ANALYZE)), V(vacuum), V(analyze) (C(ANALYZE)
        only, cheap and never blocking writes), or V(freeze) (C(VACUUM FREEZE) of tables whose
        transaction-ID age reaches O(min_xid_age), 50 million by default).
    type: str
    choices: [vacuum, analyze, vacuum_analyze, freeze]
    default: vacuum_analyze
  full:
    description:
      - C(VACUUM FULL), which rewrites each table under an ACCESS EXCLUSIVE lock (the
        application cannot read it meanwhile). Needs O(allow_full=true) and O(jobs=1).
    type: bool
    default: false
  allow_full:
    description: Confirms that O(full) may lock tables exclusively.
    type: bool
    default: false
  databases:
    description:
      - Databases to maintain. Empty means the database of the connection (O(login_db)).
    type: list
    elements: str
    default: []
  all_databases:
    description:
      - Maintain every database that accepts connections and that O(login_user) may connect to
        (templates excluded). Cannot be combined with O(databases).
    type: bool
    default: false
  schemas:
    description: Only tables in these schemas. Empty means every schema but the system ones.
    type: list
    elements: str
    default: []
  exclude_schemas:
    description: Never tables in these schemas.
    type: list
    elements: str
    default: []
  tables:
    description:
      - Only these tables, as C(table) (any schema in scope) or C(schema.table). A named table
        that exists in none of the databases fails the task before anything runs.
      - Names are matched exactly; quote nothing.
    type: list
    elements: str
    default: []
  exclude_tables:
    description: Never these tables (C(table) or C(schema.table)).
    type: list
    elements: str
    default: []
  select:
    description:
      - V(needed) takes the tables that autovacuum's formula or the thresholds select;
        V(all) takes every table in scope (as vacuumdb does).
    type: str
    choices: [needed, all]
    default: needed
  min_dead_tuples:
    description:
      - Select a table (vacuum modes) with at least this many dead tuples, provided it also
        reaches O(min_dead_ratio) when that is set. Unset, only autovacuum's formula counts.
    type: int
  min_dead_ratio:
    description:
      - Select a table (vacuum modes) whose dead tuples are at least this percentage of its rows
        (0-100), provided it also has O(min_dead_tuples) when that is set.
    type: float
  min_mod_since_analyze_ratio:
    description:
      - Select a table (analyze modes) whose rows modified since the last analyze are at least
        this percentage of its rows.
    type: float
  min_xid_age:
    description:
      - Select a table whose C(relfrozenxid) age (the older of the table and its TOAST table)
        reaches this. In V(freeze) mode defaults to 50,000,000.
    type: int
  min_mxid_age:
    description: Select a table whose multixact age reaches this.
    type: int
  min_size:
    description:
      - Leave out tables smaller than this (total size with indexes and TOAST), such as
        V(10M) or V(1G). Wraparound risks are never left out.
    type: str
  skip_vacuumed_within:
    description:
      - Leave out tables vacuumed (or, in V(analyze) mode, analyzed), manually or by autovacuum,
        within this time, such as V(6h) or V(1d). Wraparound risks are never left out.
    type: str
  order_by:
    description:
      - After wraparound risks (oldest first), process the largest tables first (V(size), as
        vacuumdb does) or those with most dead tuples first (V(dead_tuples)).
    type: str
    choices: [size, dead_tuples]
    default: size
  lock_timeout:
    description:
      - Longest wait for a lock, per table, such as V(5s) or V(500ms); a table still locked
        after it is reported with status C(lock_timeout) and the run goes on.
    type: str
    default: 5s
  statement_timeout:
    description: Longest run of one table's command (status C(timeout) when reached); unset, no limit.
    type: str
  skip_locked:
    description:
      - Skip a table whose lock cannot be taken at once (C(SKIP_LOCKED), PostgreSQL 12+); it is
        reported with status C(skipped_locked).
    type: bool
    default: true
  truncate:
    description:
      - Let VACUUM truncate empty pages at the end of the table, which takes an ACCESS EXCLUSIVE
        lock briefly. Off by default (C(TRUNCATE false), PostgreSQL 12+).
    type: bool
    default: false
  max_runtime:
    description:
      - Time budget such as V(30m). No new table starts once it is spent; tables not started are
        reported as C(not_started) and RV(budget_exhausted) is true. Running commands finish.
    type: str
  cost_delay:
    description:
      - C(vacuum_cost_delay) in milliseconds for this run's sessions (manual VACUUM is unthrottled
        by default); throttles I/O on a busy server.
    type: float
  cost_limit:
    description: C(vacuum_cost_limit) for this run's sessions.
    type: int
  buffer_usage_limit:
    description:
      - C(BUFFER_USAGE_LIMIT) of the command (PostgreSQL 16+), such as V(256MB); dropped with a
        warning on older servers.
    type: str
  jobs:
    description:
      - Tables processed at once, each on its own connection. Capped by the tables selected and by
        the connections the server has free (C(max_connections) less reserved and used ones, less
        2), with a warning when capped.
    type: int
    default: 1
  parallel_workers:
    description:
      - C(PARALLEL) workers for the index phase of each VACUUM (PostgreSQL 13+); not with O(full).
    type: int
  on_recovery:
    description:
      - What to do on a standby, where VACUUM and ANALYZE cannot run. V(skip) returns unchanged
        with an info finding; V(fail) fails the task.
    type: str
    choices: [skip, fail]
    default: skip
  continue_on_error:
    description:
      - When a table's command fails with an error (not a lock skip or timeout), go on with the
        other tables and report the error as a finding (V(true)), or start no further table and
        fail the task (V(false)).
    type: bool
    default: false
  stale_after:
    description:
      - Report (warning finding) tables with dead tuples that neither this run nor autovacuum has
        vacuumed within this time, such as V(7d).
    type: str
    default: 7d
  xid_age_warning:
    description: Database transaction-ID age (C(age(datfrozenxid))) from which a warning finding is raised.
    type: int
    default: 1300000000
  xid_age_critical:
    description: Database transaction-ID age from which a critical finding is raised.
    type: int
    default: 1400000000
  long_transaction_warning:
    description:
      - A transaction, prepared transaction or replication slot holding back cleanup for longer
        than this (such as V(1h)) is a warning finding.
    type: str
    default: 1h
  not_selected_details:
    description:
      - List every table that was not selected in RV(not_selected); by default the first 25 are
        listed and RV(totals) counts all of them by reason.
    type: bool
    default: false
notes:
  - Run it from a scheduled job (AWX) or with C(async) for long runs; never during a C(migrate)
    or a rollback.
  - The module connects as O(login_user); maintaining a table needs its ownership, the database
    ownership or superuser (C(MAINTAIN) on PostgreSQL 17+). Tables the role may not maintain
    end with status C(error).
seealso:
  - name: vacuumdb
    description: The tool this module goes beyond.
    link: https://www.postgresql.org/docs/current/app-vacuumdb.html
  - name: The Autovacuum Daemon
    description: The formula used by O(select=needed).
    link: https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM
"""

EXAMPLES = r"""
- name: Weekly maintenance of the application database (runbook, Sundays 2 AM)
  stronghold.ops.pg_vacuum:
    login_host: 127.0.0.1
    login_user: postgres
    login_password: "{{ vault_postgres_password }}"
    databases: [financial_stronghold]
    mode: vacuum_analyze
    select: needed
    min_dead_ratio: 5
    min_dead_tuples: 1000
    max_runtime: 30m
    jobs: 2
  register: vacuum

- name: Monthly freeze of old tables, throttled
  stronghold.ops.pg_vacuum:
    login_unix_socket: /var/run/postgresql
    all_databases: true
    mode: freeze
    min_xid_age: 50000000
    cost_delay: 2
    cost_limit: 2000

- name: What would be vacuumed (check mode shows the plan and the SQL)
  stronghold.ops.pg_vacuum:
    login_db: financial_stronghold
    tables: [core_transaction]
  check_mode: true
"""

RETURN = r"""
server_version:
  description: Version of the server.
  returned: always
  type: str
  sample: "15.18"
in_recovery:
  description: Whether the server is a standby.
  returned: always
  type: bool
  sample: false
planned:
  description: The selected tables in the order they are (or would be) processed, each with its reasons and command.
  returned: always
  type: list
  elements: dict
  sample:
    - database: financial_stronghold
      schema: public
      table: core_transaction
      reasons: ["dead tuples 41130 (12.9% of rows) reach min_dead_tuples 1000 and min_dead_ratio 5%"]
      sql: 'VACUUM (ANALYZE, TRUNCATE false, SKIP_LOCKED) "public"."core_transaction"'
      total_bytes: 49152000
      n_dead_tup: 41130
      xid_age: 1203
      wraparound: false
not_selected:
  description:
    - Tables in scope that were not selected, with the reason; the first 25 unless
      O(not_selected_details=true) (C(totals.not_selected) counts all by reason).
  returned: always
  type: list
  elements: dict
  sample:
    - {database: financial_stronghold, schema: public, table: django_migrations, skip_reason: below every threshold}
processed:
  description: Every planned table with its outcome, in the order of RV(planned).
  returned: always
  type: list
  elements: dict
  sample:
    - database: financial_stronghold
      schema: public
      table: core_transaction
      sql: 'VACUUM (ANALYZE, TRUNCATE false, SKIP_LOCKED) "public"."core_transaction"'
      status: ok
      duration_ms: 812.4
      n_dead_tup_before: 41130
      n_dead_tup_after: 0
      message: null
totals:
  description:
    - Counts by status, dead tuples before and after over the processed tables, tables not
      selected by reason, the time spent observing and planning (C(plan_ms)) and running the
      commands (C(duration_ms)), and the jobs used.
  returned: always
  type: dict
  sample: {planned: 1, ok: 1, skipped_locked: 0, lock_timeout: 0, timeout: 0, error: 0, not_started: 0,
           skipped_missing: 0, n_dead_tup_before: 41130, n_dead_tup_after: 0, plan_ms: 41.3, duration_ms: 830.2, jobs: 1,
           not_selected: {below every threshold: 9}}
budget_exhausted:
  description: True when O(max_runtime) stopped tables from starting.
  returned: always
  type: bool
  sample: false
oldest_xmin_holder:
  description:
    - The transaction, prepared transaction or replication slot with the oldest xmin, which keeps
      VACUUM from removing newer dead tuples; null when there is none.
  returned: always
  type: dict
  sample: {kind: transaction, id: "4242", who: app, database: financial_stronghold, xmin_age: 15230, seconds: 5400.0, state: idle in transaction}
databases:
  description: Per database, the age of C(datfrozenxid) before the run.
  returned: always
  type: list
  elements: dict
  sample: [{database: financial_stronghold, xid_age: 1523, mxid_age: 1}]
findings:
  description: Findings in the collection's model (wraparound age, stale tables, failed tables, the xmin holder, and the outcome).
  returned: always
  type: list
  elements: dict
  sample:
    - {check: postgres.vacuum, target: financial_stronghold, severity: ok, summary: 1 of 1 planned table processed, details: {}}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import queue
import threading
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    parse_duration,
    parse_size,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PostgresConnectError,
    check_connection_params,
    connect,
    ensure_psycopg,
    in_recovery,
    postgres_argument_spec,
    psycopg,
    server_version_text,
    sql,
)
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum import (
    command_options,
    does_vacuum,
    free_connections,
    plan_tables,
)

APPLICATION_NAME = "stronghold.ops.pg_vacuum"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")

TABLES_QUERY = """
-- Sizes come from pg_class.relpages (as vacuumdb orders by), never from pg_relation_size():
-- that takes a lock, and planning must not queue behind a table the application holds.
SELECT c.oid::bigint AS relid, n.nspname AS schema, c.relname AS table, c.reloptions,
       c.reltuples::float8 AS reltuples,
       ((c.relpages::bigint + COALESCE(t.relpages, 0)
         + COALESCE((SELECT sum(i.relpages) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                     WHERE x.indrelid = c.oid), 0)) * current_setting('block_size')::bigint)::bigint AS total_bytes,
       GREATEST(age(c.relfrozenxid), COALESCE(age(t.relfrozenxid), 0))::bigint AS xid_age,
       mxid_age(c.relminmxid)::bigint AS mxid_age,
       s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, {n_ins} AS n_ins_since_vacuum,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
ORDER BY n.nspname, c.relname
"""

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

XMIN_HOLDER_QUERY = """
SELECT * FROM (
  SELECT 'transaction' AS kind, pid::text AS id, usename::text AS who, datname::text AS database, state,
         age(backend_xmin)::bigint AS xmin_age, EXTRACT(EPOCH FROM now() - xact_start)::float8 AS seconds
  FROM pg_stat_activity
  WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid() AND application_name NOT LIKE 'stronghold.ops.%%'
  UNION ALL
  SELECT 'replication_slot', slot_name::text, NULL, database::text, CASE WHEN active THEN 'active' ELSE 'inactive' END,
         GREATEST(age(xmin), age(catalog_xmin))::bigint, NULL
  FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL
  UNION ALL
  SELECT 'prepared_transaction', gid, owner::text, database::text, 'prepared', age(transaction)::bigint,
         EXTRACT(EPOCH FROM now() - prepared)::float8
  FROM pg_prepared_xacts
) holders ORDER BY xmin_age DESC NULLS LAST LIMIT 1
"""

# Tables listed in not_selected unless not_selected_details is true (the counts by reason are
# always in totals): a database of thousands of tables would otherwise return a large result
# that Ansible must carry through every callback.
NOT_SELECTED_LISTED = 25

STATUSES = ("ok", "skipped_permission", "skipped_locked", "lock_timeout", "timeout", "error", "skipped_missing", "not_started")


def split_name(name):
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


def in_scope(row, p):
    if p["schemas"] and row["schema"] not in p["schemas"]:
        return False
    if row["schema"] in p["exclude_schemas"]:
        return False
    for name in p["exclude_tables"]:
        schema, table = split_name(name)
        if table == row["table"] and schema in (None, row["schema"]):
            return False
    if p["tables"]:
        for name in p["tables"]:
            schema, table = split_name(name)
            if table == row["table"] and schema in (None, row["schema"]):
                return True
        return False
    return True


def milliseconds(seconds):
    return "%dms" % max(int(round(seconds * 1000)), 0)


class Vacuum:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.warnings = []
        self.findings = []
        self.now = datetime.now(timezone.utc)

    # --- input ---------------------------------------------------------------------------
    def validate(self):
        p = self.p
        problems = check_connection_params(p)
        if p["full"] and not p["allow_full"]:
            problems.append("full: true takes an ACCESS EXCLUSIVE lock on every table; set allow_full: true to confirm")
        if p["full"] and p["jobs"] > 1:
            problems.append("full: true cannot run with jobs > 1 (VACUUM FULL in parallel can deadlock on catalogs)")
        if p["full"] and p["mode"] == "analyze":
            problems.append("full: true needs a vacuum mode, not analyze")
        if p["all_databases"] and p["databases"]:
            problems.append("all_databases and databases are mutually exclusive")
        if p["jobs"] < 1:
            problems.append("jobs must be at least 1, got %d" % p["jobs"])
        for name in ("min_dead_tuples", "min_xid_age", "min_mxid_age", "cost_limit", "parallel_workers",
                     "xid_age_warning", "xid_age_critical"):
            if p[name] is not None and p[name] < 0:
                problems.append("%s cannot be negative, got %d" % (name, p[name]))
        for name in ("min_dead_ratio", "min_mod_since_analyze_ratio"):
            if p[name] is not None and not 0 <= p[name] <= 100:
                problems.append("%s is a percentage between 0 and 100, got %s" % (name, p[name]))
        if p["cost_delay"] is not None and not 0 <= p["cost_delay"] <= 100:
            problems.append("cost_delay must be between 0 and 100 milliseconds, got %s" % p["cost_delay"])
        if p["cost_limit"] is not None and not 1 <= p["cost_limit"] <= 10000:
            problems.append("cost_limit must be between 1 and 10000, got %d" % p["cost_limit"])
        if p["parallel_workers"] is not None and p["full"]:
            problems.append("parallel_workers cannot be combined with full")
        if p["xid_age_warning"] > p["xid_age_critical"]:
            problems.append("xid_age_warning (%d) must not exceed xid_age_critical (%d)" % (p["xid_age_warning"], p["xid_age_critical"]))
        for name in ("tables", "exclude_tables", "schemas", "exclude_schemas", "databases"):
            if any(not item or not item.strip() for item in p[name]):
                problems.append("%s contains an empty name" % name)
        self.durations = {}
        for name in ("lock_timeout", "statement_timeout", "max_runtime", "skip_vacuumed_within", "stale_after",
                     "long_transaction_warning"):
            if p[name] is None:
                self.durations[name] = None
                continue
            try:
                self.durations[name] = parse_duration(p[name])
            except FindingError as exc:
                problems.append("%s: %s" % (name, exc))
        # lock_timeout = 0 means "wait forever" to PostgreSQL, the opposite of what it is for here.
        if self.durations.get("lock_timeout") is not None and self.durations["lock_timeout"] < 0.001:
            problems.append("lock_timeout must be at least 1ms (0 would wait forever)")
        self.min_size = None
        if p["min_size"] is not None:
            try:
                self.min_size = parse_size(p["min_size"])
            except FindingError as exc:
                problems.append("min_size: %s" % exc)
        if p["buffer_usage_limit"] is not None:
            try:
                parse_size(p["buffer_usage_limit"])
            except FindingError as exc:
                problems.append("buffer_usage_limit: %s" % exc)
        if problems:
            self.module.fail_json(msg="; ".join(problems))

    def planner_options(self):
        p = self.p
        return {
            "mode": p["mode"], "select": p["select"], "full": p["full"], "truncate": p["truncate"],
            "skip_locked": p["skip_locked"], "parallel_workers": p["parallel_workers"],
            "buffer_usage_limit": p["buffer_usage_limit"], "order_by": p["order_by"],
            "min_dead_tuples": p["min_dead_tuples"], "min_dead_ratio": p["min_dead_ratio"],
            "min_mod_since_analyze_ratio": p["min_mod_since_analyze_ratio"], "min_xid_age": p["min_xid_age"],
            "min_mxid_age": p["min_mxid_age"], "min_size": self.min_size,
            "skip_vacuumed_within": self.durations["skip_vacuumed_within"],
        }

    def connect(self, dbname=None):
        try:
            return connect(self.p, dbname, APPLICATION_NAME)
        except PostgresConnectError as exc:
            self.module.fail_json(msg=str(exc))

    # --- observe -------------------------------------------------------------------------
    def observe(self):
        """Everything the plan needs, read-only. Fails (changing nothing) on bad names."""
        conn = self.connect()
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(milliseconds(self.durations["lock_timeout"]))))
        self.version = conn.info.server_version
        self.recovery = in_recovery(conn)
        self.settings = dict((r["name"], float(r["setting"])) for r in conn.execute(SETTINGS_QUERY))
        if self.p["all_databases"]:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
                                "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname").fetchall()
            self.database_names = [r["datname"] for r in rows]
        elif self.p["databases"]:
            self.database_names = list(dict.fromkeys(self.p["databases"]))
        else:
            self.database_names = [conn.info.dbname]
        known = set(r["datname"] for r in conn.execute("SELECT datname FROM pg_database"))
        missing = [d for d in self.database_names if d not in known]
        if missing:
            conn.close()
            self.module.fail_json(msg="unknown database(s): %s" % ", ".join(missing))
        in_use = conn.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()["n"]
        self.free = free_connections(self.settings.get("max_connections", 100),
                                     self.settings.get("superuser_reserved_connections", 3) + self.settings.get("reserved_connections", 0),
                                     in_use)
        holder = conn.execute(XMIN_HOLDER_QUERY).fetchone()
        self.xmin_holder = dict(holder) if holder else None
        self.main_conn = conn
        if self.recovery:
            return

        n_ins = "s.n_ins_since_vacuum" if self.version >= 130000 else "NULL::bigint"
        self.per_database = []
        found_names = set()
        opts = self.planner_options()
        for dbname in self.database_names:
            dconn = conn if dbname == conn.info.dbname else self.connect(dbname)
            try:
                stats = dconn.execute("SELECT age(datfrozenxid)::bigint AS xid_age, mxid_age(datminmxid)::bigint AS mxid_age "
                                      "FROM pg_database WHERE datname = current_database()").fetchone()
                rows = []
                for row in dconn.execute(TABLES_QUERY.replace("{n_ins}", n_ins)):
                    row = dict(row)
                    row["database"] = dbname
                    for name in self.p["tables"]:
                        schema, table = split_name(name)
                        if table == row["table"] and schema in (None, row["schema"]):
                            found_names.add(name)
                    rows.append(row)
                running = dict((r["relid"], r["wraparound"]) for r in dconn.execute(AUTOVACUUM_QUERY))
            finally:
                if dconn is not conn:
                    dconn.close()
            scoped = [r for r in rows if in_scope(r, self.p)]
            selected, skipped = plan_tables(scoped, self.settings, opts, self.now, running)
            self.per_database.append({"database": dbname, "xid_age": stats["xid_age"], "mxid_age": stats["mxid_age"],
                                      "rows": rows, "selected": selected, "skipped": skipped})
        unknown = [name for name in self.p["tables"] if name not in found_names]
        if unknown:
            self.main_conn.close()
            self.module.fail_json(msg="unknown table(s) in %s: %s" % (", ".join(self.database_names), ", ".join(unknown)))

        command, options, warnings = command_options(opts, self.version)
        self.warnings.extend(warnings)
        self.command = command
        self.options = options
        if self.p["jobs"] > 1 and self.version < 90500:
            self.warnings.append("jobs > 1 on a server older than 9.5 runs tables one at a time")

    def statement(self, entry):
        parts = []
        for name, value in self.options:
            if value is None:
                parts.append(sql.SQL(name))
            elif isinstance(value, bool):
                parts.append(sql.SQL("{} {}").format(sql.SQL(name), sql.SQL("true" if value else "false")))
            else:
                parts.append(sql.SQL("{} {}").format(sql.SQL(name), sql.Literal(value)))
        target = sql.Identifier(entry["schema"], entry["table"])
        if parts:
            return sql.SQL("{} ({}) {}").format(sql.SQL(self.command), sql.SQL(", ").join(parts), target)
        return sql.SQL("{} {}").format(sql.SQL(self.command), target)

    # --- act -----------------------------------------------------------------------------
    def session_setup(self, conn):
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(milliseconds(self.durations["lock_timeout"]))))
        if self.durations["statement_timeout"] is not None:
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(milliseconds(self.durations["statement_timeout"]))))
        if self.p["cost_delay"] is not None:
            conn.execute(sql.SQL("SET vacuum_cost_delay = {}").format(sql.Literal(str(self.p["cost_delay"]))))
        if self.p["cost_limit"] is not None:
            conn.execute(sql.SQL("SET vacuum_cost_limit = {}").format(sql.Literal(str(self.p["cost_limit"]))))

    def run_one(self, conn, entry, notices):
        statement = entry["statement"]
        del notices[:]
        start = time.monotonic()
        status, message = "ok", None
        try:
            conn.execute(statement)
            # Classified by SQLSTATE where the server sets one; PostgreSQL 15 and older warn
            # "skipping ... --- only superuser or database owner can vacuum it" with the generic 01000.
            locked = [m for code, m in notices if code == "55P03" or "lock not available" in m]
            denied = [m for code, m in notices if code == "42501" or (m.startswith("skipping") and " only " in m)
                      or m.startswith("permission denied")]
            if locked:
                status, message = "skipped_locked", locked[0]
            elif denied:
                status, message = "skipped_permission", denied[0]
        except psycopg.errors.LockNotAvailable as exc:
            status, message = "lock_timeout", str(exc).strip()
        except psycopg.errors.QueryCanceled as exc:
            status, message = "timeout", str(exc).strip()
        except psycopg.errors.UndefinedTable as exc:
            status, message = "skipped_missing", str(exc).strip()
        except psycopg.Error as exc:
            status, message = "error", str(exc).strip() or exc.__class__.__name__
        entry["status"] = status
        entry["message"] = message
        entry["duration_ms"] = round((time.monotonic() - start) * 1000.0, 1)

    def execute_database(self, db, deadline, stop):
        entries = db["selected"]
        work = queue.Queue()
        for entry in entries:
            work.put(entry)
        jobs = max(1, min(self.jobs, len(entries)))
        errors = []

        def worker():
            notices = []
            try:
                conn = connect(self.p, db["database"], APPLICATION_NAME)
            except PostgresConnectError as exc:
                errors.append(str(exc))
                stop.set()
                return
            conn.add_notice_handler(lambda diag: notices.append((diag.sqlstate or "", diag.message_primary or "")))
            try:
                self.session_setup(conn)
                while not stop.is_set():
                    if deadline is not None and time.monotonic() >= deadline:
                        self.budget_exhausted = True
                        return
                    try:
                        entry = work.get_nowait()
                    except queue.Empty:
                        return
                    self.run_one(conn, entry, notices)
                    if entry["status"] == "error" and not self.p["continue_on_error"]:
                        stop.set()
                    if conn.closed or conn.broken:
                        # The server went away: nothing more can run on this connection.
                        stop.set()
            except psycopg.Error as exc:
                # A session that cannot even be set up: its tables are errors, not "not started".
                errors.append("session setup failed: %s" % str(exc).strip())
                stop.set()
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, name="pg_vacuum-%d" % i) for i in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for entry in entries:
            if "status" not in entry:
                entry.update(status="not_started", message="budget exhausted" if self.budget_exhausted else
                             "not started after an earlier failure", duration_ms=0.0)
        if errors:
            for entry in entries:
                if entry["status"] == "not_started":
                    entry["message"] = errors[0]
                    entry["status"] = "error"
        if self.version >= 160000 and does_vacuum(self.p["mode"]) and any(e["status"] == "ok" for e in entries):
            try:
                conn = connect(self.p, db["database"], APPLICATION_NAME)
                try:
                    conn.execute("VACUUM (ONLY_DATABASE_STATS)")
                finally:
                    conn.close()
            except (psycopg.Error, PostgresConnectError) as exc:
                self.warnings.append("VACUUM (ONLY_DATABASE_STATS) in %s failed: %s" % (db["database"], exc))

    def dead_tuples_after(self, db):
        relids = [e["relid"] for e in db["selected"] if e.get("status") == "ok"]
        if not relids:
            return
        try:
            conn = connect(self.p, db["database"], APPLICATION_NAME)
        except PostgresConnectError as exc:
            self.warnings.append("dead tuples after the run not read: %s" % exc)
            return
        try:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            after = dict((r["relid"], r["n_dead_tup"]) for r in conn.execute(
                "SELECT relid::bigint AS relid, n_dead_tup FROM pg_stat_all_tables WHERE relid = ANY(%s)", [relids]))
            lasts = dict((r["relid"], r) for r in conn.execute(
                "SELECT relid::bigint AS relid, last_vacuum, last_autovacuum FROM pg_stat_all_tables WHERE relid = ANY(%s)", [relids]))
        except psycopg.Error as exc:
            self.warnings.append("dead tuples after the run not read: %s" % str(exc).strip())
            return
        finally:
            conn.close()
        for entry in db["selected"]:
            if entry.get("status") == "ok":
                entry["n_dead_tup_after"] = after.get(entry["relid"])
        for row in db["rows"]:
            if row["relid"] in lasts:
                row["last_vacuum"] = lasts[row["relid"]]["last_vacuum"]

    # --- report --------------------------------------------------------------------------
    def build_findings(self, planned_only=False):
        p = self.p
        if self.xmin_holder:
            holder = self.xmin_holder
            long_for = self.durations["long_transaction_warning"]
            old = (holder.get("seconds") or 0) > long_for or (holder["kind"] == "replication_slot" and holder["state"] == "inactive")
            severity = "warning" if old else "info"
            self.findings.append(make_finding(
                "postgres.xmin_horizon", "%s %s" % (holder["kind"], holder["id"]), severity,
                "%s %s holds back cleanup (xmin age %s%s)" % (
                    holder["kind"].replace("_", " "), holder["id"], holder["xmin_age"],
                    ", open %.0f s" % holder["seconds"] if holder.get("seconds") is not None else ""),
                dict(holder)))
        if self.recovery:
            return
        for db in self.per_database:
            age = db["xid_age"]
            severity = "critical" if age >= p["xid_age_critical"] else "warning" if age >= p["xid_age_warning"] else "ok"
            self.findings.append(make_finding(
                "postgres.wraparound", db["database"], severity,
                "transaction-ID age %d (warning at %d, critical at %d)" % (age, p["xid_age_warning"], p["xid_age_critical"]),
                {"xid_age": age, "mxid_age": db["mxid_age"]}))
            stale = []
            threshold = max(p["min_dead_tuples"] or 0, int(self.settings.get("autovacuum_vacuum_threshold", 50)))
            for row in db["rows"]:
                if not in_scope(row, p) or int(row.get("n_dead_tup") or 0) <= threshold:
                    continue
                just_done = any(e["relid"] == row["relid"] and e.get("status") == "ok" and does_vacuum(p["mode"])
                                for e in db["selected"])
                last = max([s for s in (row.get("last_vacuum"), row.get("last_autovacuum")) if s is not None], default=None)
                if not just_done and (last is None or (self.now - last).total_seconds() > self.durations["stale_after"]):
                    stale.append("%s.%s (%d dead, last vacuum %s)" % (
                        row["schema"], row["table"], row["n_dead_tup"], last.isoformat() if last else "never"))
            if stale:
                self.findings.append(make_finding(
                    "postgres.vacuum_stale", db["database"], "warning",
                    "%d table(s) with dead tuples not vacuumed within %s: %s" % (len(stale), p["stale_after"], ", ".join(stale[:5])),
                    {"tables": stale[:50]}))
            if planned_only:
                self.findings.append(make_finding(
                    "postgres.vacuum", db["database"], "info",
                    "check mode: %d table(s) would be processed (%s)" % (len(db["selected"]), p["mode"]), {}))
                continue
            counts = dict((s, 0) for s in STATUSES)
            for entry in db["selected"]:
                counts[entry.get("status", "not_started")] += 1
            failed = [e for e in db["selected"] if e.get("status") == "error"]
            held = [e for e in db["selected"] if e.get("status") in ("skipped_locked", "skipped_permission", "lock_timeout",
                                                                     "timeout", "not_started")]
            if failed:
                severity, summary = "critical", "%d table(s) failed: %s.%s: %s" % (
                    len(failed), failed[0]["schema"], failed[0]["table"], failed[0]["message"])
            elif held:
                severity, summary = "warning", "%d table(s) not done (%s)" % (
                    len(held), ", ".join("%s.%s %s" % (e["schema"], e["table"], e["status"]) for e in held[:5]))
            else:
                severity, summary = "ok", "%d of %d planned table(s) processed (%s)" % (
                    counts["ok"], len(db["selected"]), p["mode"])
            done = []
            for entry in db["selected"]:
                line = "%s.%s: %s in %.0f ms" % (entry["schema"], entry["table"], entry.get("status", "not_started"),
                                                 entry.get("duration_ms", 0.0))
                if entry.get("n_dead_tup_after") is not None:
                    line += ", dead tuples %d -> %d" % (entry["n_dead_tup"], entry["n_dead_tup_after"])
                done.append(line)
            self.findings.append(make_finding("postgres.vacuum", db["database"], severity, summary,
                                              {"counts": counts, "tables": done[:50]}))

    def flush_warnings(self):
        for warning in dict.fromkeys(self.warnings):
            self.module.warn(warning)
        self.warnings = []

    def result(self, planned_only):
        processed, planned, skipped = [], [], []
        totals = dict((s, 0) for s in STATUSES)
        totals.update(planned=0, n_dead_tup_before=0, n_dead_tup_after=0, not_selected={})
        for db in getattr(self, "per_database", []):
            for entry in db["selected"]:
                text = entry["statement"].as_string(self.main_conn)
                planned.append({
                    "database": entry["database"], "schema": entry["schema"], "table": entry["table"],
                    "reasons": entry["reasons"], "sql": text, "total_bytes": entry["total_bytes"],
                    "n_dead_tup": entry["n_dead_tup"], "xid_age": entry["xid_age"], "wraparound": entry["wraparound"],
                })
                totals["planned"] += 1
                if planned_only:
                    continue
                status = entry.get("status", "not_started")
                totals[status] += 1
                totals["n_dead_tup_before"] += entry["n_dead_tup"]
                after = entry.get("n_dead_tup_after", entry["n_dead_tup"])
                totals["n_dead_tup_after"] += after if after is not None else entry["n_dead_tup"]
                processed.append({
                    "database": entry["database"], "schema": entry["schema"], "table": entry["table"], "sql": text,
                    "status": status, "duration_ms": entry.get("duration_ms", 0.0), "message": entry.get("message"),
                    "n_dead_tup_before": entry["n_dead_tup"], "n_dead_tup_after": entry.get("n_dead_tup_after"),
                })
            for entry in db["skipped"]:
                if self.p["not_selected_details"] or len(skipped) < NOT_SELECTED_LISTED:
                    skipped.append({"database": entry["database"], "schema": entry["schema"], "table": entry["table"],
                                    "skip_reason": entry["skip_reason"]})
                reason = entry["skip_reason"].split(",")[0] if entry["skip_reason"].startswith("maintained") else entry["skip_reason"]
                reason = "size below min_size" if reason.startswith("size ") else reason
                totals["not_selected"][reason] = totals["not_selected"].get(reason, 0) + 1
        return planned, skipped, processed, totals

    def run(self):
        self.validate()
        plan_started = time.monotonic()
        self.observe()
        self.plan_ms = round((time.monotonic() - plan_started) * 1000.0, 1)
        self.flush_warnings()
        base = {
            "server_version": server_version_text(self.version),
            "in_recovery": self.recovery,
            "oldest_xmin_holder": self.xmin_holder,
            "budget_exhausted": False,
        }
        if self.recovery:
            dbname = self.main_conn.info.dbname
            self.main_conn.close()
            if self.p["on_recovery"] == "fail":
                self.flush_warnings()
                self.module.fail_json(msg="the server is a standby (in recovery); VACUUM and ANALYZE cannot run there", **base)
            self.build_findings()
            self.findings.append(make_finding("postgres.vacuum", dbname, "info",
                                              "skipped: the server is a standby (in recovery)", {}))
            self.flush_warnings()
            totals = dict((s, 0) for s in STATUSES)
            totals.update(planned=0, n_dead_tup_before=0, n_dead_tup_after=0, duration_ms=0.0, plan_ms=self.plan_ms, jobs=0)
            self.module.exit_json(changed=False, planned=[], not_selected=[], processed=[], databases=[],
                                  totals=totals, findings=self.findings,
                                  worst_severity=worst_severity(self.findings), **base)

        for db in self.per_database:
            for entry in db["selected"]:
                entry["statement"] = self.statement(entry)
        databases = [{"database": d["database"], "xid_age": d["xid_age"], "mxid_age": d["mxid_age"]} for d in self.per_database]

        if self.module.check_mode:
            planned, skipped, processed, totals = self.result(planned_only=True)
            totals["plan_ms"] = self.plan_ms
            self.main_conn.close()
            self.build_findings(planned_only=True)
            self.flush_warnings()
            self.module.exit_json(changed=bool(planned), planned=planned, not_selected=skipped, processed=[],
                                  databases=databases, totals=totals, findings=self.findings,
                                  worst_severity=worst_severity(self.findings), **base)

        self.jobs = self.p["jobs"]
        total_planned = sum(len(d["selected"]) for d in self.per_database)
        if self.jobs > 1:
            cap = min(self.jobs, max(self.free, 1))
            if cap < self.jobs:
                self.warnings.append("jobs lowered from %d to %d: the server has %d connection(s) free" % (self.jobs, cap, self.free))
                self.jobs = cap
        self.budget_exhausted = False
        stop = threading.Event()
        started = time.monotonic()
        deadline = started + self.durations["max_runtime"] if self.durations["max_runtime"] is not None else None
        for db in self.per_database:
            if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                if deadline is not None and time.monotonic() >= deadline:
                    self.budget_exhausted = True
                for entry in db["selected"]:
                    entry.update(status="not_started", duration_ms=0.0,
                                 message="budget exhausted" if self.budget_exhausted else "not started after an earlier failure")
                continue
            if db["selected"]:
                self.execute_database(db, deadline, stop)
                self.dead_tuples_after(db)
        self.build_findings()
        planned, skipped, processed, totals = self.result(planned_only=False)
        self.main_conn.close()
        totals["duration_ms"] = round((time.monotonic() - started) * 1000.0, 1)
        totals["plan_ms"] = self.plan_ms
        totals["jobs"] = min(self.jobs, max(total_planned, 1))
        base["budget_exhausted"] = self.budget_exhausted
        changed = totals["ok"] > 0
        result = dict(changed=changed, planned=planned, not_selected=skipped, processed=processed, databases=databases,
                      totals=totals, findings=self.findings, worst_severity=worst_severity(self.findings), **base)
        if totals["error"] and not self.p["continue_on_error"]:
            failed = [e for e in processed if e["status"] == "error"]
            self.flush_warnings()
            self.module.fail_json(msg="%d table(s) failed; first: %s.%s.%s: %s" % (
                len(failed), failed[0]["database"], failed[0]["schema"], failed[0]["table"], failed[0]["message"]), **result)
        self.flush_warnings()
        self.module.exit_json(**result)


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update({
        "mode": {"type": "str", "choices": ["vacuum", "analyze", "vacuum_analyze", "freeze"], "default": "vacuum_analyze"},
        "full": {"type": "bool", "default": False},
        "allow_full": {"type": "bool", "default": False},
        "databases": {"type": "list", "elements": "str", "default": []},
        "all_databases": {"type": "bool", "default": False},
        "schemas": {"type": "list", "elements": "str", "default": []},
        "exclude_schemas": {"type": "list", "elements": "str", "default": []},
        "tables": {"type": "list", "elements": "str", "default": []},
        "exclude_tables": {"type": "list", "elements": "str", "default": []},
        "select": {"type": "str", "choices": ["needed", "all"], "default": "needed"},
        "min_dead_tuples": {"type": "int"},
        "min_dead_ratio": {"type": "float"},
        "min_mod_since_analyze_ratio": {"type": "float"},
        "min_xid_age": {"type": "int"},
        "min_mxid_age": {"type": "int"},
        "min_size": {"type": "str"},
        "skip_vacuumed_within": {"type": "str"},
        "order_by": {"type": "str", "choices": ["size", "dead_tuples"], "default": "size"},
        "lock_timeout": {"type": "str", "default": "5s"},
        "statement_timeout": {"type": "str"},
        "skip_locked": {"type": "bool", "default": True},
        "truncate": {"type": "bool", "default": False},
        "max_runtime": {"type": "str"},
        "cost_delay": {"type": "float"},
        "cost_limit": {"type": "int"},
        "buffer_usage_limit": {"type": "str"},
        "jobs": {"type": "int", "default": 1},
        "parallel_workers": {"type": "int"},
        "on_recovery": {"type": "str", "choices": ["skip", "fail"], "default": "skip"},
        "continue_on_error": {"type": "bool", "default": False},
        "stale_after": {"type": "str", "default": "7d"},
        "xid_age_warning": {"type": "int", "default": 1300000000},
        "xid_age_critical": {"type": "int", "default": 1400000000},
        "long_transaction_warning": {"type": "str", "default": "1h"},
        "not_selected_details": {"type": "bool", "default": False},
    })
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ensure_psycopg(module)
    Vacuum(module).run()


if __name__ == "__main__":
    main()
