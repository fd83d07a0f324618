# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cert_check's plan of worker processes and threads, the deal of endpoints, result_details and
the processes option, on plain data."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._cert_check import (
    AUTO_PROCESSES_FROM,
    MAX_PROCESSES,
    check_options,
    deal,
    plan_workers,
    trim_details,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_cert_decisions import (
    params as decision_params,
)


@pytest.mark.parametrize(
    "endpoints, concurrency, processes, cpus, expected",
    [
        (1000, 16, None, 2, [8, 8]),  # automatic: one per CPU
        (1000, 16, None, 64, [4, 4, 4, 4]),  # automatic: at most 4
        (1000, 16, None, 1, [16]),  # one CPU: no fork
        (AUTO_PROCESSES_FROM - 1, 16, None, 8, [16]),  # too few endpoints to fork
        (AUTO_PROCESSES_FROM, 16, None, 2, [8, 8]),
        (39, 256, 3, 2, [13, 13, 13]),  # never more threads than endpoints
        (39, 1, 16, 2, [1]),  # concurrency 1: one thread in one process
        (3, 16, 16, 2, [1, 1, 1]),  # never more processes than endpoints
        (1000, 5, 2, 2, [3, 2]),  # together exactly the concurrency
        (1000, 256, 16, 2, [16] * 16),
        (0, 16, None, 2, [1]),
        (1, 1, 1, 1, [1]),
    ],
)
def test_plan_workers(endpoints, concurrency, processes, cpus, expected):
    plan = plan_workers(endpoints, concurrency, processes, cpus)
    assert plan == expected
    assert all(threads >= 1 for threads in plan)
    if endpoints:
        assert sum(plan) == min(concurrency, endpoints)


def test_deal_gives_every_index_once_round_robin():
    assert deal(7, 3) == [[0, 3, 6], [1, 4], [2, 5]]
    assert deal(2, 4) == [[0], [1], [], []]
    shares = deal(1000, 2)
    assert sorted(i for share in shares for i in share) == list(range(1000))


def test_trim_details_empties_only_the_chain_of_ok_targets():
    results = [
        {"target": "a", "status": "ok", "chain": [{"subject": "CN=a"}], "not_after": "2027-01-01T00:00:00Z"},
        {"target": "b", "status": "warning", "chain": [{"subject": "CN=b"}], "not_after": "2026-12-20T00:00:00Z"},
        {"target": "c", "status": "error", "chain": [], "not_after": None},
    ]
    trimmed = trim_details(results)
    assert trimmed[0] == dict(results[0], chain=[])
    assert trimmed[1:] == results[1:]
    assert results[0]["chain"] == [{"subject": "CN=a"}]  # the input is not changed


def params(**own):
    """cert_check's options as test_cert_decisions builds them, with the processes option."""
    return decision_params(**dict({"processes": None}, **own))


@pytest.mark.parametrize("processes", [0, -1, MAX_PROCESSES + 1, 10**9])
def test_processes_out_of_range_is_refused(processes):
    with pytest.raises(FindingError, match="processes must be between 1 and %d, got %d" % (MAX_PROCESSES, processes)):
        check_options(params(processes=processes))


@pytest.mark.parametrize("processes", [None, 1, MAX_PROCESSES])
def test_processes_in_range_pass(processes):
    assert check_options(params(processes=processes))["timeout"] == 10
