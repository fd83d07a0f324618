# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""pg_vacuum's decisions besides the plan: its input, its findings, its result and whether it fails.

Everything here is pure. The module observes (what it read is an ``Observed``, with the plan of
each database from _vacuum), acts (each table's entry gets its ``status``, ``message``,
``duration_ms`` and dead tuples; the run's own facts are an ``Outcome``), then hands both to
``result()`` and ``failure()``; unit tests feed them plain data, without a server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    make_finding,
    parse_size,
    severity_at_least,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import (
    FAIL_ON_SPEC,
    argument_spec,
    duration_spec,
    read_duration,
)
from ansible_collections.stronghold.ops.plugins.module_utils._postgres_spec import postgres_argument_spec
from ansible_collections.stronghold.ops.plugins.module_utils._vacuum import (
    STATUSES,
    aggregate_partitions,
    describe_holder,
    does_vacuum,
    entry_command,
    in_scope,
    kept_dead_tuples,
    lost_summary,
    milliseconds,
    name_rows,
    not_started_reason,
    oldest_holder,
    plan_tables,
    timeout_problem,
)

Params = Mapping[str, Any]
Row = dict[str, Any]

# Holders listed in xmin_holders (the oldest first).
HOLDERS_LISTED = 20

# Tables listed in not_selected unless not_selected_details is true (the counts by reason are
# always in totals): a database of thousands of tables would otherwise return a large result
# that Ansible must carry through every callback.
NOT_SELECTED_LISTED = 25

# Tables listed in the details of a database's postgres.vacuum finding.
DONE_LISTED = 50

# BUFFER_USAGE_LIMIT's range (PostgreSQL 16), and PARALLEL's.
BUFFER_USAGE_MIN = 128 * 1024
BUFFER_USAGE_MAX = 16 * 1024**3
PARALLEL_MAX = 1024
# One thread and one connection per job; max_connections cannot exceed 262143.
JOBS_MAX = 262143

DURATIONS = (
    "lock_timeout",
    "statement_timeout",
    "max_runtime",
    "skip_vacuumed_within",
    "stale_after",
    "long_transaction_warning",
)
# Durations with a default: unset, the module would have no value to work with.
DURATIONS_ALWAYS_SET = ("lock_timeout", "stale_after", "long_transaction_warning")
NON_NEGATIVE = (
    "min_dead_tuples",
    "min_xid_age",
    "min_mxid_age",
    "cost_limit",
    "parallel_workers",
    "xid_age_warning",
    "xid_age_critical",
)
PERCENTAGES = ("min_dead_ratio", "min_mod_since_analyze_ratio")
NAME_LISTS = ("tables", "exclude_tables", "schemas", "exclude_schemas", "databases")
# Statuses of a planned table that was not done, without an error.
HELD = ("skipped_locked", "skipped_permission", "lock_timeout", "timeout", "not_started")


class VacuumError(Exception):
    """The task fails: ``msg``, with the result so far (``result``) and a traceback (``exception``)."""

    def __init__(self, msg: str, result: Optional[Row] = None, exception: Optional[str] = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result: Row = dict(result or {})
        self.exception = exception

    def output(self) -> Row:
        """What the module fails with: the result so far, the message and the traceback if any."""
        output = dict(self.result, msg=self.msg)
        if self.exception:
            output["exception"] = self.exception
        return output


@dataclass
class Checked:
    """The options validate() read: durations in seconds, min_size in bytes, buffer_usage_limit in kB."""

    durations: dict[str, Optional[float]] = field(default_factory=dict)
    min_size: Optional[int] = None
    buffer_usage_limit: Optional[str] = None


@dataclass
class Observed:
    """What the module read, read-only; ``databases`` holds per database its rows and its plan.

    Each item of ``databases``: database, xid_age, mxid_age, rows (every table, as read), and
    selected and skipped (from _vacuum.plan_tables). Acting writes each selected entry's status,
    message, duration_ms, n_dead_tup_after, n_dead_tup_kept and held_back_by.
    """

    now: datetime
    server: str = "(not reached)"
    server_version: int = 0
    version_text: str = ""
    in_recovery: bool = False
    database: str = ""
    settings: dict[str, float] = field(default_factory=dict)
    free: int = 0
    xmin_holders: list[Row] = field(default_factory=list)
    databases: list[Row] = field(default_factory=list)
    plan_ms: float = 0.0


@dataclass
class Outcome:
    """The run's own facts: nothing ran in check mode (or on a standby, where nothing is planned).

    The jobs record into it from their threads, through its methods.
    """

    check_mode: bool = False
    jobs: int = 0
    duration_ms: float = 0.0
    budget_exhausted: bool = False
    # First message of a lost connection (the server went away), and exceptions of workers.
    lost: Optional[str] = None
    crashes: list[str] = field(default_factory=list)
    lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)
    # Set when no job may start another table: the server gone, a failure, an error that stops the run.
    stop: Any = field(default_factory=threading.Event, repr=False, compare=False)

    def server_lost(self, message: str) -> None:
        """Record that the server went away; the first message is the one reported."""
        with self.lock:
            if self.lost is None:
                self.lost = message.splitlines()[0] if message else "connection lost"

    def job_failed(self, gone: bool, message: str, crash: str) -> None:
        """A job that failed: the server gone (``message``), or a failure that ends the run (``crash``)."""
        if gone:
            self.server_lost(message)
        else:
            with self.lock:
                self.crashes.append(crash)
        self.stop.set()

    def not_started(self, entries: Iterable[Row]) -> None:
        """Mark the tables that no job started, saying why."""
        why = not_started_reason(self.lost, self.crashes, self.budget_exhausted)
        for entry in entries:
            if "status" not in entry:
                entry.update(status="not_started", message=why, duration_ms=0.0)


# --- input ----------------------------------------------------------------------------------------

ARGUMENT_SPEC = argument_spec(
    postgres_argument_spec(),
    FAIL_ON_SPEC,
    own={
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
        "skip_vacuumed_within": duration_spec(),
        "order_by": {"type": "str", "choices": ["size", "dead_tuples"], "default": "size"},
        "lock_timeout": duration_spec("5s"),
        "statement_timeout": duration_spec(),
        "skip_locked": {"type": "bool", "default": True},
        "truncate": {"type": "bool", "default": False},
        "max_runtime": duration_spec(),
        "cost_delay": {"type": "float"},
        "cost_limit": {"type": "int"},
        "buffer_usage_limit": {"type": "str"},
        "jobs": {"type": "int", "default": 1},
        "parallel_workers": {"type": "int"},
        "on_recovery": {"type": "str", "choices": ["skip", "fail"], "default": "skip"},
        "continue_on_error": {"type": "bool", "default": False},
        "stale_after": duration_spec("7d"),
        "xid_age_warning": {"type": "int", "default": 1300000000},
        "xid_age_critical": {"type": "int", "default": 1400000000},
        "long_transaction_warning": duration_spec("1h"),
        "not_selected_details": {"type": "bool", "default": False},
    },
)
# pg_vacuum acts first and judges second: by default it fails only when its work fails, as it
# always has, and the report role weighs its findings. fail_on keeps the shared choices.
ARGUMENT_SPEC["fail_on"]["default"] = "never"
# The rules between options that argument_spec states (the others are in validate()).
MUTUALLY_EXCLUSIVE = [("all_databases", "databases")]


def validate(params: Params, problems: Iterable[str] = ()) -> Checked:
    """The options read and checked; VacuumError naming every problem (after ``problems``) otherwise.

    What argument_spec states (choices, types, all_databases against databases) it checks first.
    """
    p = params
    found = list(problems)
    # required_if cannot say this one: allow_full is a bool with a default, so it is always
    # present, and required_if only asks for presence. The same holds for the other rules of full.
    if p["full"] and not p["allow_full"]:
        found.append("full: true takes an ACCESS EXCLUSIVE lock on every table; set allow_full: true to confirm")
    if p["full"] and p["jobs"] > 1:
        found.append("full: true cannot run with jobs > 1 (VACUUM FULL in parallel can deadlock on catalogs)")
    if p["full"] and p["mode"] == "analyze":
        found.append("full: true needs a vacuum mode, not analyze")
    if p["jobs"] < 1:
        found.append("jobs must be at least 1, got %d" % p["jobs"])
    for name in NON_NEGATIVE:
        if p[name] is not None and p[name] < 0:
            found.append("%s cannot be negative, got %d" % (name, p[name]))
    for name in PERCENTAGES:
        if p[name] is not None and not 0 <= p[name] <= 100:
            found.append("%s is a percentage between 0 and 100, got %s" % (name, p[name]))
    if p["cost_delay"] is not None and not 0 <= p["cost_delay"] <= 100:
        found.append("cost_delay must be between 0 and 100 milliseconds, got %s" % p["cost_delay"])
    if p["cost_limit"] is not None and not 1 <= p["cost_limit"] <= 10000:
        found.append("cost_limit must be between 1 and 10000, got %d" % p["cost_limit"])
    if p["parallel_workers"] is not None and p["full"]:
        found.append("parallel_workers cannot be combined with full")
    if p["xid_age_warning"] > p["xid_age_critical"]:
        found.append(
            "xid_age_warning (%d) must not exceed xid_age_critical (%d)" % (p["xid_age_warning"], p["xid_age_critical"])
        )
    for name in NAME_LISTS:
        if any(not item or not item.strip() for item in p[name]):
            found.append("%s contains an empty name" % name)
    checked = Checked(durations=_durations(p, found))
    checked.min_size = _size(p, "min_size", found)
    limit = _size(p, "buffer_usage_limit", found)
    # PostgreSQL's own range (0 = no ring buffer); passed in kB, its unit, so that the server
    # reads the size the collection's parser read.
    if limit is not None and limit != 0 and not BUFFER_USAGE_MIN <= limit <= BUFFER_USAGE_MAX:
        found.append(
            "buffer_usage_limit must be 0 or between 128kB and 16GB (PostgreSQL's range), got %r"
            % p["buffer_usage_limit"]
        )
    elif limit is not None:
        checked.buffer_usage_limit = "%dkB" % (limit // 1024)
    if p["parallel_workers"] is not None and p["parallel_workers"] > PARALLEL_MAX:
        found.append(
            "parallel_workers must be at most %d (PostgreSQL's limit), got %d" % (PARALLEL_MAX, p["parallel_workers"])
        )
    if p["jobs"] > JOBS_MAX:
        found.append("jobs must be at most %d, got %d" % (JOBS_MAX, p["jobs"]))
    if found:
        raise VacuumError("; ".join(found))
    return checked


def _durations(params: Params, problems: list[str]) -> dict[str, Optional[float]]:
    """Every duration option in seconds (numbers of seconds or strings such as "5m"); None when unset."""
    durations: dict[str, Optional[float]] = {}
    values = dict(params)
    for name in DURATIONS:
        try:
            durations[name] = read_duration(values, name)
        except FindingError as exc:
            problems.append(str(exc))
            durations[name] = None
            continue
        if durations[name] is None and name in DURATIONS_ALWAYS_SET:
            problems.append("%s: a duration cannot be empty" % name)
    for name in ("lock_timeout", "statement_timeout"):
        problem = timeout_problem(name, params[name], durations[name])
        if problem:
            problems.append(problem)
            durations[name] = None
    return durations


def _size(params: Params, name: str, problems: list[str]) -> Optional[int]:
    if params[name] is None:
        return None
    try:
        return parse_size(params[name])
    except FindingError as exc:
        problems.append("%s: %s" % (name, exc))
        return None


def planner_options(params: Params, checked: Checked) -> Row:
    """The options _vacuum.plan_tables and _vacuum.entry_command read."""
    opts = {
        name: params[name]
        for name in (
            "mode",
            "select",
            "full",
            "truncate",
            "skip_locked",
            "parallel_workers",
            "order_by",
            "min_dead_tuples",
            "min_dead_ratio",
            "min_mod_since_analyze_ratio",
            "min_xid_age",
            "min_mxid_age",
        )
    }
    opts.update(
        buffer_usage_limit=checked.buffer_usage_limit,
        min_size=checked.min_size,
        skip_vacuumed_within=checked.durations.get("skip_vacuumed_within"),
    )
    return opts


def session_settings(params: Params, checked: Checked) -> list[tuple[str, str]]:
    """(name, value) of each setting a job's session SETs before its first table."""
    settings = [("lock_timeout", milliseconds(checked.durations["lock_timeout"] or 0.0))]
    if checked.durations.get("statement_timeout") is not None:
        settings.append(("statement_timeout", milliseconds(checked.durations["statement_timeout"] or 0.0)))
    if params["cost_delay"] is not None:
        settings.append(("vacuum_cost_delay", str(params["cost_delay"])))
    if params["cost_limit"] is not None:
        settings.append(("vacuum_cost_limit", str(params["cost_limit"])))
    return settings


def database_names(params: Params, current: str, connectable: Iterable[str], known: Iterable[str]) -> list[str]:
    """The databases to maintain; VacuumError naming those that do not exist.

    ``current`` is the connection's database, ``connectable`` those all_databases takes (read only
    then), ``known`` every database of the server.
    """
    if params["all_databases"]:
        names = list(connectable)
    else:
        names = list(dict.fromkeys(params["databases"])) or [current]
    missing = [name for name in names if name not in set(known)]
    if missing:
        raise VacuumError("unknown database(s): %s" % ", ".join(missing))
    return names


def plan_database(
    params: Params, opts: Row, observed: Observed, database: str, rows: list[Row], running: Mapping[Any, bool]
) -> tuple[list[Row], list[Row], set[str]]:
    """(selected, skipped, names of O(tables) found) of one database, from every table read in it."""
    found = name_rows(rows, database, params["tables"])
    aggregate_partitions(rows)
    scoped = [row for row in rows if in_scope(row, params)]
    selected, skipped = plan_tables(
        scoped, observed.settings, opts, observed.now, running, server_version=observed.server_version
    )
    return selected, skipped, found


def check_tables_found(params: Params, names: list[str], found: set[str]) -> None:
    """VacuumError when a name of O(tables) designates a table in none of the databases."""
    unknown = [name for name in params["tables"] if name not in found]
    if unknown:
        raise VacuumError("unknown table(s) in %s: %s" % (", ".join(names), ", ".join(unknown)))


def planning_failed(message: str, gone: bool, server: str) -> VacuumError:
    """The failure of a read while planning (nothing was changed): the server gone, or the read itself."""
    message = message.strip()
    if gone:
        return VacuumError(
            "the server %s went away before any table was processed: %s" % (server, message.splitlines()[0])
        )
    return VacuumError("reading the tables' statistics failed: %s" % message)


def plan_warnings(params: Params, opts: Row, server_version: int) -> list[str]:
    """Warnings about options this server lacks (they are dropped from the commands)."""
    warnings = []
    for relkind in ("r", "p"):
        warnings.extend(entry_command(opts, server_version, relkind)[3])
    if params["jobs"] > 1 and server_version < 90500:
        warnings.append("jobs > 1 on a server older than 9.5 runs tables one at a time")
    return warnings


# --- findings -------------------------------------------------------------------------------------


def kept_note(entry: Row, settings: Mapping[str, float]) -> Optional[tuple[str, str]]:
    """(severity, message) of the dead tuples a table's VACUUM kept, or None."""
    return kept_dead_tuples(entry.get("n_dead_tup_kept"), settings, entry.get("reloptions"), entry.get("held_back_by"))


def build_findings(params: Params, checked: Checked, observed: Observed, outcome: Outcome) -> list[Row]:
    """The findings of the run: the xmin holder, then per database wraparound, stale, kept and outcome."""
    findings = []
    holder = oldest_holder(observed.xmin_holders)
    if holder:
        long_for = checked.durations.get("long_transaction_warning") or 0.0
        old = (holder.get("seconds") or 0) > long_for or (
            holder["kind"] == "replication_slot" and "inactive" in (holder.get("state") or "")
        )
        findings.append(
            make_finding(
                "postgres.xmin_horizon",
                "%s %s" % (holder["kind"], holder["id"]),
                "warning" if old else "info",
                "%s holds back cleanup" % describe_holder(holder),
                dict(holder),
            )
        )
    if observed.in_recovery:
        findings.append(
            make_finding(
                "postgres.vacuum", observed.database, "info", "skipped: the server is a standby (in recovery)", {}
            )
        )
        return findings
    for db in observed.databases:
        findings.append(_wraparound_finding(params, db))
        stale = stale_tables(params, checked, observed, db)
        if stale:
            findings.append(
                make_finding(
                    "postgres.vacuum_stale",
                    db["database"],
                    "warning",
                    "%d table(s) with dead tuples not vacuumed within %s: %s"
                    % (len(stale), params["stale_after"], ", ".join(stale[:5])),
                    {"tables": stale[:50]},
                )
            )
        findings.extend(_kept_findings(observed, db))
        findings.append(outcome_finding(params, observed, outcome, db))
    return findings


def _wraparound_finding(params: Params, db: Row) -> Row:
    age = db["xid_age"]
    warning, critical = params["xid_age_warning"], params["xid_age_critical"]
    return make_finding(
        "postgres.wraparound",
        db["database"],
        "critical" if age >= critical else "warning" if age >= warning else "ok",
        "transaction-ID age %d (warning at %d, critical at %d)" % (age, warning, critical),
        {"xid_age": age, "mxid_age": db["mxid_age"]},
    )


def stale_tables(params: Params, checked: Checked, observed: Observed, db: Row) -> list[str]:
    """Tables in scope with dead tuples that neither this run nor autovacuum vacuumed within stale_after."""
    stale = []
    threshold = max(params["min_dead_tuples"] or 0, int(observed.settings.get("autovacuum_vacuum_threshold", 50)))
    stale_after = checked.durations.get("stale_after") or 0.0
    vacuumed = {e["relid"] for e in db["selected"] if e.get("status") == "ok" and does_vacuum(params["mode"])}
    for row in db["rows"]:
        if not in_scope(row, params) or int(row.get("n_dead_tup") or 0) <= threshold or row["relid"] in vacuumed:
            continue
        last = max([s for s in (row.get("last_vacuum"), row.get("last_autovacuum")) if s is not None], default=None)
        if last is None or (observed.now - last).total_seconds() > stale_after:
            stale.append(
                "%s.%s (%d dead, last vacuum %s)"
                % (row["schema"], row["table"], row["n_dead_tup"], last.isoformat() if last else "never")
            )
    return stale


def _kept_findings(observed: Observed, db: Row) -> list[Row]:
    findings = []
    for entry in db["selected"]:
        judged = kept_note(entry, observed.settings)
        if judged is None or judged[0] != "warning":
            continue
        findings.append(
            make_finding(
                "postgres.vacuum_kept",
                "%s.%s.%s" % (db["database"], entry["schema"], entry["table"]),
                "warning",
                "%s.%s: VACUUM %s" % (entry["schema"], entry["table"], judged[1]),
                {
                    "n_dead_tup_before": entry["n_dead_tup"],
                    "n_dead_tup_kept": entry["n_dead_tup_kept"],
                    "held_back_by": entry.get("held_back_by"),
                },
            )
        )
    return findings


def outcome_finding(params: Params, observed: Observed, outcome: Outcome, db: Row) -> Row:
    """The postgres.vacuum finding of one database: what its planned tables came to."""
    selected = db["selected"]
    if outcome.check_mode:
        return make_finding(
            "postgres.vacuum",
            db["database"],
            "info",
            "check mode: %d table(s) would be processed (%s)" % (len(selected), params["mode"]),
            {},
        )
    counts = dict((s, 0) for s in STATUSES)
    for entry in selected:
        counts[entry.get("status", "not_started")] += 1
    failed = [e for e in selected if e.get("status") == "error"]
    held = [e for e in selected if e.get("status") in HELD]
    if outcome.lost is not None:
        severity, summary = "critical", lost_summary(observed.server, outcome.lost, selected)
    elif outcome.crashes:
        severity, summary = "critical", "the run failed: %s" % outcome.crashes[0].splitlines()[0]
    elif failed:
        severity = "critical"
        summary = "%d table(s) failed: %s.%s: %s" % (
            len(failed),
            failed[0]["schema"],
            failed[0]["table"],
            failed[0]["message"],
        )
    elif held:
        severity = "warning"
        summary = "%d table(s) not done (%s)" % (
            len(held),
            ", ".join("%s.%s %s" % (e["schema"], e["table"], e["status"]) for e in held[:5]),
        )
    else:
        severity = "ok"
        summary = "%d of %d planned table(s) processed (%s)" % (counts["ok"], len(selected), params["mode"])
    done = []
    for entry in selected:
        line = "%s.%s: %s in %.0f ms" % (
            entry["schema"],
            entry["table"],
            entry.get("status", "not_started"),
            entry.get("duration_ms", 0.0),
        )
        if entry.get("n_dead_tup_after") is not None:
            line += ", dead tuples %d -> %d" % (entry["n_dead_tup"], entry["n_dead_tup_after"])
        judged = kept_note(entry, observed.settings)
        if judged:
            line += ", " + judged[1]
        done.append(line)
    # The dead tuples of the planned tables before and after the run (a table not vacuumed keeps
    # its own), as count_totals sums them: the trend of the run report's charts.
    before = sum(int(e["n_dead_tup"]) for e in selected)
    after = sum(int(e["n_dead_tup"] if e.get("n_dead_tup_after") is None else e["n_dead_tup_after"]) for e in selected)
    details = {
        "counts": counts,
        "tables": done[:DONE_LISTED],
        "n_dead_tup_before": before,
        "n_dead_tup_after": after,
    }
    return make_finding("postgres.vacuum", db["database"], severity, summary, details)


# --- result ---------------------------------------------------------------------------------------


def not_selected_reason(skip_reason: str) -> str:
    """The reason a table was not selected, as totals.not_selected counts it (without its values)."""
    reason = skip_reason.split(",")[0] if skip_reason.startswith("maintained") else skip_reason
    return "size below min_size" if reason.startswith("size ") else reason


def count_totals(observed: Observed, outcome: Outcome) -> Row:
    """totals: counts by status, dead tuples before and after, tables not selected by reason, times, jobs."""
    totals: Row = dict((s, 0) for s in STATUSES)
    totals.update(
        planned=0,
        n_dead_tup_before=0,
        n_dead_tup_after=0,
        not_selected={},
        plan_ms=observed.plan_ms,
        duration_ms=outcome.duration_ms,
        jobs=0,
    )
    for db in observed.databases:
        for entry in db["selected"]:
            totals["planned"] += 1
            if outcome.check_mode:
                continue
            totals[entry.get("status", "not_started")] += 1
            totals["n_dead_tup_before"] += entry["n_dead_tup"]
            after = entry.get("n_dead_tup_after")
            totals["n_dead_tup_after"] += after if after is not None else entry["n_dead_tup"]
        for entry in db["skipped"]:
            reason = not_selected_reason(entry["skip_reason"])
            totals["not_selected"][reason] = totals["not_selected"].get(reason, 0) + 1
    if outcome.jobs:
        totals["jobs"] = min(outcome.jobs, max(totals["planned"], 1))
    return totals


def _planned(entry: Row) -> Row:
    planned = {key: entry[key] for key in ("database", "schema", "table", "reasons", "sql", "total_bytes")}
    planned.update(
        size_estimated=entry["size_estimated"],
        partitioned=entry["relkind"] == "p",
        n_dead_tup=entry["n_dead_tup"],
        xid_age=entry["xid_age"],
        wraparound=entry["wraparound"],
    )
    return planned


def _processed(entry: Row, settings: Mapping[str, float]) -> Row:
    judged = kept_note(entry, settings)
    return {
        "database": entry["database"],
        "schema": entry["schema"],
        "table": entry["table"],
        "sql": entry["sql"],
        "status": entry.get("status", "not_started"),
        "duration_ms": entry.get("duration_ms", 0.0),
        "message": entry.get("message"),
        "n_dead_tup_before": entry["n_dead_tup"],
        "n_dead_tup_after": entry.get("n_dead_tup_after"),
        "n_dead_tup_kept": entry.get("n_dead_tup_kept"),
        "kept": judged[1] if judged else None,
        "held_back_by": entry.get("held_back_by"),
    }


def result(params: Params, checked: Checked, observed: Observed, outcome: Outcome) -> Row:
    """The task's result, the same keys whether it ran, planned (check mode) or skipped (standby)."""
    entries = [e for db in observed.databases for e in db["selected"]]
    not_selected = [
        {key: entry[key] for key in ("database", "schema", "table", "skip_reason")}
        for db in observed.databases
        for entry in db["skipped"]
    ]
    if not params["not_selected_details"]:
        not_selected = not_selected[:NOT_SELECTED_LISTED]
    totals = count_totals(observed, outcome)
    findings = build_findings(params, checked, observed, outcome)
    return {
        "changed": bool(entries) if outcome.check_mode else totals["ok"] > 0,
        "server_version": observed.version_text,
        "in_recovery": observed.in_recovery,
        "planned": [_planned(e) for e in entries],
        "not_selected": not_selected,
        "processed": [] if outcome.check_mode else [_processed(e, observed.settings) for e in entries],
        "databases": [
            {"database": d["database"], "xid_age": d["xid_age"], "mxid_age": d["mxid_age"]} for d in observed.databases
        ],
        "totals": totals,
        "budget_exhausted": outcome.budget_exhausted,
        "oldest_xmin_holder": oldest_holder(observed.xmin_holders),
        "xmin_holders": observed.xmin_holders[:HOLDERS_LISTED],
        "findings": findings,
        "worst_severity": worst_severity(findings),
    }


def failure(params: Params, observed: Observed, outcome: Outcome, output: Row) -> Optional[VacuumError]:
    """Why the task fails with the result ``output``, or None when it succeeds.

    A run that could not do its work fails whatever fail_on says (a standby with
    on_recovery=fail, the server gone, a job that failed, a table's error without
    continue_on_error); otherwise the task fails when a finding reaches fail_on.
    """
    if observed.in_recovery and params["on_recovery"] == "fail":
        return VacuumError("the server is a standby (in recovery); VACUUM and ANALYZE cannot run there", output)
    if outcome.lost is not None:
        entries = [e for db in observed.databases for e in db["selected"]]
        return VacuumError(lost_summary(observed.server, outcome.lost, entries), output)
    if outcome.crashes:
        return VacuumError(
            "the run failed, %d table(s) not started: %s"
            % (output["totals"]["not_started"], outcome.crashes[0].splitlines()[0]),
            output,
            exception=outcome.crashes[0],
        )
    failed = [e for e in output["processed"] if e["status"] == "error"]
    if failed and not params["continue_on_error"]:
        first = failed[0]
        return VacuumError(
            "%d table(s) failed; first: %s.%s.%s: %s"
            % (len(failed), first["database"], first["schema"], first["table"], first["message"]),
            output,
        )
    fail_on = params.get("fail_on") or "never"
    if severity_at_least(output["worst_severity"], fail_on):
        bad = [f for f in output["findings"] if severity_at_least(f["severity"], fail_on)]
        return VacuumError(
            "%d finding(s) at %s or worse: %s"
            % (len(bad), fail_on, "; ".join("%s: %s" % (f["target"], f["summary"]) for f in bad[:5])),
            output,
        )
    return None
