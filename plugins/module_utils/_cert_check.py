# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""The decisions of cert_check, as pure functions over plain data (unit tested without a network).

* ``check_options``: the module's parameters, validated, as the settings of one run;
* ``endpoint_result``, ``unchecked_endpoint`` and ``file_result``: every target's result has the
  same keys, whatever became of it;
* ``build_output``: the findings, the summary and, when ``fail_on`` is reached, the message the
  task fails with.

Fetching and judging certificates is ``_tls``; the module only runs the fetches.
"""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    severity_at_least,
    sort_findings,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import read_seconds
from ansible_collections.stronghold.ops.plugins.module_utils._tls import (
    check_thresholds,
    error_result,
    normalize_fingerprint,
    summarize,
    summary_line,
)

Result = dict[str, Any]

# Bounds of the number options: a timeout beyond these is no check (and overflows socket calls),
# a threshold beyond a hundred years is a typo.
MAX_TIMEOUT = 3600
MAX_TOTAL_TIMEOUT = 86400
MAX_DAYS = 36500
MAX_CONCURRENCY = 256
# Worker processes (each with its own threads and its own GIL): the handshakes and the X.509 work
# that holds the GIL then run on every CPU. Automatic: one per CPU (at most AUTO_MAX_PROCESSES)
# from AUTO_PROCESSES_FROM endpoints on; fewer endpoints are not worth a fork.
MAX_PROCESSES = 16
AUTO_MAX_PROCESSES = 4
AUTO_PROCESSES_FROM = 64
# The thresholds and policies _tls.judge_chain reads from its ``options``.
JUDGE_OPTIONS = (
    "warning_days",
    "critical_days",
    "min_remaining_fraction",
    "critical_remaining_fraction",
    "max_validity_days",
    "min_tls_version",
)
# What a finding carries of its target's result.
FINDING_DETAILS = (
    "status",
    "days_remaining",
    "not_after",
    "expires_first",
    "error_kind",
    "reasons",
    "hostname_match",
    "trusted",
    "fingerprint_sha256",
)


def _check_numbers(params: dict[str, Any]) -> None:
    # Float options accept nan and inf, which pass plain comparisons: each is a finite number within bounds.
    for name in ("warning_days", "critical_days"):
        bounded_number(params[name], name, minimum=0, maximum=MAX_DAYS)
    for name in ("min_remaining_fraction", "critical_remaining_fraction"):
        if params[name] is not None:
            bounded_number(params[name], name)
    if params["max_validity_days"] is not None:
        bounded_number(params["max_validity_days"], "max_validity_days", maximum=MAX_DAYS)


def _check_endpoint(index: int, endpoint: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One endpoint with its own timeout in seconds and its fingerprint normalised."""
    if not endpoint["host"].strip():
        raise FindingError("endpoints[%d]: host is empty" % index)
    where = "endpoints[%d] (%s)" % (index, endpoint["host"])
    if not 1 <= endpoint["port"] <= 65535:
        raise FindingError("%s: port %d is out of range 1-65535" % (where, endpoint["port"]))
    checked = dict(endpoint)
    if endpoint["timeout"] is not None:
        checked["timeout"] = read_seconds(
            endpoint["timeout"], "endpoints[%d].timeout" % index, above=0, maximum=MAX_TIMEOUT
        )
    else:
        checked["timeout"] = timeout
    if endpoint["expected_fingerprint"] is not None:
        checked["expected_fingerprint"] = normalize_fingerprint(endpoint["expected_fingerprint"])
        if checked["expected_fingerprint"] is None:
            raise FindingError(
                "%s: expected_fingerprint must be a SHA-256 fingerprint (64 hex digits, colons optional), got %r"
                % (where, endpoint["expected_fingerprint"])
            )
    return checked


def check_options(params: dict[str, Any]) -> dict[str, Any]:
    """The settings of one run from the module's parameters, or FindingError saying what is wrong.

    Returns ``judge`` (the options of _tls.judge_chain), ``timeout`` and ``total_timeout`` in
    seconds, and ``endpoints`` (copies, each with its own ``timeout`` in seconds and its
    ``expected_fingerprint`` normalised). Nothing in ``params`` is changed.
    """
    if not params["endpoints"] and not params["files"]:
        raise FindingError("nothing to check: give endpoints, files, or both")
    _check_numbers(params)
    timeout = read_seconds(params["timeout"], "timeout", above=0, maximum=MAX_TIMEOUT)
    total_timeout = read_seconds(params["total_timeout"], "total_timeout", above=0, maximum=MAX_TOTAL_TIMEOUT)
    message = check_thresholds(
        params["warning_days"],
        params["critical_days"],
        params["min_remaining_fraction"],
        params["critical_remaining_fraction"],
    )
    if message:
        raise FindingError(message)
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise FindingError("concurrency must be between 1 and %d, got %d" % (MAX_CONCURRENCY, params["concurrency"]))
    if params.get("processes") is not None and not 1 <= params["processes"] <= MAX_PROCESSES:
        raise FindingError("processes must be between 1 and %d, got %d" % (MAX_PROCESSES, params["processes"]))
    if params["max_validity_days"] is not None and params["max_validity_days"] <= 0:
        raise FindingError("max_validity_days must be a positive number of days, got %s" % params["max_validity_days"])
    for index, entry in enumerate(params["files"]):
        if not entry or not entry.strip():
            raise FindingError("files[%d] is empty: give a file path or a glob pattern" % index)
    return {
        "judge": dict((name, params[name]) for name in JUDGE_OPTIONS),
        "timeout": timeout,
        "total_timeout": total_timeout,
        "endpoints": [_check_endpoint(i, e, timeout) for i, e in enumerate(params["endpoints"])],
    }


def plan_workers(endpoints: int, concurrency: int, processes: Optional[int], cpus: int) -> list[int]:
    """The threads of each worker process: one entry per process, together ``concurrency`` at most.

    ``processes`` None is automatic (one per CPU, at most AUTO_MAX_PROCESSES, from
    AUTO_PROCESSES_FROM endpoints on). Never more processes than endpoints or than ``concurrency``
    (each has a thread at least), nor more threads than endpoints. ``[n]`` (one entry) means the
    module's own process, without fork.
    """
    if endpoints <= 0:
        return [1]
    if processes is None:
        processes = min(max(cpus, 1), AUTO_MAX_PROCESSES) if endpoints >= AUTO_PROCESSES_FROM else 1
    count = max(1, min(processes, concurrency, endpoints))
    threads = min(concurrency, endpoints)
    return [len(range(i, threads, count)) for i in range(count)]


def deal(count: int, parts: int) -> list[list[int]]:
    """Indexes 0..count-1 dealt round-robin into ``parts`` lists (neighbouring endpoints, often on
    one slow server, go to different workers)."""
    return [list(range(part, count, parts)) for part in range(parts)]


def trim_details(results: list[Result]) -> list[Result]:
    """``results`` for ``result_details: problems``: an ok target's chain emptied, every other key kept."""
    return [dict(r, chain=[]) if r["status"] == "ok" and r["chain"] else r for r in results]


def needs_trust_store(params: dict[str, Any]) -> bool:
    """Whether the run validates any chain, and so needs the system store when no ca_path is given."""
    return bool((params["verify_chain"] and params["endpoints"]) or (params["verify_files"] and params["files"]))


def endpoint_result(endpoint: dict[str, Any], result: Result, duration_ms: Optional[float]) -> Result:
    """``result`` (of _tls.judge_chain or error_result) with the endpoint's own keys."""
    out = dict(result)
    for name in ("tls_version", "cipher", "address", "hostname"):
        out.setdefault(name, None)
    out.update(
        target=endpoint["name"] or "%s:%d" % (endpoint["host"], endpoint["port"]),
        kind="endpoint",
        host=endpoint["host"],
        port=endpoint["port"],
        server_name=endpoint["server_name"],
        starttls=endpoint["starttls"],
        path=None,
        duration_ms=duration_ms,
    )
    return out


def unchecked_endpoint(endpoint: dict[str, Any], kind: str, message: str, severity: str) -> Result:
    """The result of an endpoint that gave no certificate, or was not reached at all."""
    return endpoint_result(endpoint, error_result(kind, message, severity), None)


def file_result(pattern: str, path: Optional[str], result: Result) -> Result:
    """``result`` (of _tls.judge_file or error_result) with the file's own keys."""
    out = dict(result)
    for name, default in (("format", None), ("certificates", None), ("private_key", None), ("hostname", None)):
        out.setdefault(name, default)
    out.setdefault("blocks", [])
    out.setdefault("notes", [])
    out.update(target=path or pattern, kind="file", path=path, pattern=pattern, tls_version=None, cipher=None)
    return out


def certificate_finding(result: Result, judge: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The finding of one target (check ``certificates.endpoint`` or ``certificates.file``); with the
    run's ``judge`` settings (check_options), its warning_days and critical_days too, so that a
    chart of the days left can draw them."""
    details = dict((name, result[name]) for name in FINDING_DETAILS)
    if result["kind"] == "file":
        details.update(private_key=result["private_key"], notes=result["notes"])
    if judge is not None:
        details.update(warning_days=judge.get("warning_days"), critical_days=judge.get("critical_days"))
    return make_finding(
        "certificates.%s" % result["kind"], result["target"], result["severity"], summary_line(result), details
    )


def build_output(
    results: list[Result], duration_ms: float, fail_on: str, judge: Optional[dict[str, Any]] = None
) -> dict[str, Any]:
    """What the module returns; with ``msg`` when a finding reaches ``fail_on`` (the task then fails).
    ``judge``: the run's thresholds (check_options' ``judge``), carried into each finding's details."""
    findings = sort_findings([certificate_finding(r, judge) for r in results])
    output: dict[str, Any] = {
        "changed": False,
        "results": results,
        "summary": dict(summarize(results), duration_ms=duration_ms),
        "findings": findings,
        "worst_severity": worst_severity(findings),
    }
    bad = [f for f in findings if severity_at_least(f["severity"], fail_on)]
    if bad:
        output["msg"] = "%d certificate target(s) at %s or worse: %s" % (
            len(bad),
            fail_on,
            "; ".join("%s: %s" % (f["target"], f["summary"]) for f in bad[:5]),
        )
    return output
