#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_vacuum versus `vacuumdb -z -j2` on a database of 1000 tables, 5% of them bloated (or --tables, --bloated-pct).

The bench runs its own throwaway PostgreSQL 15 cluster (initdb as the postgres OS user in a
temporary directory, 127.0.0.1:55450 and a socket in that directory, autovacuum = off so the
bloat stays where the bench puts it); the lab's server is never touched. The cluster is stopped
and removed at the end, also on Ctrl-C, SIGTERM or a failure.

The database holds 1000 normal (logged) tables (id int primary key, v int, note text; by default
30,000 rows each, --rows-per-table, about 3 GB in all). 30,000 is what ANALYZE samples from a
table at the default statistics target (300 x 100), so each ANALYZE reads the whole table: an
ANALYZE of all 1000 tables is real work, which is what `select: needed` avoids. Every 20th table
(50 tables, 5%) is "bloated": it holds --bloated-rows rows (default: the same as the others), of
which the rows with id % 10 in (0, 1, 2) are updated and those with id % 10 = 9 deleted in one
transaction, so 40% of its rows are dead tuples (12,000 of 30,000), above autovacuum's threshold
of 50 + 0.2 x rows.

Scale (--tables N, --bloated-pct P): round(N x P / 100) bloated tables spread evenly (every
20th at the default 1000 and 5 %). The issue's many-tables case is --tables 10000 --bloated-pct 1
--rows-per-table 3000 (goal of scenario A: 0.1x): 10,000 tables of 30,000 rows would be ~30 GB; at
3,000 rows the database is about the same size as the default one (3.7 GB, built in ~3 min).
ANALYZE then still reads every row of a table (3,000 < the 30,000 it samples), but each table
is 10x smaller, so vacuumdb's per-table fixed costs (a VACUUM and an ANALYZE command, relation
opens, pg_statistic and pg_class updates) weigh more than the rows it reads: vacuumdb's time
grows with the number of tables, not with the rows. The plan is measured at any scale with
--scenarios '' (no vacuumdb runs). With --lock FILE, only each measured run (reset, vacuumdb,
reset, pg_vacuum) and the plan measurement hold the bench lock, never the build.

Two scenarios, each with N measured runs per side, alternating vacuumdb, pg_vacuum, vacuumdb,
pg_vacuum, ... so machine noise hits both alike; the result is the ratio of the medians:

  A. `pg_vacuum select: needed` (mode vacuum_analyze, jobs 2) against `vacuumdb -z -j2` on the
     whole database. Product goal: at most 0.25x vacuumdb's wall time, with the same dead
     tuples removed from the bloated tables.
  B. `pg_vacuum select: all, jobs: 2` against `vacuumdb -z -j2`. Product goal: within 1.15x.

The same starting state for both sides, before every measured run (set up, never timed):

  * Once, after the build: every table is VACUUM ANALYZEd. Without that, the first pg_vacuum
    run would find 1000 "never analyzed" tables and select them all, while a run that follows a
    vacuumdb run would find their statistics fresh: the order of the runs would decide the
    result. After it, the untouched tables are all-visible, have fresh statistics and no
    changes since the last analyze; neither tool changes that (vacuumdb vacuums and analyzes
    them again, pg_vacuum leaves them), so both sides find them alike in every run.
  * Before each run, the 50 bloated tables are rebuilt identically, in three phases on two
    connections: TRUNCATE and the same rows for all of them; then VACUUM ANALYZE of each (only
    once every insert has committed, so no open transaction keeps a page from becoming
    all-visible); then the same UPDATE + DELETE in one transaction per table (one transaction,
    so no page pruning between the two statements changes the count). Then the system
    catalogs are vacuumed (TRUNCATE and ANALYZE leave dead rows in pg_class and pg_statistic,
    and a vacuumdb run leaves many more than a pg_vacuum run), a CHECKPOINT is taken (both
    sides start with the same dirty buffers and full-page-write state), and the bench checks
    the cumulative statistics: exactly 50 x the dead tuples above, all on the bloated tables.
  * Server settings are the defaults (fsync and synchronous_commit on, shared_buffers 128MB,
    maintenance_work_mem 64MB, as on a modest production server) but autovacuum = off and
    checkpoints only when the bench asks for one (checkpoint_timeout 1h, max_wal_size 16GB, so
    that neither the build, ~5 GB of WAL at the default size, nor a measured run triggers one).
    The build and the reset (untimed) run with synchronous_commit = off in their own sessions
    only; the CHECKPOINT that ends each reset makes everything durable before a measured run.

What each side runs, as a user would:

  * vacuumdb: /usr/lib/postgresql/15/bin/vacuumdb -h 127.0.0.1 -p 55450 -U postgres -d bench
    -z -j 2 (the binary itself, not Debian's perl wrapper, which would only add start-up time
    to the reference). It also processes the ~60 system catalogs, which pg_vacuum leaves out.
  * pg_vacuum: `ansible-playbook` on a small playbook (gather_facts: false, localhost,
    connection local, the repository's ansible.cfg): the pg_vacuum task with `register: vacuum`
    as in the module's EXAMPLES, then `debug: var=vacuum.totals`, which is how the bench reads
    the result. The wall time includes the Ansible start-up a user pays, and the cost of
    registering the module's result (planned, not_selected and processed hold one entry per
    table); the module's own time is reported next to it: totals.plan_ms (the catalog query and
    the plan) + totals.duration_ms (the execution phase: from after the plan to the end of the
    last table and the report).

The plan (check mode, the whole registered `vacuum` shown so that its size is measured), the
catalog query alone (as select: needed reads it, and with every true size as select: all
does) and the Ansible floor are measured last.

After each run the bench reads sum(n_dead_tup) over the bloated tables (should be ~0 on
both sides) and, for pg_vacuum, how many tables it planned and processed. Finally it measures
where pg_vacuum's time goes: the Ansible floor (`ansible.builtin.ping` through the same kind
of playbook: ping, register, debug), the same pg_vacuum playbook in check mode (start-up + connection + catalog query +
plan, no VACUUM), and the module's plan and execution times above.

Nothing here asserts a time: the bench reports, in Markdown, and exits 0 when it could measure.

    .venv/bin/python bench/pg_vacuum.py [--runs 3] [--rows-per-table 30000] [--bloated-rows N]
        [--tables 1000] [--bloated-pct 5] [--scenarios a,b] [--lock /tmp/stronghold-bench.lock]
    (as root, after make venv collection-link)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from benchlib import PGBIN, Cluster, playbook_env, timed_playbook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST, PORT, DB = "127.0.0.1", 55450, "bench"
TABLES, BLOATED_PCT = 1000, 5.0  # --tables, --bloated-pct
DEFAULT_ROWS = 30000  # what ANALYZE samples at the default statistics target: each ANALYZE reads the whole table
WORKERS = 2  # connections for the (untimed) build and reset
SERVER_OPTIONS = [
    "-c",
    "autovacuum=off",
    "-c",
    "checkpoint_timeout=1h",
    "-c",
    "max_wal_size=16GB",
]
UNTIMED_SESSION = ["SET synchronous_commit = off"]  # build and reset only; CHECKPOINT ends every reset


def log(message):
    print(message, file=sys.stderr, flush=True)


def table_name(i):
    return "t%05d" % i if TABLES > 9999 else "t%04d" % i


def bloated_names(tables, pct):
    """round(tables x pct / 100) tables spread evenly: every 20th of 1000 at 5 %, every 100th of 10,000 at 1 %."""
    count = int(round(tables * pct / 100.0))
    return [table_name(int(round((k + 1) * tables / float(count)))) for k in range(count)]


BLOATED = bloated_names(TABLES, BLOATED_PCT)


LOCK = None  # --lock: the file locked around each measured run


@contextlib.contextmanager
def measured():
    """The bench lock (--lock) around one measured run: the untimed build never holds it."""
    if LOCK is None:
        yield
        return
    with open(LOCK, "a") as handle:
        waited = time.monotonic()
        fcntl.flock(handle, fcntl.LOCK_EX)
        log(
            "lock %s held after %.1f s; load average %.2f %.2f %.2f"
            % ((LOCK, time.monotonic() - waited) + os.getloadavg())
        )
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


class Layout:
    """Rows per table, rows per bloated table, and the dead tuples the bloat leaves on each bloated table."""

    def __init__(self, rows, bloated_rows):
        self.rows = rows
        self.bloated_rows = bloated_rows
        self.updated = sum(1 for g in range(1, bloated_rows + 1) if g % 10 < 3)
        self.deleted = sum(1 for g in range(1, bloated_rows + 1) if g % 10 == 9)
        self.dead_per_table = self.updated + self.deleted
        self.dead_total = self.dead_per_table * len(BLOATED)

    def describe(self):
        return "%d tables x %d rows; %d bloated x %d rows with %d dead tuples each (%d updated + %d deleted)" % (
            TABLES,
            self.rows,
            len(BLOATED),
            self.bloated_rows,
            self.dead_per_table,
            self.updated,
            self.deleted,
        )


def connect(dbname=DB):
    return psycopg.connect(host=HOST, port=PORT, user="postgres", dbname=dbname, autocommit=True)


def fill_sql(name, rows):
    return "INSERT INTO %s SELECT g, g %% 97, md5(g::text) FROM generate_series(1, %d) g" % (name, rows)


def in_parallel(work, groups):
    """work(conn, group) for each group, WORKERS untimed sessions at a time; the first error is raised."""

    def one(group):
        with connect() as conn:
            for statement in UNTIMED_SESSION:
                conn.execute(statement)
            work(conn, group)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for done in [pool.submit(one, group) for group in groups]:
            done.result()


def build(layout):
    start = time.monotonic()
    with connect("postgres") as conn:
        conn.execute("CREATE DATABASE %s" % DB)

    def create(conn, first):
        with conn.transaction():  # 100 tables per transaction: few enough locks (~400 of them)
            for i in range(first, min(first + 100, TABLES + 1)):
                name = table_name(i)
                conn.execute("CREATE TABLE %s (id int PRIMARY KEY, v int NOT NULL, note text NOT NULL)" % name)
                conn.execute(fill_sql(name, layout.bloated_rows if name in bloated else layout.rows))

    bloated = set(BLOATED)
    in_parallel(create, range(1, TABLES + 1, 100))
    loaded = time.monotonic()
    # Every table vacuumed and analyzed once (see the docstring), then the bloat.
    vacuumdb()
    analyzed = time.monotonic()
    reset_bloat(layout)
    with connect() as conn:
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    seconds = time.monotonic() - start
    log(
        "built %s, %s, in %.1f s (load %.1f s, first vacuumdb -z %.1f s, first reset + checkpoint %.1f s)"
        % (layout.describe(), size, seconds, loaded - start, analyzed - loaded, time.monotonic() - analyzed)
    )
    return seconds, size


def reset_bloat(layout):
    """The same starting state before every measured run (not timed)."""
    groups = [BLOATED[k::WORKERS] for k in range(WORKERS)]

    def refill(conn, names):
        for name in names:
            conn.execute("TRUNCATE %s" % name)
            conn.execute(fill_sql(name, layout.bloated_rows))

    def analyze(conn, names):
        for name in names:
            conn.execute("VACUUM (ANALYZE) %s" % name)

    def bloat(conn, names):
        for name in names:
            with conn.transaction():
                conn.execute("UPDATE %s SET v = v + 1 WHERE id %% 10 < 3" % name)
                conn.execute("DELETE FROM %s WHERE id %% 10 = 9" % name)

    # Three phases, each finished on both connections before the next starts: no VACUUM runs
    # while an insert is still open elsewhere, so every refilled page ends up all-visible alike.
    for phase in (refill, analyze, bloat):
        in_parallel(phase, groups)
    with connect() as conn:
        catalogs = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r' ORDER BY 1"
            )
        ]
        for name in catalogs:
            conn.execute("VACUUM pg_catalog.%s" % name)
        conn.execute("CHECKPOINT")
        conn.execute("SELECT pg_stat_force_next_flush()")
    expected = layout.dead_total
    deadline = time.monotonic() + 15
    while True:
        bloated, elsewhere, modified = state()
        if (bloated, elsewhere, modified) == (expected, 0, 0) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if (bloated, elsewhere, modified) != (expected, 0, 0):
        raise SystemExit(
            "reset did not reach the starting state: %d dead tuples on the bloated tables (expected %d), "
            "%d dead and %d modified-since-analyze elsewhere" % (bloated, expected, elsewhere, modified)
        )


def state():
    """(dead tuples on the bloated tables, dead tuples on the others, rows modified since analyze on the others)."""
    with connect() as conn:
        row = conn.execute(
            "SELECT COALESCE(sum(n_dead_tup) FILTER (WHERE relname = ANY(%s)), 0)::bigint,"
            "       COALESCE(sum(n_dead_tup) FILTER (WHERE relname <> ALL(%s)), 0)::bigint,"
            "       COALESCE(sum(n_mod_since_analyze) FILTER (WHERE relname <> ALL(%s)), 0)::bigint "
            "FROM pg_stat_user_tables WHERE schemaname = 'public'",
            [BLOATED, BLOATED, BLOATED],
        ).fetchone()
    return tuple(int(v) for v in row)


def vacuumdb():
    start = time.monotonic()
    subprocess.run(
        [
            os.path.join(PGBIN, "vacuumdb"),
            "-h",
            HOST,
            "-p",
            str(PORT),
            "-U",
            "postgres",
            "-d",
            DB,
            "-z",
            "-j",
            "2",
            "-q",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=REPO,
    )
    return time.monotonic() - start


class Ansible:
    def __init__(self, workdir):
        self.workdir = workdir
        self.env = playbook_env()

    def playbook(self, name, task, show):
        path = os.path.join(self.workdir, name + ".yml")
        task = dict(task, register="vacuum")
        play = [
            {
                "name": name,
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                "tasks": [task, {"name": "show", "ansible.builtin.debug": {"var": show}}],
            }
        ]
        with open(path, "w") as handle:
            json.dump(play, handle, indent=1)  # JSON is YAML
        return path

    def run(self, path, check=False):
        """(wall seconds, what the debug task showed) of one ansible-playbook run."""
        wall, shown = timed_playbook(path, REPO, self.env, check)
        return wall, next(iter(shown.values()))


def pg_vacuum_task(select):
    return {
        "name": "pg_vacuum select=%s" % select,
        "stronghold.ops.pg_vacuum": {
            "login_host": HOST,
            "login_port": PORT,
            "login_user": "postgres",
            "login_db": DB,
            "mode": "vacuum_analyze",
            "select": select,
            "jobs": 2,
        },
    }


def timed_reset(layout, resets):
    start = time.monotonic()
    reset_bloat(layout)
    resets.append(time.monotonic() - start)


def scenario(label, ansible, book, runs, warmup, layout, resets):
    rows = {
        "vacuumdb": [],
        "pg_vacuum": [],
        "plan": [],
        "execution": [],
        "module": [],
        "dead_vacuumdb": [],
        "dead_pg_vacuum": [],
        "processed": [],
    }
    for run in range(-warmup, runs):
        with measured():
            timed_reset(layout, resets)
            v_wall = vacuumdb()
            v_dead = state()[0]
            timed_reset(layout, resets)
            m_wall, totals = ansible.run(book)
            m_dead = state()[0]
        plan, execution = totals.get("plan_ms", 0) / 1000.0, totals.get("duration_ms", 0) / 1000.0
        tag = "warm-up" if run < 0 else "run %d" % (run + 1)
        log(
            "%s %s: vacuumdb %.2f s (dead after %d) | pg_vacuum %.2f s wall, module %.2f s (plan %.2f + execution %.2f), "
            "%d/%d tables ok (dead after %d)"
            % (
                label,
                tag,
                v_wall,
                v_dead,
                m_wall,
                plan + execution,
                plan,
                execution,
                totals.get("ok", 0),
                totals.get("planned", 0),
                m_dead,
            )
        )
        if run < 0:
            continue
        rows["vacuumdb"].append(v_wall)
        rows["pg_vacuum"].append(m_wall)
        rows["plan"].append(plan)
        rows["execution"].append(execution)
        rows["module"].append(plan + execution)
        rows["dead_vacuumdb"].append(v_dead)
        rows["dead_pg_vacuum"].append(m_dead)
        rows["processed"].append("%d/%d" % (totals.get("ok", 0), totals.get("planned", 0)))
    return rows


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def percent(text):
    value = float(text)
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError("must be above 0 and at most 100")
    return value


def catalog_query_seconds(runs):
    """Wall times of the catalog query alone: as select: needed runs it (sizes estimated; the true sizes of the
    few tables that need them follow in a second, small query) and with every true size read (select: all)."""
    spec = importlib.util.spec_from_file_location(
        "vacuum_sql", os.path.join(REPO, "plugins", "module_utils", "_vacuum_sql.py")
    )
    queries = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(queries)
    times = {False: [], True: []}
    with connect() as conn:
        conn.execute("SET lock_timeout = %s" % "'%s'" % queries.SIZE_LOCK_TIMEOUT)
        for dummy in range(runs):
            for exact in (False, True):
                text = queries.tables_query(conn.info.server_version, exact)
                start = time.monotonic()
                count = len(conn.execute(text).fetchall())
                times[exact].append(time.monotonic() - start)
    return times, count


def main():
    global TABLES, BLOATED_PCT, BLOATED, LOCK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side and scenario (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per side first (default 1)")
    parser.add_argument("--tables", type=positive, default=TABLES, help="tables in the database (default %d)" % TABLES)
    parser.add_argument(
        "--bloated-pct",
        type=percent,
        default=BLOATED_PCT,
        help="percentage of the tables that are bloated, spread evenly (default %g)" % BLOATED_PCT,
    )
    parser.add_argument(
        "--scenarios",
        default="a,b",
        help="comma-separated: a (select needed vs vacuumdb), b (select all vs vacuumdb); "
        "empty for the plan measurement alone (default a,b)",
    )
    parser.add_argument(
        "--rows-per-table",
        type=positive,
        default=DEFAULT_ROWS,
        help="rows in each table (default %d, what ANALYZE samples)" % DEFAULT_ROWS,
    )
    parser.add_argument(
        "--bloated-rows",
        type=positive,
        default=None,
        help="rows in each bloated table, 40%% of which become dead tuples "
        "(default: --rows-per-table); the per-run reset time grows with it",
    )
    parser.add_argument(
        "--lock",
        default=None,
        help="take this flock around each measured run (reset, vacuumdb, reset, pg_vacuum) and the plan "
        "measurement only, not the build: for runs too long to hold the bench lock throughout",
    )
    args = parser.parse_args()
    LOCK = args.lock
    scenarios = [name for name in args.scenarios.lower().split(",") if name.strip()]
    if set(scenarios) - {"a", "b"}:
        raise SystemExit("--scenarios takes a, b or both, comma-separated; got %r" % args.scenarios)
    TABLES, BLOATED_PCT = args.tables, args.bloated_pct
    BLOATED = bloated_names(TABLES, BLOATED_PCT)
    if not BLOATED:
        raise SystemExit("--bloated-pct %g of %d tables is no table at all" % (BLOATED_PCT, TABLES))
    # The goals: 0.25x at 1000 tables with 5 % bloated, 0.1x at 10,000 with 1 %.
    goal_a = 0.1 if TABLES >= 10000 and BLOATED_PCT <= 1 else 0.25
    layout = Layout(args.rows_per_table, args.bloated_rows or args.rows_per_table)
    threshold = 50 + 0.2 * layout.bloated_rows
    if layout.dead_per_table <= threshold:
        raise SystemExit(
            "--bloated-rows %d gives %d dead tuples per bloated table, not above autovacuum's threshold "
            "(50 + 0.2 x rows = %.0f); use at least 300" % (layout.bloated_rows, layout.dead_per_table, threshold)
        )
    if os.geteuid() != 0:
        raise SystemExit("run as root: the bench starts its own cluster as the postgres OS user (runuser)")
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    load_start = os.getloadavg()
    resets = []
    results = {}
    with Cluster("pg_vacuum", HOST, PORT, SERVER_OPTIONS) as cluster:
        log("cluster in %s, %s:%d" % (cluster.root, HOST, PORT))
        build_seconds, size = build(layout)
        ansible = Ansible(cluster.root)
        books = {
            "a": ansible.playbook("needed", pg_vacuum_task("needed"), "vacuum.totals"),
            "b": ansible.playbook("all", pg_vacuum_task("all"), "vacuum.totals"),
        }
        whole = ansible.playbook("plan", pg_vacuum_task("needed"), "vacuum")
        ping = ansible.playbook("ping", {"name": "ping", "ansible.builtin.ping": {}}, "vacuum.ping")
        for name in scenarios:
            results[name] = scenario(name.upper(), ansible, books[name], args.runs, args.warmup, layout, resets)

        # Where pg_vacuum's time goes: the Ansible floor and the plan alone (check mode, the
        # whole registered result shown, to measure its size), and the catalog query alone.
        floors, checks, check_plans, sizes = [], [], [], []
        with measured():
            timed_reset(layout, resets)
            for dummy in range(max(args.runs, 3)):
                floors.append(ansible.run(ping)[0])
                wall, shown = ansible.run(whole, check=True)
                checks.append(wall)
                check_plans.append(shown["totals"].get("plan_ms", 0) / 1000.0)
                sizes.append(len(json.dumps(shown)))
            queries, listed = catalog_query_seconds(max(args.runs, 3) * 2)
        entries = dict((key, len(shown.get(key) or [])) for key in ("planned", "not_selected", "processed"))
        planned_in_check = shown["totals"].get("planned", 0)
        cut = shown["totals"].get("not_selected", {})
        floor, check = statistics.median(floors), statistics.median(checks)
    load = os.getloadavg()

    med = statistics.median
    print(
        "Database: %s; %s. Built (untimed) in %.0f s; the untimed reset before each run took %.1f s (median of %d)."
        % (layout.describe(), size, build_seconds, med(resets), len(resets))
    )
    print(
        "Load average at the start: %.2f %.2f %.2f, at the end: %.2f %.2f %.2f (%d CPUs)."
        % (load_start + load + (os.cpu_count() or 0,))
    )
    print()
    if results:
        print(
            "| scenario | vacuumdb -z -j2 | pg_vacuum wall (ansible-playbook) | pg_vacuum module (plan_ms + duration_ms) "
            "| ratio (wall) | ratio (module) | goal | met (wall) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    labels = {"a": ("A: select needed, jobs 2", goal_a), "b": ("B: select all, jobs 2", 1.15)}
    for name, rows in results.items():
        label, goal = labels[name]
        reference = med(rows["vacuumdb"])
        ratio = med(rows["pg_vacuum"]) / reference
        print(
            "| %s | %.2f s | %.2f s | %.2f s (%.2f + %.2f) | %.3f | %.3f | <= %.2f | %s |"
            % (
                label,
                reference,
                med(rows["pg_vacuum"]),
                med(rows["module"]),
                med(rows["plan"]),
                med(rows["execution"]),
                ratio,
                med(rows["module"]) / reference,
                goal,
                "met" if ratio <= goal else "not met",
            )
        )
    if results:
        print()
        print(
            "Medians of %d runs per side, alternating vacuumdb and pg_vacuum, bloat re-created before each run."
            % args.runs
        )
        for name, rows in results.items():
            print(
                "%s: dead tuples on the %d bloated tables before each run %d; left after vacuumdb %s, after pg_vacuum %s; "
                "tables processed ok/planned by pg_vacuum %s."
                % (
                    name.upper(),
                    len(BLOATED),
                    layout.dead_total,
                    rows["dead_vacuumdb"],
                    rows["dead_pg_vacuum"],
                    rows["processed"],
                )
            )
        print()
    print("| where pg_vacuum's wall time goes (select needed) | median | min |")
    print("| --- | --- | --- |")
    print("| ansible-playbook floor (ping, register, debug) | %.2f s | %.2f s |" % (floor, min(floors)))
    print(
        "| module start-up, connection, catalog query, plan, registered result (check-mode wall - floor) "
        "| %.2f s | %.2f s |" % (check - floor, min(checks) - min(floors))
    )
    print(
        "| of which the plan: catalog query and selection (totals.plan_ms, check mode) | %.3f s | %.3f s |"
        % (med(check_plans), min(check_plans))
    )
    print(
        "| of which the catalog query alone, sizes estimated, as select: needed reads it (%d rows, psycopg) "
        "| %.3f s | %.3f s |" % (listed, med(queries[False]), min(queries[False]))
    )
    print(
        "| (for comparison: the same query reading every table's true size, as select: all does) | %.3f s | %.3f s |"
        % (med(queries[True]), min(queries[True]))
    )
    if "a" in results:
        a = results["a"]
        print("| plan in the measured runs (totals.plan_ms) | %.3f s | %.3f s |" % (med(a["plan"]), min(a["plan"])))
        print(
            "| execution (totals.duration_ms: the VACUUMs, the after-read, the report) | %.2f s | %.2f s |"
            % (med(a["execution"]), min(a["execution"]))
        )
        print("| pg_vacuum wall, for reference | %.2f s | %.2f s |" % (med(a["pg_vacuum"]), min(a["pg_vacuum"])))
    print()
    print(
        "Registered result of the check-mode run (the whole `vacuum` variable as JSON): %d bytes (median); "
        "%d tables planned, entries listed: planned %d, not_selected %d (totals.not_selected counts all: %s)."
        % (med(sizes), planned_in_check, entries["planned"], entries["not_selected"], json.dumps(cut))
    )
    print(
        "Medians are what the goals are judged on; the minimum of the runs is the best estimate of a fixed cost on "
        "a noisy machine."
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as exc:
        raise SystemExit("interrupted; the bench cluster was removed") from exc
