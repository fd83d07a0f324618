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
    which tables were done, interrupted and not started.
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
      - Sizes are the files' true sizes, also for a table never vacuumed nor analyzed (whose
        C(pg_class.relpages) is still 0). A table that another session holds or awaits in
        ACCESS EXCLUSIVE mode is not waited for; its size is the C(relpages) estimate, marked
        C(size_estimated) in RV(planned).
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
      - From 1ms to 2147483647ms (about 24.8 days), PostgreSQL's range.
    type: str
    default: 5s
  statement_timeout:
    description:
      - Longest run of one table's command (status C(timeout) when reached); unset, no limit.
      - From 1ms to 2147483647ms (about 24.8 days), PostgreSQL's range.
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
      - Like every duration of this module, at most a hundred years; C(inf) and C(nan) are refused.
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
      - The oldest holder of the xmin horizon (RV(oldest_xmin_holder)) is a warning finding when
        its transaction is open for longer than this (such as V(1h)), or when it is an inactive
        replication slot; an info finding otherwise.
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
    aggregate_partitions,
    connection_lost,
    connection_refused,
    describe_holder,
    does_vacuum,
    entry_command,
    free_connections,
    holders_for,
    kept_dead_tuples,
    lost_summary,
    oldest_holder,
    plan_tables,
    timeout_problem,
)

APPLICATION_NAME = "stronghold.ops.pg_vacuum"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")

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

# Holders listed in xmin_holders (the oldest first).
HOLDERS_LISTED = 20

# Tables listed in not_selected unless not_selected_details is true (the counts by reason are
# always in totals): a database of thousands of tables would otherwise return a large result
# that Ansible must carry through every callback.
NOT_SELECTED_LISTED = 25

STATUSES = (
    "ok",
    "skipped_permission",
    "skipped_locked",
    "lock_timeout",
    "timeout",
    "error",
    "skipped_missing",
    "not_started",
)


def split_name(name):
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


def names_match(name, lineage):
    """Whether a name of tables/exclude_tables designates a table or one of its partitioned ancestors."""
    schema, table = split_name(name)
    return any(t == table and schema in (None, s) for s, t in lineage)


def in_scope(row, p):
    """Scope by schema (the table's own) and by name: naming a partitioned table names its partitions."""
    if p["schemas"] and row["schema"] not in p["schemas"]:
        return False
    if row["schema"] in p["exclude_schemas"]:
        return False
    lineage = row.get("lineage") or [(row["schema"], row["table"])]
    if any(names_match(name, lineage) for name in p["exclude_tables"]):
        return False
    if p["tables"]:
        return any(names_match(name, lineage) for name in p["tables"])
    return True


def milliseconds(seconds):
    return "%dms" % max(int(round(seconds * 1000)), 0)


# BUFFER_USAGE_LIMIT's range (PostgreSQL 16), and PARALLEL's.
BUFFER_USAGE_MIN = 128 * 1024
BUFFER_USAGE_MAX = 16 * 1024**3
PARALLEL_MAX = 1024
# One thread and one connection per job; max_connections cannot exceed 262143.
JOBS_MAX = 262143


def server_gone(exc, conn=None):
    """Whether a psycopg error means the server (or our session on it) is gone."""
    broken = conn is not None and (conn.broken or conn.closed)
    return connection_lost(getattr(exc, "sqlstate", None), broken, isinstance(exc, psycopg.OperationalError))


def describe_server(conn):
    """host:port, or the socket directory and port, as the connection reached them."""
    host, port = conn.info.host, conn.info.port
    if host.startswith("/"):
        return "on socket %s port %s" % (host, port)
    return "%s:%s" % ("[%s]" % host if ":" in host else host, port)


def holder_dict(row):
    holder = dict(row)
    for key in ("xact_start", "query_start"):
        if holder.get(key) is not None:
            holder[key] = holder[key].isoformat()
    return holder


class Vacuum:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.warnings = []
        self.findings = []
        self.now = datetime.now(timezone.utc)
        self.lock = threading.Lock()
        # First message of a lost connection (the server went away), and exceptions of workers.
        self.lost = None
        self.crashes = []

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
        for name in (
            "min_dead_tuples",
            "min_xid_age",
            "min_mxid_age",
            "cost_limit",
            "parallel_workers",
            "xid_age_warning",
            "xid_age_critical",
        ):
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
            problems.append(
                "xid_age_warning (%d) must not exceed xid_age_critical (%d)"
                % (p["xid_age_warning"], p["xid_age_critical"])
            )
        for name in ("tables", "exclude_tables", "schemas", "exclude_schemas", "databases"):
            if any(not item or not item.strip() for item in p[name]):
                problems.append("%s contains an empty name" % name)
        self.durations = {}
        for name in (
            "lock_timeout",
            "statement_timeout",
            "max_runtime",
            "skip_vacuumed_within",
            "stale_after",
            "long_transaction_warning",
        ):
            self.durations[name] = None
            if p[name] is None:
                continue
            try:
                self.durations[name] = parse_duration(p[name])
            except FindingError as exc:
                problems.append("%s: %s" % (name, exc))
        for name in ("lock_timeout", "statement_timeout"):
            problem = timeout_problem(name, p[name], self.durations[name])
            if problem:
                problems.append(problem)
                self.durations[name] = None
        self.min_size = None
        if p["min_size"] is not None:
            try:
                self.min_size = parse_size(p["min_size"])
            except FindingError as exc:
                problems.append("min_size: %s" % exc)
        self.buffer_usage_limit = None
        if p["buffer_usage_limit"] is not None:
            try:
                limit = parse_size(p["buffer_usage_limit"])
            except FindingError as exc:
                problems.append("buffer_usage_limit: %s" % exc)
            else:
                # PostgreSQL's own range (0 = no ring buffer); passed in kB, its unit, so that the
                # server reads the size the collection's parser read.
                if limit != 0 and not BUFFER_USAGE_MIN <= limit <= BUFFER_USAGE_MAX:
                    problems.append(
                        "buffer_usage_limit must be 0 or between 128kB and 16GB (PostgreSQL's range), got %r"
                        % p["buffer_usage_limit"]
                    )
                else:
                    self.buffer_usage_limit = "%dkB" % (limit // 1024)
        if p["parallel_workers"] is not None and p["parallel_workers"] > PARALLEL_MAX:
            problems.append(
                "parallel_workers must be at most %d (PostgreSQL's limit), got %d"
                % (PARALLEL_MAX, p["parallel_workers"])
            )
        if p["jobs"] > JOBS_MAX:
            problems.append("jobs must be at most %d, got %d" % (JOBS_MAX, p["jobs"]))
        if problems:
            self.module.fail_json(msg="; ".join(problems))

    def planner_options(self):
        p = self.p
        return {
            "mode": p["mode"],
            "select": p["select"],
            "full": p["full"],
            "truncate": p["truncate"],
            "skip_locked": p["skip_locked"],
            "parallel_workers": p["parallel_workers"],
            "buffer_usage_limit": self.buffer_usage_limit,
            "order_by": p["order_by"],
            "min_dead_tuples": p["min_dead_tuples"],
            "min_dead_ratio": p["min_dead_ratio"],
            "min_mod_since_analyze_ratio": p["min_mod_since_analyze_ratio"],
            "min_xid_age": p["min_xid_age"],
            "min_mxid_age": p["min_mxid_age"],
            "min_size": self.min_size,
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
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
                "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname"
            ).fetchall()
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
        in_use = conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).fetchone()["n"]
        self.free = free_connections(
            self.settings.get("max_connections", 100),
            self.settings.get("superuser_reserved_connections", 3) + self.settings.get("reserved_connections", 0),
            in_use,
        )
        self.server = describe_server(conn)
        self.xmin_holders = [
            holder_dict(r) for r in conn.execute(XMIN_HOLDERS_QUERY, {"application": APPLICATION_NAME})
        ]
        self.xmin_holder = oldest_holder(self.xmin_holders)
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
                stats = dconn.execute(
                    "SELECT age(datfrozenxid)::bigint AS xid_age, mxid_age(datminmxid)::bigint AS mxid_age "
                    "FROM pg_database WHERE datname = current_database()"
                ).fetchone()
                rows = self.table_rows(dconn, n_ins)
                running = dict((r["relid"], r["wraparound"]) for r in dconn.execute(AUTOVACUUM_QUERY))
            finally:
                if dconn is not conn:
                    dconn.close()
            names = dict((r["relid"], (r["schema"], r["table"])) for r in rows)
            for row in rows:
                row["database"] = dbname
                row["lineage"] = [(row["schema"], row["table"])] + [names[a] for a in row["ancestors"] if a in names]
                for name in self.p["tables"]:
                    if names_match(name, row["lineage"][:1]):
                        found_names.add(name)
            aggregate_partitions(rows)
            scoped = [r for r in rows if in_scope(r, self.p)]
            selected, skipped = plan_tables(scoped, self.settings, opts, self.now, running, server_version=self.version)
            self.per_database.append(
                {
                    "database": dbname,
                    "xid_age": stats["xid_age"],
                    "mxid_age": stats["mxid_age"],
                    "rows": rows,
                    "selected": selected,
                    "skipped": skipped,
                }
            )
        unknown = [name for name in self.p["tables"] if name not in found_names]
        if unknown:
            self.main_conn.close()
            self.module.fail_json(
                msg="unknown table(s) in %s: %s" % (", ".join(self.database_names), ", ".join(unknown))
            )

        self.opts = opts
        for relkind in ("r", "p"):
            self.warnings.extend(entry_command(opts, self.version, relkind)[3])
        if self.p["jobs"] > 1 and self.version < 90500:
            self.warnings.append("jobs > 1 on a server older than 9.5 runs tables one at a time")

    def table_rows(self, conn, n_ins):
        """Every table in the database, with its true size where reading it cannot wait for a lock."""
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(SIZE_LOCK_TIMEOUT)))
        try:
            try:
                return [
                    dict(r) for r in conn.execute(TABLES_QUERY.replace("{n_ins}", n_ins).replace("{exact}", "true"))
                ]
            except psycopg.errors.LockNotAvailable:
                self.warnings.append(
                    "table sizes are estimates (pg_class.relpages): a table was locked exclusively while they were read"
                )
                return [
                    dict(r) for r in conn.execute(TABLES_QUERY.replace("{n_ins}", n_ins).replace("{exact}", "false"))
                ]
        finally:
            conn.execute(
                sql.SQL("SET lock_timeout = {}").format(sql.Literal(milliseconds(self.durations["lock_timeout"])))
            )

    def statement(self, entry):
        command, options, only, dummy = entry_command(self.opts, self.version, entry["relkind"])
        parts = []
        for name, value in options:
            if value is None:
                parts.append(sql.SQL(name))
            elif isinstance(value, bool):
                parts.append(sql.SQL("{} {}").format(sql.SQL(name), sql.SQL("true" if value else "false")))
            else:
                parts.append(sql.SQL("{} {}").format(sql.SQL(name), sql.Literal(value)))
        target = sql.Identifier(entry["schema"], entry["table"])
        if only:
            target = sql.SQL("ONLY {}").format(target)
        if parts:
            return sql.SQL("{} ({}) {}").format(sql.SQL(command), sql.SQL(", ").join(parts), target)
        return sql.SQL("{} {}").format(sql.SQL(command), target)

    # --- act -----------------------------------------------------------------------------
    def session_setup(self, conn):
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(milliseconds(self.durations["lock_timeout"]))))
        if self.durations["statement_timeout"] is not None:
            conn.execute(
                sql.SQL("SET statement_timeout = {}").format(
                    sql.Literal(milliseconds(self.durations["statement_timeout"]))
                )
            )
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
            denied = [
                m
                for code, m in notices
                if code == "42501" or (m.startswith("skipping") and " only " in m) or m.startswith("permission denied")
            ]
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
            if server_gone(exc, conn):
                entry["interrupted"] = True
                self.lost_server(message)
                message = "interrupted, the server went away: %s" % message.splitlines()[0]
        entry["status"] = status
        entry["message"] = message
        entry["duration_ms"] = round((time.monotonic() - start) * 1000.0, 1)
        if status == "ok" and does_vacuum(self.p["mode"]) and entry["relkind"] != "p" and self.version >= 150000:
            # Read at once, before other sessions add to it: right after a VACUUM, n_dead_tup is
            # the count of dead tuples that VACUUM found but could not remove ("dead but not yet
            # removable"; VACUUM VERBOSE prints it too, but in the server's language and in a
            # format that changes between versions). From PostgreSQL 15 VACUUM writes it to
            # shared memory at once; older servers send it to the statistics collector, so
            # dead_tuples_after() reads it there later.
            try:
                row = conn.execute(
                    "SELECT n_dead_tup FROM pg_stat_all_tables WHERE relid = %s", [entry["relid"]]
                ).fetchone()
                entry["n_dead_tup_kept"] = row["n_dead_tup"] if row else None
            except psycopg.Error as exc:
                self.warnings.append(
                    "dead tuples left by the vacuum of %s.%s not read: %s"
                    % (entry["schema"], entry["table"], str(exc).strip())
                )

    def lost_server(self, message):
        with self.lock:
            if self.lost is None:
                self.lost = message.splitlines()[0] if message else "connection lost"

    def execute_database(self, db, deadline, stop):
        entries = db["selected"]
        work = queue.Queue()
        for entry in entries:
            work.put(entry)
        jobs = max(1, min(self.jobs, len(entries)))

        def worker():
            # Whatever happens in here must reach the task's result: an exception that escaped
            # a thread would only end the thread, and the run would report success with its
            # tables "not_started".
            conn = None
            try:
                try:
                    conn = connect(self.p, db["database"], APPLICATION_NAME)
                except PostgresConnectError as exc:
                    if connection_refused(str(exc)):
                        self.lost_server(str(exc))
                    else:
                        self.crashes.append("a job could not connect: %s" % exc)
                    stop.set()
                    return
                notices = []
                conn.add_notice_handler(lambda diag: notices.append((diag.sqlstate or "", diag.message_primary or "")))
                try:
                    self.session_setup(conn)
                except psycopg.Error as exc:
                    if server_gone(exc, conn):
                        self.lost_server(str(exc).strip())
                    else:
                        self.crashes.append("session setup failed: %s" % (str(exc).strip() or exc.__class__.__name__))
                    stop.set()
                    return
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
                    if self.lost is not None:
                        stop.set()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self.crashes.append("%s: %s\n%s" % (exc.__class__.__name__, exc, traceback.format_exc()))
                stop.set()
            finally:
                if conn is not None:
                    conn.close()

        threads = [threading.Thread(target=worker, name="pg_vacuum-%d" % i) for i in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for entry in entries:
            if "status" not in entry:
                if self.lost is not None:
                    why = "not started: the server went away"
                elif self.crashes:
                    why = "not started: %s" % self.crashes[0].splitlines()[0]
                elif self.budget_exhausted:
                    why = "budget exhausted"
                else:
                    why = "not started after an earlier failure"
                entry.update(status="not_started", message=why, duration_ms=0.0)
        if (
            self.lost is None
            and self.version >= 160000
            and does_vacuum(self.p["mode"])
            and any(e["status"] == "ok" for e in entries)
        ):
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
        if not relids or self.lost is not None:
            return
        try:
            conn = connect(self.p, db["database"], APPLICATION_NAME)
        except PostgresConnectError as exc:
            self.warnings.append("dead tuples after the run not read: %s" % exc)
            return
        try:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            after = dict(
                (r["relid"], r["n_dead_tup"])
                for r in conn.execute(
                    "SELECT relid::bigint AS relid, n_dead_tup FROM pg_stat_all_tables WHERE relid = ANY(%s)", [relids]
                )
            )
            lasts = dict(
                (r["relid"], r)
                for r in conn.execute(
                    "SELECT relid::bigint AS relid, last_vacuum, last_autovacuum FROM pg_stat_all_tables WHERE relid = ANY(%s)",
                    [relids],
                )
            )
        except psycopg.Error as exc:
            self.warnings.append("dead tuples after the run not read: %s" % str(exc).strip())
            return
        finally:
            conn.close()
        for entry in db["selected"]:
            if entry.get("status") == "ok":
                entry["n_dead_tup_after"] = after.get(entry["relid"])
                if self.version < 150000 and does_vacuum(self.p["mode"]) and entry["relkind"] != "p":
                    entry["n_dead_tup_kept"] = entry["n_dead_tup_after"]
        for row in db["rows"]:
            if row["relid"] in lasts:
                row["last_vacuum"] = lasts[row["relid"]]["last_vacuum"]

    # --- report --------------------------------------------------------------------------
    def build_findings(self, planned_only=False):
        p = self.p
        if self.xmin_holder:
            holder = self.xmin_holder
            long_for = self.durations["long_transaction_warning"]
            old = (holder.get("seconds") or 0) > long_for or (
                holder["kind"] == "replication_slot" and "inactive" in (holder["state"] or "")
            )
            severity = "warning" if old else "info"
            self.findings.append(
                make_finding(
                    "postgres.xmin_horizon",
                    "%s %s" % (holder["kind"], holder["id"]),
                    severity,
                    "%s holds back cleanup" % describe_holder(holder),
                    dict(holder),
                )
            )
        if self.recovery:
            return
        for db in self.per_database:
            age = db["xid_age"]
            severity = (
                "critical" if age >= p["xid_age_critical"] else "warning" if age >= p["xid_age_warning"] else "ok"
            )
            self.findings.append(
                make_finding(
                    "postgres.wraparound",
                    db["database"],
                    severity,
                    "transaction-ID age %d (warning at %d, critical at %d)"
                    % (age, p["xid_age_warning"], p["xid_age_critical"]),
                    {"xid_age": age, "mxid_age": db["mxid_age"]},
                )
            )
            stale = []
            threshold = max(p["min_dead_tuples"] or 0, int(self.settings.get("autovacuum_vacuum_threshold", 50)))
            for row in db["rows"]:
                if not in_scope(row, p) or int(row.get("n_dead_tup") or 0) <= threshold:
                    continue
                just_done = any(
                    e["relid"] == row["relid"] and e.get("status") == "ok" and does_vacuum(p["mode"])
                    for e in db["selected"]
                )
                last = max(
                    [s for s in (row.get("last_vacuum"), row.get("last_autovacuum")) if s is not None], default=None
                )
                if not just_done and (
                    last is None or (self.now - last).total_seconds() > self.durations["stale_after"]
                ):
                    stale.append(
                        "%s.%s (%d dead, last vacuum %s)"
                        % (row["schema"], row["table"], row["n_dead_tup"], last.isoformat() if last else "never")
                    )
            if stale:
                self.findings.append(
                    make_finding(
                        "postgres.vacuum_stale",
                        db["database"],
                        "warning",
                        "%d table(s) with dead tuples not vacuumed within %s: %s"
                        % (len(stale), p["stale_after"], ", ".join(stale[:5])),
                        {"tables": stale[:50]},
                    )
                )
            for entry in db["selected"]:
                judged = kept_dead_tuples(
                    entry.get("n_dead_tup_kept"), self.settings, entry.get("reloptions"), entry.get("held_back_by")
                )
                if judged is None:
                    continue
                severity, text = judged
                entry["kept_message"] = text
                if severity == "warning":
                    self.findings.append(
                        make_finding(
                            "postgres.vacuum_kept",
                            "%s.%s.%s" % (db["database"], entry["schema"], entry["table"]),
                            "warning",
                            "%s.%s: VACUUM %s" % (entry["schema"], entry["table"], text),
                            {
                                "n_dead_tup_before": entry["n_dead_tup"],
                                "n_dead_tup_kept": entry["n_dead_tup_kept"],
                                "held_back_by": entry.get("held_back_by"),
                            },
                        )
                    )
            if planned_only:
                self.findings.append(
                    make_finding(
                        "postgres.vacuum",
                        db["database"],
                        "info",
                        "check mode: %d table(s) would be processed (%s)" % (len(db["selected"]), p["mode"]),
                        {},
                    )
                )
                continue
            counts = dict((s, 0) for s in STATUSES)
            for entry in db["selected"]:
                counts[entry.get("status", "not_started")] += 1
            failed = [e for e in db["selected"] if e.get("status") == "error"]
            held = [
                e
                for e in db["selected"]
                if e.get("status") in ("skipped_locked", "skipped_permission", "lock_timeout", "timeout", "not_started")
            ]
            if self.lost is not None:
                severity, summary = "critical", self.lost_summary(db["selected"])
            elif self.crashes:
                severity, summary = "critical", "the run failed: %s" % self.crashes[0].splitlines()[0]
            elif failed:
                severity, summary = (
                    "critical",
                    "%d table(s) failed: %s.%s: %s"
                    % (len(failed), failed[0]["schema"], failed[0]["table"], failed[0]["message"]),
                )
            elif held:
                severity, summary = (
                    "warning",
                    "%d table(s) not done (%s)"
                    % (len(held), ", ".join("%s.%s %s" % (e["schema"], e["table"], e["status"]) for e in held[:5])),
                )
            else:
                severity, summary = (
                    "ok",
                    "%d of %d planned table(s) processed (%s)" % (counts["ok"], len(db["selected"]), p["mode"]),
                )
            done = []
            for entry in db["selected"]:
                line = "%s.%s: %s in %.0f ms" % (
                    entry["schema"],
                    entry["table"],
                    entry.get("status", "not_started"),
                    entry.get("duration_ms", 0.0),
                )
                if entry.get("n_dead_tup_after") is not None:
                    line += ", dead tuples %d -> %d" % (entry["n_dead_tup"], entry["n_dead_tup_after"])
                if entry.get("kept_message"):
                    line += ", " + entry["kept_message"]
                done.append(line)
            self.findings.append(
                make_finding(
                    "postgres.vacuum", db["database"], severity, summary, {"counts": counts, "tables": done[:50]}
                )
            )

    def blame_holders(self, db):
        """Name, for each table whose VACUUM left dead tuples, what held back the xmin horizon."""
        kept = [e for e in db["selected"] if (e.get("n_dead_tup_kept") or 0) > 0]
        if not kept:
            return
        holders = holders_for(self.xmin_holders, db["database"])
        if not holders and self.lost is None:
            # None was seen while planning: one may have begun since (and held this VACUUM back).
            try:
                fresh = [
                    holder_dict(r)
                    for r in self.main_conn.execute(XMIN_HOLDERS_QUERY, {"application": APPLICATION_NAME})
                ]
            except psycopg.Error as exc:
                self.warnings.append("holders of the xmin horizon not read again: %s" % str(exc).strip())
            else:
                holders = holders_for(fresh, db["database"])
        for entry in kept:
            entry["held_back_by"] = holders[0] if holders else None

    def lost_summary(self, entries):
        return lost_summary(self.server, self.lost, entries)

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
                text = entry["sql"]
                planned.append(
                    {
                        "database": entry["database"],
                        "schema": entry["schema"],
                        "table": entry["table"],
                        "reasons": entry["reasons"],
                        "sql": text,
                        "total_bytes": entry["total_bytes"],
                        "size_estimated": entry["size_estimated"],
                        "partitioned": entry["relkind"] == "p",
                        "n_dead_tup": entry["n_dead_tup"],
                        "xid_age": entry["xid_age"],
                        "wraparound": entry["wraparound"],
                    }
                )
                totals["planned"] += 1
                if planned_only:
                    continue
                status = entry.get("status", "not_started")
                totals[status] += 1
                totals["n_dead_tup_before"] += entry["n_dead_tup"]
                after = entry.get("n_dead_tup_after", entry["n_dead_tup"])
                totals["n_dead_tup_after"] += after if after is not None else entry["n_dead_tup"]
                processed.append(
                    {
                        "database": entry["database"],
                        "schema": entry["schema"],
                        "table": entry["table"],
                        "sql": text,
                        "status": status,
                        "duration_ms": entry.get("duration_ms", 0.0),
                        "message": entry.get("message"),
                        "n_dead_tup_before": entry["n_dead_tup"],
                        "n_dead_tup_after": entry.get("n_dead_tup_after"),
                        "n_dead_tup_kept": entry.get("n_dead_tup_kept"),
                        "kept": entry.get("kept_message"),
                        "held_back_by": entry.get("held_back_by"),
                    }
                )
            for entry in db["skipped"]:
                if self.p["not_selected_details"] or len(skipped) < NOT_SELECTED_LISTED:
                    skipped.append(
                        {
                            "database": entry["database"],
                            "schema": entry["schema"],
                            "table": entry["table"],
                            "skip_reason": entry["skip_reason"],
                        }
                    )
                reason = (
                    entry["skip_reason"].split(",")[0]
                    if entry["skip_reason"].startswith("maintained")
                    else entry["skip_reason"]
                )
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
            "xmin_holders": self.xmin_holders[:HOLDERS_LISTED],
            "budget_exhausted": False,
        }
        if self.recovery:
            dbname = self.main_conn.info.dbname
            self.main_conn.close()
            if self.p["on_recovery"] == "fail":
                self.flush_warnings()
                self.module.fail_json(
                    msg="the server is a standby (in recovery); VACUUM and ANALYZE cannot run there", **base
                )
            self.build_findings()
            self.findings.append(
                make_finding("postgres.vacuum", dbname, "info", "skipped: the server is a standby (in recovery)", {})
            )
            self.flush_warnings()
            totals = dict((s, 0) for s in STATUSES)
            totals.update(
                planned=0, n_dead_tup_before=0, n_dead_tup_after=0, duration_ms=0.0, plan_ms=self.plan_ms, jobs=0
            )
            self.module.exit_json(
                changed=False,
                planned=[],
                not_selected=[],
                processed=[],
                databases=[],
                totals=totals,
                findings=self.findings,
                worst_severity=worst_severity(self.findings),
                **base,
            )

        for db in self.per_database:
            for entry in db["selected"]:
                entry["statement"] = self.statement(entry)
                # Rendered now, while the connection is sure to be up (quoting needs it).
                entry["sql"] = entry["statement"].as_string(self.main_conn)
        databases = [
            {"database": d["database"], "xid_age": d["xid_age"], "mxid_age": d["mxid_age"]} for d in self.per_database
        ]

        if self.module.check_mode:
            planned, skipped, processed, totals = self.result(planned_only=True)
            totals["plan_ms"] = self.plan_ms
            self.main_conn.close()
            self.build_findings(planned_only=True)
            self.flush_warnings()
            self.module.exit_json(
                changed=bool(planned),
                planned=planned,
                not_selected=skipped,
                processed=[],
                databases=databases,
                totals=totals,
                findings=self.findings,
                worst_severity=worst_severity(self.findings),
                **base,
            )

        self.jobs = self.p["jobs"]
        total_planned = sum(len(d["selected"]) for d in self.per_database)
        if self.jobs > 1:
            cap = min(self.jobs, max(self.free, 1))
            if cap < self.jobs:
                self.warnings.append(
                    "jobs lowered from %d to %d: the server has %d connection(s) free" % (self.jobs, cap, self.free)
                )
                self.jobs = cap
        self.budget_exhausted = False
        stop = threading.Event()
        started = time.monotonic()
        deadline = started + self.durations["max_runtime"] if self.durations["max_runtime"] is not None else None
        for db in self.per_database:
            if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                if deadline is not None and time.monotonic() >= deadline and not stop.is_set():
                    self.budget_exhausted = True
                if self.lost is not None:
                    why = "not started: the server went away"
                elif self.crashes:
                    why = "not started: %s" % self.crashes[0].splitlines()[0]
                else:
                    why = "budget exhausted" if self.budget_exhausted else "not started after an earlier failure"
                for entry in db["selected"]:
                    entry.update(status="not_started", duration_ms=0.0, message=why)
                continue
            if db["selected"]:
                self.execute_database(db, deadline, stop)
                self.dead_tuples_after(db)
                self.blame_holders(db)
        self.build_findings()
        planned, skipped, processed, totals = self.result(planned_only=False)
        self.main_conn.close()
        totals["duration_ms"] = round((time.monotonic() - started) * 1000.0, 1)
        totals["plan_ms"] = self.plan_ms
        totals["jobs"] = min(self.jobs, max(total_planned, 1))
        base["budget_exhausted"] = self.budget_exhausted
        changed = totals["ok"] > 0
        result = dict(
            changed=changed,
            planned=planned,
            not_selected=skipped,
            processed=processed,
            databases=databases,
            totals=totals,
            findings=self.findings,
            worst_severity=worst_severity(self.findings),
            **base,
        )
        if self.lost is not None:
            self.flush_warnings()
            self.module.fail_json(
                msg=self.lost_summary([e for db in self.per_database for e in db["selected"]]), **result
            )
        if self.crashes:
            self.flush_warnings()
            self.module.fail_json(
                msg="the run failed, %d table(s) not started: %s"
                % (totals["not_started"], self.crashes[0].splitlines()[0]),
                exception=self.crashes[0],
                **result,
            )
        if totals["error"] and not self.p["continue_on_error"]:
            failed = [e for e in processed if e["status"] == "error"]
            self.flush_warnings()
            self.module.fail_json(
                msg="%d table(s) failed; first: %s.%s.%s: %s"
                % (len(failed), failed[0]["database"], failed[0]["schema"], failed[0]["table"], failed[0]["message"]),
                **result,
            )
        self.flush_warnings()
        self.module.exit_json(**result)


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        {
            "mode": {
                "type": "str",
                "choices": ["vacuum", "analyze", "vacuum_analyze", "freeze"],
                "default": "vacuum_analyze",
            },
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
        }
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ensure_psycopg(module)
    vacuum = Vacuum(module)
    try:
        vacuum.run()
    except psycopg.Error as exc:
        # Planning reads only: an error there (the server going away included) changed nothing.
        message = str(exc).strip() or exc.__class__.__name__
        if server_gone(exc):
            module.fail_json(
                msg="the server %s went away before any table was processed: %s"
                % (getattr(vacuum, "server", "(not reached)"), message.splitlines()[0])
            )
        module.fail_json(msg="reading the tables' statistics failed: %s" % message)


if __name__ == "__main__":
    main()
