# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Which tables need VACUUM or ANALYZE, in which order, and with which command.

Everything here is pure: the planner takes the statistics the module read from the server
(one dict per table, the server's settings, what autovacuum is working on) and returns the
plan as plain data, so unit tests feed it observed state without a server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

# Re-exported for _vacuum_report, which imports them from here.
from ansible_collections.stronghold.ops.plugins.module_utils._xmin_holders import (  # pylint: disable=unused-import
    HOLDER_KINDS,  # noqa: F401
    describe_holder,
    holder_dict,  # noqa: F401
    holders_for,  # noqa: F401
    oldest_holder,  # noqa: F401
)

# A table, an entry of the plan, a holder or the planner's options: plain dicts.
Row = dict[str, Any]

MODES = ("vacuum", "analyze", "vacuum_analyze", "freeze")

# Default age above which freeze mode selects a table when min_xid_age is not given: well
# below autovacuum_freeze_max_age (200M), so the monthly freeze runs before autovacuum's
# anti-wraparound vacuum would, at a time of our choosing.
DEFAULT_FREEZE_MIN_XID_AGE = 50000000

# Server versions (server_version_num) from which VACUUM/ANALYZE options exist.
OPTION_SINCE = {
    "SKIP_LOCKED": 120000,
    "TRUNCATE": 120000,
    "PARALLEL": 130000,
    "PROCESS_TOAST": 140000,
    "BUFFER_USAGE_LIMIT": 160000,
    "SKIP_DATABASE_STATS": 160000,
    # ANALYZE ONLY of a partitioned table (its own statistics without re-analyzing every
    # partition); before 18 the ANALYZE of a partitioned table always recurses.
    "ONLY": 180000,
}

_SETTING_DEFAULTS = {
    "autovacuum_vacuum_threshold": 50.0,
    "autovacuum_vacuum_scale_factor": 0.2,
    "autovacuum_vacuum_insert_threshold": 1000.0,
    "autovacuum_vacuum_insert_scale_factor": 0.2,
    "autovacuum_analyze_threshold": 50.0,
    "autovacuum_analyze_scale_factor": 0.1,
    "autovacuum_freeze_max_age": 200000000.0,
    "autovacuum_multixact_freeze_max_age": 400000000.0,
}


def does_vacuum(mode: str) -> bool:
    return mode in ("vacuum", "vacuum_analyze", "freeze")


def does_analyze(mode: str) -> bool:
    return mode in ("analyze", "vacuum_analyze")


def parse_reloptions(reloptions: Optional[Iterable[str]]) -> dict[str, str]:
    """{'autovacuum_vacuum_scale_factor': '0.01', ...} from pg_class.reloptions."""
    parsed = {}
    for item in reloptions or []:
        key, sep, value = item.partition("=")
        if sep:
            parsed[key.strip()] = value.strip()
    return parsed


def table_settings(settings: Mapping[str, float], reloptions: Optional[Iterable[str]]) -> dict[str, float]:
    """The autovacuum parameters of one table: server settings overridden by its reloptions.

    A reloption of -1 means "use the server setting", as in PostgreSQL, except for
    autovacuum_vacuum_insert_threshold, where -1 switches insert-driven vacuums off for the
    table (autovacuum.c takes the reloption when it is >= -1).
    """
    effective = {}
    overrides = parse_reloptions(reloptions)
    for name, default in _SETTING_DEFAULTS.items():
        value = settings.get(name, default)
        if name in overrides:
            try:
                override = float(overrides[name])
            except ValueError:
                override = -1
            if override >= (-1 if name == "autovacuum_vacuum_insert_threshold" else 0):
                value = override
        effective[name] = float(value)
    return effective


def _latest(*stamps: Optional[datetime]) -> Optional[datetime]:
    present = [s for s in stamps if s is not None]
    return max(present) if present else None


def evaluate_table(
    row: Row, settings: Mapping[str, float], opts: Row, now: datetime, effective: Optional[Mapping[str, float]] = None
) -> tuple[list[str], bool]:
    """Reasons a table needs the chosen maintenance, and whether it is a wraparound risk.

    ``effective``: table_settings(settings, row's reloptions) when the caller has it already.

    ``row`` holds: xid_age, mxid_age, reltuples, n_live_tup, n_dead_tup, n_mod_since_analyze,
    n_ins_since_vacuum (None before PostgreSQL 13), last_vacuum, last_autovacuum,
    last_analyze, last_autoanalyze (datetimes or None), reloptions, total_bytes.
    """
    mode = opts["mode"]
    if row.get("relkind") == "p":
        return _evaluate_partitioned(row, settings, opts), False
    eff = effective if effective is not None else table_settings(settings, row.get("reloptions"))
    reasons = []
    reltuples = max(float(row.get("reltuples") or 0), 0.0)
    dead = int(row.get("n_dead_tup") or 0)
    live = int(row.get("n_live_tup") or 0)
    xid_age = int(row.get("xid_age") or 0)
    mxid_age = int(row.get("mxid_age") or 0)

    wraparound = False
    if xid_age > eff["autovacuum_freeze_max_age"]:
        wraparound = True
        reasons.append(
            "wraparound: xid age %d > autovacuum_freeze_max_age %d" % (xid_age, eff["autovacuum_freeze_max_age"])
        )
    if mxid_age > eff["autovacuum_multixact_freeze_max_age"]:
        wraparound = True
        reasons.append(
            "wraparound: multixact age %d > autovacuum_multixact_freeze_max_age %d"
            % (mxid_age, eff["autovacuum_multixact_freeze_max_age"])
        )

    min_xid_age = opts.get("min_xid_age")
    if mode == "freeze" and min_xid_age is None:
        min_xid_age = DEFAULT_FREEZE_MIN_XID_AGE
    if does_vacuum(mode) and min_xid_age is not None and xid_age >= min_xid_age and not wraparound:
        reasons.append("xid age %d >= min_xid_age %d" % (xid_age, min_xid_age))
    if (
        does_vacuum(mode)
        and opts.get("min_mxid_age") is not None
        and mxid_age >= opts["min_mxid_age"]
        and not wraparound
    ):
        reasons.append("multixact age %d >= min_mxid_age %d" % (mxid_age, opts["min_mxid_age"]))

    if mode in ("vacuum", "vacuum_analyze"):
        limit = eff["autovacuum_vacuum_threshold"] + eff["autovacuum_vacuum_scale_factor"] * reltuples
        if dead > limit:
            reasons.append(
                "dead tuples %d > autovacuum threshold %.0f (%g + %g x %.0f rows)"
                % (dead, limit, eff["autovacuum_vacuum_threshold"], eff["autovacuum_vacuum_scale_factor"], reltuples)
            )
        inserted = row.get("n_ins_since_vacuum")
        if inserted is not None:
            ins_limit = (
                eff["autovacuum_vacuum_insert_threshold"] + eff["autovacuum_vacuum_insert_scale_factor"] * reltuples
            )
            if eff["autovacuum_vacuum_insert_threshold"] >= 0 and inserted > ins_limit:
                reasons.append("rows inserted since vacuum %d > insert threshold %.0f" % (inserted, ins_limit))
        if opts.get("min_dead_tuples") is not None or opts.get("min_dead_ratio") is not None:
            ratio = 100.0 * dead / (dead + live) if dead + live else 0.0
            floor = int(opts["min_dead_tuples"]) if opts.get("min_dead_tuples") is not None else 1
            if dead >= max(floor, 1) and ratio >= (opts.get("min_dead_ratio") or 0.0):
                limits = []
                if opts.get("min_dead_tuples") is not None:
                    limits.append("min_dead_tuples %d" % opts["min_dead_tuples"])
                if opts.get("min_dead_ratio") is not None:
                    limits.append("min_dead_ratio %g%%" % opts["min_dead_ratio"])
                reasons.append("dead tuples %d (%.1f%% of rows) reach %s" % (dead, ratio, " and ".join(limits)))

    if does_analyze(mode):
        modified = int(row.get("n_mod_since_analyze") or 0)
        if (
            row.get("last_analyze") is None
            and row.get("last_autoanalyze") is None
            and (live > 0 or reltuples > 0 or dead > 0)
        ):
            reasons.append("never analyzed")
        limit = eff["autovacuum_analyze_threshold"] + eff["autovacuum_analyze_scale_factor"] * reltuples
        if modified > limit:
            reasons.append("rows modified since analyze %d > analyze threshold %.0f" % (modified, limit))
        reasons.extend(_modified_ratio_reason(modified, live, reltuples, opts, ""))
    return reasons, wraparound


def _modified_ratio_reason(modified: int, live: int, reltuples: float, opts: Row, where: str) -> list[str]:
    """The reason min_mod_since_analyze_ratio gives, if it is reached (``where``: " in its partitions")."""
    if opts.get("min_mod_since_analyze_ratio") is None or modified <= 0:
        return []
    ratio = 100.0 * modified / max(live, reltuples, 1)
    if ratio < opts["min_mod_since_analyze_ratio"]:
        return []
    return [
        "rows modified since analyze%s %.1f%% >= min_mod_since_analyze_ratio %s%%"
        % (where, ratio, opts["min_mod_since_analyze_ratio"])
    ]


def _evaluate_partitioned(row: Row, settings: Mapping[str, float], opts: Row) -> list[str]:
    """Analyze reasons of a partitioned table, from the sums over its leaf partitions.

    Autovacuum never analyzes a partitioned table (it holds no rows itself), so its
    inherited statistics are only as fresh as the last manual ANALYZE. The rule is
    autovacuum's analyze formula applied to the partitions' totals (see aggregate_partitions).
    """
    if not does_analyze(opts["mode"]):
        return []
    eff = table_settings(settings, None)
    reasons = []
    reltuples = max(float(row.get("reltuples") or 0), 0.0)
    modified = int(row.get("n_mod_since_analyze") or 0)
    live = int(row.get("n_live_tup") or 0)
    partitions = int(row.get("partitions") or 0)
    if not row.get("has_inherited_stats") and (live > 0 or reltuples > 0 or modified > 0):
        reasons.append("partitioned table never analyzed (autovacuum never analyzes one)")
    limit = eff["autovacuum_analyze_threshold"] + eff["autovacuum_analyze_scale_factor"] * reltuples
    if modified > limit:
        reasons.append(
            "rows modified since analyze in its %d partition(s) %d > analyze threshold %.0f (%g + %g x %.0f rows)"
            % (
                partitions,
                modified,
                limit,
                eff["autovacuum_analyze_threshold"],
                eff["autovacuum_analyze_scale_factor"],
                reltuples,
            )
        )
    return reasons + _modified_ratio_reason(modified, live, reltuples, opts, " in its partitions")


def aggregate_partitions(rows: list[Row]) -> list[Row]:
    """Give every partitioned table (relkind 'p') the totals of its leaf partitions, in place.

    A partitioned table has no storage and no statistics row of its own: its size, rows and
    modifications since analyze are those of the leaves below it, at any depth. Each row
    lists its ``ancestors`` (relids, nearest first).
    """
    parents = dict((row["relid"], row) for row in rows if row.get("relkind") == "p")
    for parent in parents.values():
        parent.update(
            reltuples=0.0,
            n_live_tup=0,
            n_dead_tup=0,
            n_mod_since_analyze=0,
            total_bytes=0,
            partitions=0,
            size_estimated=False,
            xid_age=0,
            mxid_age=0,
            n_ins_since_vacuum=None,
        )
    for row in rows:
        if row.get("relkind") == "p":
            continue
        for ancestor in row.get("ancestors") or ():
            if ancestor not in parents:
                continue
            parent = parents[ancestor]
            parent["reltuples"] += max(float(row.get("reltuples") or 0), 0.0)
            parent["n_live_tup"] += int(row.get("n_live_tup") or 0)
            parent["n_mod_since_analyze"] += int(row.get("n_mod_since_analyze") or 0)
            parent["total_bytes"] += int(row.get("total_bytes") or 0)
            parent["partitions"] += 1
            parent["size_estimated"] = parent["size_estimated"] or bool(row.get("size_estimated"))
    return rows


def sizes_needed(rows: list[Row], settings: Mapping[str, float], opts: Row, now: datetime) -> list[int]:
    """The relids whose true size the plan can use, from rows read with estimated sizes.

    A table's size decides nothing unless the table has a reason to be selected: then min_size
    may leave it out, the order sorts it, RV(planned) reports it. A partitioned table's size is
    the sum of its leaves', so a partitioned table with a reason needs all its leaves' sizes.
    With select: needed and 1 % of 10,000 tables over a threshold, about 100 sizes are read
    instead of 10,000. Every table when everything is selected. Rows get their partitions'
    totals (aggregate_partitions, which the plan repeats once the true sizes are in).
    """
    if opts.get("select") == "all":
        return [row["relid"] for row in rows if row.get("relkind") != "p"]
    aggregate_partitions(rows)
    effective: dict[tuple[str, ...], dict[str, float]] = {}
    needed: set[int] = set()
    parents: set[int] = set()
    for row in rows:
        key = tuple(row.get("reloptions") or ())
        if key not in effective:
            effective[key] = table_settings(settings, key)
        if evaluate_table(row, settings, opts, now, effective[key])[0]:
            (parents if row.get("relkind") == "p" else needed).add(row["relid"])
    for row in rows:
        if row.get("relkind") != "p" and parents.intersection(row.get("ancestors") or ()):
            needed.add(row["relid"])
    return sorted(needed)


def apply_sizes(rows: list[Row], sizes: Iterable[Mapping[str, Any]]) -> None:
    """Give rows the sizes read for them (relid, total_bytes, size_estimated), in place."""
    read = dict((size["relid"], size) for size in sizes)
    for row in rows:
        size = read.get(row["relid"])
        if size is not None and size["total_bytes"] is not None:
            row["total_bytes"] = size["total_bytes"]
            row["size_estimated"] = size["size_estimated"]


def last_maintained(row: Row, mode: str) -> Optional[datetime]:
    if does_vacuum(mode):
        return _latest(row.get("last_vacuum"), row.get("last_autovacuum"))
    return _latest(row.get("last_analyze"), row.get("last_autoanalyze"))


def plan_tables(
    rows: list[Row],
    settings: Mapping[str, float],
    opts: Row,
    now: datetime,
    autovacuum_relids: Optional[Mapping[Any, bool]] = None,
    server_version: Optional[int] = None,
) -> tuple[list[Row], list[Row]]:
    """Decide for every table in scope. Returns (selected, skipped), both lists of dicts.

    ``autovacuum_relids`` maps relid -> True when the running autovacuum is an
    anti-wraparound one, False otherwise. Selected tables come ordered: wraparound risk first
    (oldest first), then by ``opts['order_by']`` (size or dead tuples), largest first, and
    partitioned tables last (their ANALYZE samples partitions the run may just have vacuumed).
    Partitioned tables are only analyzed (VACUUM works on their partitions); before
    PostgreSQL 18 (``server_version``) their ANALYZE recurses into every partition, so what
    it covers is not planned twice.
    """
    autovacuum_relids = autovacuum_relids or {}
    selected, skipped = [], []
    # The effective settings once per distinct reloptions (most tables have none), not per table:
    # with 10,000 tables they were a quarter of the planning time in Python.
    effective: dict[tuple[str, ...], dict[str, float]] = {}
    for row in rows:
        key = tuple(row.get("reloptions") or ())
        if key not in effective:
            effective[key] = table_settings(settings, key)
        reasons, wraparound = evaluate_table(row, settings, opts, now, effective[key])
        entry = {
            "database": row["database"],
            "schema": row["schema"],
            "table": row["table"],
            "relid": row.get("relid"),
            "relkind": row.get("relkind") or "r",
            "ancestors": list(row.get("ancestors") or []),
            "size_estimated": bool(row.get("size_estimated")),
            "reloptions": row.get("reloptions"),
            "total_bytes": int(row.get("total_bytes") or 0),
            "n_dead_tup": int(row.get("n_dead_tup") or 0),
            "n_live_tup": int(row.get("n_live_tup") or 0),
            "xid_age": int(row.get("xid_age") or 0),
            "mxid_age": int(row.get("mxid_age") or 0),
            "wraparound": wraparound,
            "reasons": reasons,
        }
        if entry["relkind"] == "p" and not does_analyze(opts["mode"]):
            entry["skip_reason"] = "partitioned table: VACUUM runs on its partitions"
            skipped.append(entry)
            continue
        if opts["select"] == "all":
            entry["reasons"] = ["select: all"] + reasons
        else:
            skip = None
            if not reasons:
                skip = "below every threshold"
            elif not wraparound and opts.get("min_size") and entry["total_bytes"] < opts["min_size"]:
                skip = "size %d bytes < min_size %d" % (entry["total_bytes"], opts["min_size"])
            elif not wraparound and opts.get("skip_vacuumed_within"):
                last = last_maintained(row, opts["mode"])
                if last is not None and (now - last).total_seconds() < opts["skip_vacuumed_within"]:
                    skip = "maintained %s, within skip_vacuumed_within" % last.isoformat()
            if skip:
                entry["skip_reason"] = skip
                skipped.append(entry)
                continue
        relid = row.get("relid")
        if relid in autovacuum_relids and not wraparound and not autovacuum_relids[relid]:
            entry["skip_reason"] = "autovacuum is working on it"
            skipped.append(entry)
            continue
        selected.append(entry)

    weight = "n_dead_tup" if opts.get("order_by") == "dead_tuples" else "total_bytes"

    def order(entry: Row) -> tuple[int, int, int]:
        if entry["wraparound"]:
            return (0, -entry["xid_age"], -entry[weight])
        if entry["relkind"] == "p":
            return (2, len(entry["ancestors"]), -entry["total_bytes"])
        return (1, 0, -entry[weight])

    selected.sort(key=order)
    if server_version is not None and server_version < OPTION_SINCE["ONLY"]:
        selected, covered = _covered_by_recursive_analyze(selected, opts["mode"])
        skipped.extend(covered)
    return selected, skipped


def _covered_by_recursive_analyze(selected: list[Row], mode: str) -> tuple[list[Row], list[Row]]:
    """Before PostgreSQL 18, ANALYZE of a partitioned table also analyzes everything below it.

    A partitioned table below a selected one is therefore dropped, and so is a partition in
    ``analyze`` mode; in the vacuum modes partitions keep their VACUUM.
    """
    parents = dict((e["relid"], e) for e in selected if e["relkind"] == "p")
    kept, covered = [], []
    for entry in selected:
        above = [parents[a] for a in entry["ancestors"] if a in parents]
        if above and (entry["relkind"] == "p" or mode == "analyze") and not entry["wraparound"]:
            top = above[-1]
            entry["skip_reason"] = "analyzed with its partitioned table %s.%s" % (top["schema"], top["table"])
            covered.append(entry)
        else:
            kept.append(entry)
    return kept, covered


def command_options(opts: Row, server_version: int) -> tuple[str, list[tuple[str, Any]], list[str]]:
    """The option list of the VACUUM or ANALYZE command, and warnings for dropped options.

    Returns (command, options, warnings), options as (NAME, value-or-None) pairs; value is
    a python value the caller turns into an SQL literal.
    """
    mode = opts["mode"]
    options: list[tuple[str, Any]] = []
    warnings: list[str] = []

    def supported(name: str) -> bool:
        if server_version >= OPTION_SINCE.get(name, 0):
            return True
        warnings.append("%s is not supported by this server (PostgreSQL %d); dropped" % (name, server_version // 10000))
        return False

    if mode == "analyze":
        command = "ANALYZE"
    else:
        command = "VACUUM"
        if opts.get("full"):
            options.append(("FULL", None))
        if mode == "freeze":
            options.append(("FREEZE", None))
        if mode == "vacuum_analyze":
            options.append(("ANALYZE", None))
        if not opts.get("truncate", False) and not opts.get("full") and supported("TRUNCATE"):
            options.append(("TRUNCATE", False))
        if opts.get("parallel_workers") is not None and not opts.get("full") and supported("PARALLEL"):
            options.append(("PARALLEL", int(opts["parallel_workers"])))
        if server_version >= OPTION_SINCE["SKIP_DATABASE_STATS"]:
            # PostgreSQL 16+: update datfrozenxid once per database at the end instead of
            # after every table, as vacuumdb does.
            options.append(("SKIP_DATABASE_STATS", None))
    if opts.get("skip_locked", True) and supported("SKIP_LOCKED"):
        options.append(("SKIP_LOCKED", None))
    if opts.get("buffer_usage_limit") and supported("BUFFER_USAGE_LIMIT"):
        options.append(("BUFFER_USAGE_LIMIT", opts["buffer_usage_limit"]))
    return command, options, warnings


def entry_command(opts: Row, server_version: int, relkind: str) -> tuple[str, list[tuple[str, Any]], bool, list[str]]:
    """(command, options, only, warnings) for one table: a partitioned table is only analyzed.

    ``only`` asks for ANALYZE ONLY (PostgreSQL 18+): the partitions have their own entries.
    """
    if relkind == "p":
        analyze_opts = dict(opts, mode="analyze")
        command, options, warnings = command_options(analyze_opts, server_version)
        return command, options, server_version >= OPTION_SINCE["ONLY"], warnings
    command, options, warnings = command_options(opts, server_version)
    return command, options, False, warnings


def _sql_value(value: Any) -> str:
    # The values entry_command gives: booleans, PARALLEL's int, BUFFER_USAGE_LIMIT's "<n>kB".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "%d" % value
    return "'%s'" % str(value).replace("'", "''")


def command_prefix(opts: Row, server_version: int, relkind: str) -> str:
    """The command of one table up to its name, such as ``VACUUM (ANALYZE, TRUNCATE false, SKIP_LOCKED)``.

    The caller appends the quoted table name. A partitioned table on PostgreSQL 18+ ends in ``ONLY``.
    """
    command, options, only, dummy = entry_command(opts, server_version, relkind)
    parts = [name if value is None else "%s %s" % (name, _sql_value(value)) for name, value in options]
    text = "%s (%s)" % (command, ", ".join(parts)) if parts else command
    return text + " ONLY" if only else text


# --- what holds back the xmin horizon: _xmin_holders (shared with pg_health) -----------------


def kept_dead_tuples(
    kept: Optional[int], settings: Mapping[str, float], reloptions: Optional[Iterable[str]], holder: Optional[Row]
) -> Optional[tuple[str, str]]:
    """(severity, message) for the dead tuples a successful VACUUM left, or None when none.

    After a VACUUM, the table's dead-tuple count is what that VACUUM found dead but could not
    remove because an older snapshot or transaction might still see it (PostgreSQL reports
    "dead but not yet removable" as the table's n_dead_tup). More than the table's
    autovacuum_vacuum_threshold of them is a warning: a few are normal on a busy table whose
    short transactions were open at that moment.
    """
    if kept is None or kept <= 0:
        return None
    threshold = table_settings(settings, reloptions)["autovacuum_vacuum_threshold"]
    severity = "warning" if kept > threshold else "info"
    if holder is not None:
        cause = "held back by %s" % describe_holder(holder)
    else:
        cause = "no holder of the xmin horizon was seen (it may have ended during the run)"
    return severity, "kept %d dead tuples that it should have removed: %s" % (kept, cause)


def free_connections(max_connections: float, reserved: float, in_use: float, margin: int = 2) -> int:
    """Connections this run may open without crowding out the application."""
    return max(0, int(max_connections) - int(reserved) - int(in_use) - margin)


def free_for(settings: Mapping[str, float], in_use: float) -> int:
    """free_connections() from the server's settings (pg_settings) and its client backends."""
    reserved = settings.get("superuser_reserved_connections", 3) + settings.get("reserved_connections", 0)
    return free_connections(settings.get("max_connections", 100), reserved, in_use)


# --- input limits, and a server that went away ------------------------------------------------

# lock_timeout and statement_timeout are int milliseconds on the server: SET refuses more, and
# 0 means "no limit", the opposite of what a tiny value asks for.
TIMEOUT_MAX_MS = 2147483647


def timeout_problem(name: str, value: Any, seconds: Optional[float]) -> Optional[str]:
    """Why a lock_timeout or statement_timeout cannot be given to the server as it stands, or None."""
    if seconds is None:
        return None
    if seconds * 1000 > TIMEOUT_MAX_MS:
        return "%s must be at most %dms (about 24.8 days, PostgreSQL's limit), got %r" % (name, TIMEOUT_MAX_MS, value)
    if round(seconds * 1000) < 1:
        unset = "unset it for no limit" if name == "statement_timeout" else "0 would wait forever"
        return "%s must be at least 1ms (%s), got %r" % (name, unset, value)
    return None


def connection_lost(sqlstate: Optional[str], broken: bool, operational: bool) -> bool:
    """Whether an error means the server (or our session on it) is gone, not that one table failed.

    Class 08 (connection exception) and 57P01-57P03 (admin or crash shutdown, cannot connect
    now) are what a stopped, crashed or restarting server and pg_terminate_backend() raise; an
    OperationalError without SQLSTATE comes from libpq (the socket closed); a broken
    connection is gone whatever the error says.
    """
    code = sqlstate or ""
    if broken or code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        return True
    return bool(operational) and not code


def connection_refused(message: str) -> bool:
    """Whether a failed connection attempt means the server is not there (or is going away).

    libpq says so in words only: a refused TCP connection or a missing socket, or a server that
    answers that it is shutting down or starting up. A FATAL answer otherwise (too many
    connections, a connection limit, authentication) is a server that is up and said no.
    """
    text = message.lower()
    return any(
        marker in text
        for marker in (
            "connection refused",
            "no such file or directory",
            "server closed the connection",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
            "timeout expired",
            "could not receive data",
        )
    )


def lost_summary(server: str, cause: Optional[str], entries: list[Row]) -> str:
    """What a user must know when the server went away: where, what was done, what was not."""

    def names(group: list[Row]) -> str:
        listed = ", ".join("%s.%s" % (e["schema"], e["table"]) for e in group[:10])
        return listed + (" and %d more" % (len(group) - 10) if len(group) > 10 else "")

    interrupted = [e for e in entries if e.get("interrupted")]
    not_started = [e for e in entries if e.get("status", "not_started") == "not_started"]
    done = [e for e in entries if not e.get("interrupted") and e.get("status", "not_started") != "not_started"]
    parts = ["the server %s went away during the run (%s)" % (server, cause), "%d table(s) done" % len(done)]
    if interrupted:
        parts.append("%d interrupted (%s)" % (len(interrupted), names(interrupted)))
    parts.append("%d not started%s" % (len(not_started), " (%s)" % names(not_started) if not_started else ""))
    return ", ".join(parts)


# --- scope: which tables the names of tables/exclude_tables and schemas designate ---------------


def split_name(name: str) -> tuple[Optional[str], str]:
    """(schema, table) of ``schema.table``, (None, table) of a bare ``table``."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


def names_match(name: str, lineage: Iterable[tuple[str, str]]) -> bool:
    """Whether a name of tables/exclude_tables designates a table or one of its partitioned ancestors."""
    schema, table = split_name(name)
    return any(t == table and schema in (None, s) for s, t in lineage)


def in_scope(row: Row, params: Mapping[str, Any]) -> bool:
    """Scope by schema (the table's own) and by name: naming a partitioned table names its partitions."""
    if params["schemas"] and row["schema"] not in params["schemas"]:
        return False
    if row["schema"] in params["exclude_schemas"]:
        return False
    lineage = row.get("lineage") or [(row["schema"], row["table"])]
    if any(names_match(name, lineage) for name in params["exclude_tables"]):
        return False
    if params["tables"]:
        return any(names_match(name, lineage) for name in params["tables"])
    return True


def milliseconds(seconds: float) -> str:
    """A duration as PostgreSQL's lock_timeout and statement_timeout read it."""
    return "%dms" % max(int(round(seconds * 1000)), 0)


# --- one table's outcome ------------------------------------------------------------------------

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


def notice_status(notices: Iterable[tuple[str, str]]) -> tuple[str, Optional[str]]:
    """(status, message) of a command that succeeded, from the notices (sqlstate, message) it raised.

    SKIP_LOCKED and a missing privilege do not fail VACUUM or ANALYZE: they skip the table with
    a notice. Classified by SQLSTATE where the server sets one; PostgreSQL 15 and older warn
    "skipping ... --- only superuser or database owner can vacuum it" with the generic 01000.
    """
    notices = list(notices)
    locked = [m for code, m in notices if code == "55P03" or "lock not available" in m]
    denied = [
        m
        for code, m in notices
        if code == "42501" or (m.startswith("skipping") and " only " in m) or m.startswith("permission denied")
    ]
    if locked:
        return "skipped_locked", locked[0]
    if denied:
        return "skipped_permission", denied[0]
    return "ok", None


def not_started_reason(lost: Optional[str], crashes: list[str], budget_exhausted: bool) -> str:
    """Why a planned table was not started: the server gone, a failed job, the budget, an earlier failure."""
    if lost is not None:
        return "not started: the server went away"
    if crashes:
        return "not started: %s" % crashes[0].splitlines()[0]
    return "budget exhausted" if budget_exhausted else "not started after an earlier failure"


def jobs_for(jobs: int, free: int) -> tuple[int, Optional[str]]:
    """The jobs to run with the connections the server has free, and a warning when they were lowered."""
    if jobs <= 1:
        return jobs, None
    cap = min(jobs, max(free, 1))
    if cap < jobs:
        return cap, "jobs lowered from %d to %d: the server has %d connection(s) free" % (jobs, cap, free)
    return jobs, None


def describe_server(host: str, port: Any) -> str:
    """host:port, or the socket directory and port, as the connection reached them."""
    if host.startswith("/"):
        return "on socket %s port %s" % (host, port)
    return "%s:%s" % ("[%s]" % host if ":" in host else host, port)


def name_rows(rows: list[Row], database: str, tables: Iterable[str]) -> set[str]:
    """Give each table of ``database`` its database and lineage (itself, then its ancestors), in place.

    Returns the names of ``tables`` that designate one of these tables by its own name, so that
    a name found in no database fails the task before anything runs.
    """
    names = dict((row["relid"], (row["schema"], row["table"])) for row in rows)
    found: set[str] = set()
    for row in rows:
        row["database"] = database
        row["lineage"] = [(row["schema"], row["table"])] + [names[a] for a in row["ancestors"] if a in names]
        found.update(name for name in tables if names_match(name, row["lineage"][:1]))
    return found


def reads_kept(mode: str, entry: Row) -> bool:
    """Whether a table's command is a VACUUM whose dead tuples left behind are read (not a partitioned table's ANALYZE)."""
    return does_vacuum(mode) and entry["relkind"] != "p"


def record_after(
    selected: list[Row], rows: list[Row], after: Mapping[Any, Row], mode: str, server_version: int
) -> None:
    """Record the statistics read after the run (``after``: relid -> n_dead_tup, last_vacuum), in place.

    Each table done gets its n_dead_tup_after; before PostgreSQL 15 that is also what its VACUUM
    kept (from 15 the module reads that right after the VACUUM). The rows get their new
    last_vacuum, so that a table vacuumed now is not reported stale.
    """
    for entry in selected:
        if entry.get("status") != "ok":
            continue
        entry["n_dead_tup_after"] = after[entry["relid"]]["n_dead_tup"] if entry["relid"] in after else None
        if server_version < 150000 and reads_kept(mode, entry):
            entry["n_dead_tup_kept"] = entry["n_dead_tup_after"]
    for row in rows:
        if row["relid"] in after:
            row["last_vacuum"] = after[row["relid"]]["last_vacuum"]
