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
  - Partitioned tables are analyzed (autovacuum never analyzes them) when their partitions
    together changed enough, and always with O(select=all); their partitions are vacuumed.
    Naming a partitioned table in O(tables) or O(exclude_tables) names its partitions too.
  - Every holder of the xmin horizon is reported in RV(xmin_holders) (sessions by their
    transaction id or snapshot, prepared transactions, replication slots' C(xmin) and
    C(catalog_xmin), standbys' C(hot_standby_feedback)). A vacuumed table that keeps dead
    tuples it should have removed says so in RV(processed) and raises a warning finding naming
    the holder.
  - When the server goes away during the run, or a job fails, the task fails saying so and
    which tables were done, interrupted and not started, whatever O(fail_on) says; so does a
    table's error without O(continue_on_error). Otherwise the task fails when a finding reaches
    O(fail_on) (V(never) by default, as before the option existed; set V(critical) to fail on a
    database near wraparound or a failed table).
  - Options the server version lacks are dropped with a warning.
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.postgres
  - stronghold.ops.fail_on
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    details: Runs only the read-only selection and returns the plan, with the exact commands.
options:
  fail_on:
    description:
      - Fail the task when a finding reaches this severity. V(never), the default, fails only
        when the work itself fails (see the notes), as pg_vacuum did before this option existed.
    default: never
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
      - Sizes are the files' true sizes, also for a table never vacuumed nor analyzed (whose
        C(pg_class.relpages) is still 0). A table that another session holds or awaits in
        ACCESS EXCLUSIVE mode is not waited for; its size is the C(relpages) estimate, marked
        C(size_estimated) in RV(planned).
    type: str
  skip_vacuumed_within:
    description:
      - Leave out tables vacuumed (or, in V(analyze) mode, analyzed), manually or by autovacuum,
        within this time, such as V(6h) or V(1d) (or seconds). Wraparound risks are never left out.
    type: raw
  order_by:
    description:
      - After wraparound risks (oldest first), process the largest tables first (V(size), as
        vacuumdb does) or those with most dead tuples first (V(dead_tuples)).
    type: str
    choices: [size, dead_tuples]
    default: size
  lock_timeout:
    description:
      - Longest wait for a lock, per table, such as V(5s) or V(500ms) (or seconds, such as V(5));
        a table still locked after it is reported with status C(lock_timeout) and the run goes on.
      - From 1ms to 2147483647ms (about 24.8 days), PostgreSQL's range.
    type: raw
    default: 5s
  statement_timeout:
    description:
      - Longest run of one table's command (status C(timeout) when reached); unset, no limit.
      - From 1ms to 2147483647ms (about 24.8 days), PostgreSQL's range.
    type: raw
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
      - Like every duration of this module, at most a hundred years; C(inf) and C(nan) are refused.
    type: raw
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
      - C(BUFFER_USAGE_LIMIT) of the command (PostgreSQL 16+), such as V(256M); dropped with a
        warning on older servers. V(0), or from 128 KiB to 16 GiB (PostgreSQL's range).
      - Read as the collection reads sizes (V(256M) and V(256MiB) are binary, V(256MB) is
        decimal) and given to the server in kB.
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
        At most 1024.
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
    type: raw
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
      - The oldest holder of the xmin horizon (RV(oldest_xmin_holder)) is a warning finding when
        its transaction is open for longer than this (such as V(1h)), or when it is an inactive
        replication slot; an info finding otherwise.
    type: raw
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
    end with status C(skipped_permission).
  - Seeing other users' sessions in RV(xmin_holders) needs superuser or C(pg_read_all_stats).
  - Before PostgreSQL 18, ANALYZE of a partitioned table also analyzes every partition below it,
    so in O(mode=analyze) the partitions it covers are not planned again (C(analyzed with its
    partitioned table)); from 18 it runs C(ANALYZE ONLY). A partitioned table's modifications
    are its partitions' C(n_mod_since_analyze), which an analyze of a partition resets.
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
      size_estimated: false
      partitioned: false
      n_dead_tup: 41130
      xid_age: 1203
      wraparound: false
  contains:
    database:
      description: Database of the table.
      type: str
    schema:
      description: Schema of the table.
      type: str
    table:
      description: Name of the table.
      type: str
    reasons:
      description: Why the table was selected.
      type: list
      elements: str
    sql:
      description: The exact command.
      type: str
    total_bytes:
      description: Size with indexes and TOAST (for a partitioned table, of its partitions).
      type: int
    size_estimated:
      description: True when the size is the C(pg_class.relpages) estimate (the table was locked exclusively).
      type: bool
    partitioned:
      description: True for a partitioned table (only analyzed).
      type: bool
    n_dead_tup:
      description: Dead tuples before the run.
      type: int
    xid_age:
      description: Transaction-ID age of the table.
      type: int
    wraparound:
      description: True when the table is a wraparound risk.
      type: bool
not_selected:
  description:
    - Tables in scope that were not selected, with the reason; the first 25 unless
      O(not_selected_details=true) (C(totals.not_selected) counts all by reason).
  returned: always
  type: list
  elements: dict
  sample:
    - {database: financial_stronghold, schema: public, table: django_migrations, skip_reason: below every threshold}
  contains:
    database:
      description: Database of the table.
      type: str
    schema:
      description: Schema of the table.
      type: str
    table:
      description: Name of the table.
      type: str
    skip_reason:
      description:
        - Why it was left out, such as C(below every threshold), C(size ... < min_size ...),
          C(autovacuum is working on it), C(partitioned table, VACUUM runs on its partitions),
          C(analyzed with its partitioned table ...).
      type: str
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
      n_dead_tup_kept: 0
      kept: null
      held_back_by: null
      message: null
  contains:
    database:
      description: Database of the table.
      type: str
    schema:
      description: Schema of the table.
      type: str
    table:
      description: Name of the table.
      type: str
    sql:
      description: The command run.
      type: str
    status:
      description:
        - C(ok), C(skipped_locked), C(skipped_permission), C(lock_timeout), C(timeout), C(error),
          C(skipped_missing) (dropped meanwhile) or C(not_started) (budget spent, an earlier
          failure, the server gone).
      type: str
    duration_ms:
      description: Time the command took.
      type: float
    message:
      description: The server's message for a table not done, or why it was not started.
      type: str
    n_dead_tup_before:
      description: Dead tuples before the run.
      type: int
    n_dead_tup_after:
      description: Dead tuples read after the run.
      type: int
    n_dead_tup_kept:
      description:
        - Dead tuples the VACUUM found but could not remove, read right after it (vacuum modes);
          they are kept because a holder of the xmin horizon may still see them.
      type: int
    kept:
      description: When dead tuples were kept, how many and which holder held them back.
      type: str
    held_back_by:
      description: The holder (as in RV(xmin_holders)) blamed for the kept dead tuples.
      type: dict
totals:
  description:
    - Counts by status, dead tuples before and after over the processed tables, tables not
      selected by reason, the time spent observing and planning (C(plan_ms)) and running the
      commands (C(duration_ms)), and the jobs used.
    - The same keys in check mode and on a standby, where nothing ran (C(duration_ms) and C(jobs) are 0 there).
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
    - The oldest holder of the xmin horizon that holds back ordinary tables (else the oldest
      that holds back the system catalogs), as in RV(xmin_holders); null when there is none.
  returned: always
  type: dict
  sample: {kind: session, scope: database, id: "4242", pid: 4242, who: app, application: gunicorn, client: 10.0.4.7,
           database: financial_stronghold, state: idle in transaction, xmin_age: 15230, seconds: 5400.0,
           xact_start: "2026-11-29T00:30:00+00:00", query_start: "2026-11-29T00:30:02+00:00", xid: "48213", xmin: null}
xmin_holders:
  description:
    - Everything that keeps VACUUM from removing dead tuples newer than its xmin, oldest first
      (at most 20); the module's own sessions and autovacuum are left out.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: replication_slot, scope: cluster, id: standby1, pid: null, who: null, application: null, client: null,
       database: null, state: "physical slot, inactive", xmin_age: 90211, seconds: null, xact_start: null,
       query_start: null, xid: null, xmin: "39001"}
  contains:
    kind:
      description:
        - C(session) (by its transaction id or its snapshot; idle in transaction, a long query,
          REPEATABLE READ), C(prepared_transaction), C(replication_slot) or C(standby_feedback)
          (a standby with C(hot_standby_feedback) and no slot).
      type: str
    scope:
      description:
        - What it holds back. C(database) is a session or prepared transaction, in its own
          database; C(cluster) a slot's C(xmin) or a standby, in every database; C(catalogs) a
          slot's C(catalog_xmin), for the system catalogs only.
      type: str
    id:
      description: Session pid, prepared transaction gid, slot name or standby name.
      type: str
    pid:
      description: Backend process id (session, walsender, active slot).
      type: int
    who:
      description: Database user.
      type: str
    application:
      description: C(application_name), or the logical slot's plugin.
      type: str
    client:
      description: Client address, or C(local socket).
      type: str
    database:
      description: Database it belongs to.
      type: str
    state:
      description: Session state, C(prepared), or slot type and activity.
      type: str
    xmin_age:
      description: Age in transactions of what it holds (older holds back more).
      type: int
    seconds:
      description: How long its transaction has been open.
      type: float
    xact_start:
      description: Start of its transaction.
      type: str
    query_start:
      description: Start of its last query.
      type: str
    xid:
      description: Its transaction id, when it has one.
      type: str
    xmin:
      description: Its snapshot's or slot's xmin.
      type: str
databases:
  description: Per database, the age of C(datfrozenxid) before the run.
  returned: always
  type: list
  elements: dict
  sample: [{database: financial_stronghold, xid_age: 1523, mxid_age: 1}]
  contains:
    database:
      description: Name of the database.
      type: str
    xid_age:
      description: C(age(datfrozenxid)).
      type: int
    mxid_age:
      description: C(mxid_age(datminmxid)).
      type: int
findings:
  description:
    - Findings in the collection's model (wraparound age, stale tables, failed tables, the xmin
      holder, tables that kept dead tuples (C(postgres.vacuum_kept), a warning), and the outcome).
  returned: always
  type: list
  elements: dict
  sample:
    - {check: postgres.vacuum, target: financial_stronghold, severity: ok, summary: 1 of 1 planned table processed, details: {}}
  contains:
    check:
      description:
        - C(postgres.vacuum) (per database, what its planned tables came to; on a standby, that
          nothing ran), C(postgres.wraparound) (per database, C(age(datfrozenxid)) against
          O(xid_age_warning) and O(xid_age_critical)), C(postgres.vacuum_stale) (tables with dead
          tuples not vacuumed within O(stale_after)), C(postgres.vacuum_kept) (per table, dead
          tuples a VACUUM kept) or C(postgres.xmin_horizon) (the oldest holder of the xmin horizon).
      type: str
    target:
      description:
        - The database; C(database.schema.table) for C(postgres.vacuum_kept); the holder's kind
          and id for C(postgres.xmin_horizon).
      type: str
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
    summary:
      description: One line for the on-call person.
      type: str
    details:
      description:
        - For C(postgres.vacuum), C(counts) by status, C(tables) (one line per planned table,
          at most 50), and C(n_dead_tup_before) and C(n_dead_tup_after) (the dead tuples of the
          planned tables before and after the run; not in check mode); for C(postgres.wraparound), C(xid_age) and C(mxid_age); for
          C(postgres.vacuum_stale), C(tables); for C(postgres.vacuum_kept), C(n_dead_tup_before),
          C(n_dead_tup_kept) and C(held_back_by); for C(postgres.xmin_horizon), the holder.
      type: dict
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import queue
import threading
import time
import traceback
from contextlib import closing
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.stronghold.ops.plugins.module_utils import _vacuum as planner
from ansible_collections.stronghold.ops.plugins.module_utils import _vacuum_report as report
from ansible_collections.stronghold.ops.plugins.module_utils import _vacuum_sql as queries
from ansible_collections.stronghold.ops.plugins.module_utils import _xmin_holders as xmin
from ansible_collections.stronghold.ops.plugins.module_utils._postgres import (
    PSYCOPG_IMPORT_ERROR,
    PostgresConnectError,
    check_connection_params,
    connect,
    in_recovery,
    psycopg,
    server_version_text,
    sql,
)

APPLICATION_NAME = "stronghold.ops.pg_vacuum"


def server_gone(exc, conn=None):
    """Whether a psycopg error means the server (or our session on it) is gone."""
    broken = conn is not None and (conn.broken or conn.closed)
    return planner.connection_lost(getattr(exc, "sqlstate", None), broken, isinstance(exc, psycopg.OperationalError))


def set_setting(conn, name, value):
    conn.execute(sql.SQL("SET {} = {}").format(sql.SQL(name), sql.Literal(value)))


class Vacuum:
    """One run: observe (read-only) and plan, act on each planned table, then the result."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.checked = report.validate(self.p, check_connection_params(self.p))  # VacuumError before anything is read
        self.opts = report.planner_options(self.p, self.checked)
        self.session = report.session_settings(self.p, self.checked)
        self.observed = report.Observed(now=datetime.now(timezone.utc))
        self.outcome = report.Outcome(check_mode=module.check_mode)
        self.warnings = []

    def connect(self, dbname=None):
        return connect(self.p, dbname, APPLICATION_NAME)

    def holders(self, conn):
        return [xmin.holder_dict(r) for r in conn.execute(xmin.XMIN_HOLDERS_QUERY, {"application": APPLICATION_NAME})]

    # --- observe -------------------------------------------------------------------------
    def observe(self, conn):
        """Everything the plan needs, read-only; VacuumError (nothing changed) on names that do not exist."""
        seen = self.observed
        set_setting(conn, *self.session[0])
        seen.server_version = conn.info.server_version
        seen.version_text = server_version_text(seen.server_version)
        seen.database = conn.info.dbname
        seen.server = planner.describe_server(conn.info.host, conn.info.port)
        seen.in_recovery = in_recovery(conn)
        seen.settings = dict((r["name"], float(r["setting"])) for r in conn.execute(queries.SETTINGS_QUERY))
        connectable = [r["datname"] for r in conn.execute(queries.DATABASES_QUERY)] if self.p["all_databases"] else []
        known = [r["datname"] for r in conn.execute("SELECT datname FROM pg_database")]
        names = report.database_names(self.p, seen.database, connectable, known)
        seen.free = planner.free_for(seen.settings, conn.execute(queries.CLIENTS_QUERY).fetchone()["n"])
        seen.xmin_holders = self.holders(conn)
        if seen.in_recovery:
            return
        found = set()
        for dbname in names:
            seen.databases.append(self.plan_database(conn, dbname, found))
        report.check_tables_found(self.p, names, found)
        self.warnings.extend(report.plan_warnings(self.p, self.opts, seen.server_version))

    def plan_database(self, conn, dbname, found):
        """One database's tables (read on a connection to it) and their plan; ``found`` gets the names seen."""
        dconn = conn if dbname == conn.info.dbname else self.connect(dbname)
        try:
            stats = dconn.execute(queries.DATABASE_AGE_QUERY).fetchone()
            rows = self.table_rows(dconn)
            running = dict((r["relid"], r["wraparound"]) for r in dconn.execute(queries.AUTOVACUUM_QUERY))
        finally:
            if dconn is not conn:
                dconn.close()
        selected, skipped, names = report.plan_database(self.p, self.opts, self.observed, dbname, rows, running)
        found.update(names)
        return dict(stats, database=dbname, rows=rows, selected=selected, skipped=skipped)

    def table_rows(self, conn):
        """Every table in the database, with its true size where reading it cannot wait for a lock."""
        set_setting(conn, "lock_timeout", queries.SIZE_LOCK_TIMEOUT)
        everything = self.p["select"] == "all"
        try:
            # select: needed reads estimates first, then the true sizes of the tables the plan
            # can use them for (a few of thousands, where the size read costs most).
            rows = [dict(r) for r in conn.execute(queries.tables_query(self.observed.server_version, everything))]
            if not everything:
                seen = self.observed
                need = planner.sizes_needed(rows, seen.settings, self.opts, seen.now)
                if need:
                    planner.apply_sizes(rows, conn.execute(queries.sizes_query(), [need]).fetchall())
        except psycopg.errors.LockNotAvailable:
            self.warnings.append(
                "table sizes are estimates (pg_class.relpages): a table was locked exclusively while they were read"
            )
            rows = [dict(r) for r in conn.execute(queries.tables_query(self.observed.server_version, False))]
        set_setting(conn, *self.session[0])  # an error above fails the planning: nothing to reset then
        return rows

    def statement(self, entry):
        prefix = planner.command_prefix(self.opts, self.observed.server_version, entry["relkind"])
        return sql.SQL("{} {}").format(sql.SQL(prefix), sql.Identifier(entry["schema"], entry["table"]))

    # --- act -----------------------------------------------------------------------------
    def run_one(self, conn, entry, notices):
        del notices[:]
        start = time.monotonic()
        try:
            conn.execute(entry["statement"])
            status, message = planner.notice_status(notices)
        except psycopg.errors.LockNotAvailable as exc:
            status, message = "lock_timeout", str(exc).strip()
        except psycopg.errors.QueryCanceled as exc:
            status, message = "timeout", str(exc).strip()
        except psycopg.errors.UndefinedTable as exc:
            status, message = "skipped_missing", str(exc).strip()
        except psycopg.Error as exc:
            status, message = "error", str(exc).strip() or exc.__class__.__name__
            if server_gone(exc, conn):
                entry["interrupted"] = True
                self.outcome.server_lost(message)
                message = "interrupted, the server went away: %s" % message.splitlines()[0]
        entry.update(status=status, message=message, duration_ms=round((time.monotonic() - start) * 1000.0, 1))
        if status == "ok" and planner.reads_kept(self.p["mode"], entry) and self.observed.server_version >= 150000:
            # Read at once, before other sessions add to it: right after a VACUUM, n_dead_tup is
            # the count of dead tuples that VACUUM found but could not remove ("dead but not yet
            # removable"; VACUUM VERBOSE prints it too, but in the server's language and in a
            # format that changes between versions). From PostgreSQL 15 VACUUM writes it to
            # shared memory at once; older servers send it to the statistics collector, so
            # after_database() reads it there later.
            try:
                row = conn.execute("SELECT n_dead_tup FROM pg_stat_all_tables WHERE relid = %s", [entry["relid"]])
                row = row.fetchone()
                entry["n_dead_tup_kept"] = row["n_dead_tup"] if row else None
            except psycopg.Error as exc:
                self.warnings.append(
                    "dead tuples left by the vacuum of %s.%s not read: %s"
                    % (entry["schema"], entry["table"], str(exc).strip())
                )

    def act(self, conn):
        outcome = self.outcome
        outcome.jobs, warning = planner.jobs_for(self.p["jobs"], self.observed.free)
        self.warnings.extend([warning] if warning else [])
        started = time.monotonic()
        budget = self.checked.durations["max_runtime"]
        deadline = started + budget if budget is not None else None
        for db in self.observed.databases:
            spent = deadline is not None and time.monotonic() >= deadline
            if outcome.stop.is_set() or spent:
                outcome.budget_exhausted = outcome.budget_exhausted or (spent and not outcome.stop.is_set())
                outcome.not_started(db["selected"])
            elif db["selected"]:
                self.execute_database(db, deadline)
                self.after_database(db)
                self.blame_holders(conn, db)
        outcome.duration_ms = round((time.monotonic() - started) * 1000.0, 1)

    def worker(self, db, work, deadline):
        # Whatever happens in here must reach the task's result: an exception that escaped a
        # thread would only end the thread, and the run would report success with its tables
        # "not_started".
        conn = None
        try:
            conn = self.connect(db["database"])
            notices = []
            conn.add_notice_handler(lambda diag: notices.append((diag.sqlstate or "", diag.message_primary or "")))
            for name, value in self.session:
                set_setting(conn, name, value)
            while not self.outcome.stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    self.outcome.budget_exhausted = True
                    return
                try:
                    entry = work.get_nowait()
                except queue.Empty:
                    return
                self.run_one(conn, entry, notices)  # catches every psycopg.Error of its table
                if (entry["status"] == "error" and not self.p["continue_on_error"]) or self.outcome.lost is not None:
                    self.outcome.stop.set()
        except PostgresConnectError as exc:
            self.outcome.job_failed(planner.connection_refused(str(exc)), str(exc), "a job could not connect: %s" % exc)
        except psycopg.Error as exc:  # SET of the session's settings
            text = str(exc).strip()
            self.outcome.job_failed(
                server_gone(exc, conn), text, "session setup failed: %s" % (text or type(exc).__name__)
            )
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.outcome.job_failed(False, "", "%s: %s\n%s" % (exc.__class__.__name__, exc, traceback.format_exc()))
        finally:
            if conn is not None:
                conn.close()

    def execute_database(self, db, deadline):
        entries = db["selected"]
        work = queue.Queue()
        for entry in entries:
            work.put(entry)
        jobs = max(1, min(self.outcome.jobs, len(entries)))
        threads = [threading.Thread(target=self.worker, args=(db, work, deadline)) for dummy in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.outcome.not_started(entries)

    def after_database(self, db):
        """VACUUM (ONLY_DATABASE_STATS) once a database's tables are vacuumed, then their statistics after the run."""
        if self.outcome.lost is not None or not any(e["status"] == "ok" for e in db["selected"]):
            return
        version = self.observed.server_version
        try:
            with closing(self.connect(db["database"])) as conn:
                if version >= 160000 and planner.does_vacuum(self.p["mode"]):
                    try:
                        conn.execute("VACUUM (ONLY_DATABASE_STATS)")
                    except psycopg.Error as exc:
                        self.warnings.append("VACUUM (ONLY_DATABASE_STATS) in %s failed: %s" % (db["database"], exc))
                conn.execute("SELECT pg_stat_clear_snapshot()")
                relids = [e["relid"] for e in db["selected"] if e["status"] == "ok"]
                after = dict((r["relid"], r) for r in conn.execute(queries.DEAD_TUPLES_QUERY, [relids]))
        except (psycopg.Error, PostgresConnectError) as exc:
            self.warnings.append("dead tuples after the run not read: %s" % str(exc).strip())
            return
        planner.record_after(db["selected"], db["rows"], after, self.p["mode"], version)

    def blame_holders(self, conn, db):
        """Name, for each table whose VACUUM left dead tuples, what held back the xmin horizon."""
        kept = [e for e in db["selected"] if (e.get("n_dead_tup_kept") or 0) > 0]
        holders = xmin.holders_for(self.observed.xmin_holders, db["database"])
        if kept and not holders and self.outcome.lost is None:
            # None was seen while planning: one may have begun since (and held this VACUUM back).
            try:
                holders = xmin.holders_for(self.holders(conn), db["database"])
            except psycopg.Error as exc:
                self.warnings.append("holders of the xmin horizon not read again: %s" % str(exc).strip())
        for entry in kept:
            entry["held_back_by"] = holders[0] if holders else None

    def plan(self, conn):
        """observe(), then each planned table's command; planning only reads, so its errors changed nothing."""
        try:
            self.observe(conn)
            for db in self.observed.databases:
                for entry in db["selected"]:
                    entry["statement"] = self.statement(entry)
                    # Rendered now, while the connection is sure to be up (quoting needs it).
                    entry["sql"] = entry["statement"].as_string(conn)
        except psycopg.Error as exc:
            message = str(exc).strip() or exc.__class__.__name__
            raise report.planning_failed(message, server_gone(exc, conn), self.observed.server) from exc

    def run(self):
        started = time.monotonic()
        try:
            with closing(self.connect()) as conn:
                self.plan(conn)
                self.observed.plan_ms = round((time.monotonic() - started) * 1000.0, 1)
                if not self.module.check_mode and not self.observed.in_recovery:
                    self.act(conn)
            output = report.result(self.p, self.checked, self.observed, self.outcome)
            problem = report.failure(self.p, self.observed, self.outcome, output)
            if problem is not None:
                raise problem
            return output
        finally:
            for warning in dict.fromkeys(self.warnings):
                self.module.warn(warning)


def main():
    module = AnsibleModule(
        argument_spec=report.ARGUMENT_SPEC, mutually_exclusive=report.MUTUALLY_EXCLUSIVE, supports_check_mode=True
    )
    if psycopg is None:
        output = {
            "msg": missing_required_lib("psycopg (version 3)", url="https://pypi.org/project/psycopg/"),
            "exception": PSYCOPG_IMPORT_ERROR,
        }
    else:
        try:
            output = Vacuum(module).run()
        except report.VacuumError as exc:
            output = exc.output()
        except PostgresConnectError as exc:
            output = {"msg": str(exc)}
    if "msg" in output:
        module.fail_json(**output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
