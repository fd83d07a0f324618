# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_vacuum through its main(): bad input fails once, clearly, before any connection (the
decisions are in module_utils/test_vacuum.py and test_vacuum_report.py; the module runs against a
real PostgreSQL in tests/integration/targets/pg_vacuum)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.stronghold.ops.plugins.modules import pg_vacuum


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Nothing listens there: a module that got past its input checks would fail to connect instead.
BASE = {"login_host": "127.0.0.1", "login_port": free_port()}


@pytest.mark.parametrize(
    "args, message",
    [
        ({"all_databases": True, "databases": ["app"]}, "parameters are mutually exclusive: all_databases|databases"),
        ({"full": True}, "set allow_full: true to confirm"),
        ({"full": True, "allow_full": True, "jobs": 2}, "full: true cannot run with jobs > 1"),
        ({"mode": "reindex"}, "value of mode must be one of"),
        ({"fail_on": "sometimes"}, "value of fail_on must be one of: critical, warning, info, never"),
        ({"lock_timeout": "soon"}, "lock_timeout: cannot read 'soon' as a duration"),
        ({"lock_timeout": "30d"}, "lock_timeout must be at most 2147483647ms"),
        ({"statement_timeout": 0}, "statement_timeout must be at least 1ms (unset it for no limit)"),
        ({"lock_timeout": None}, "lock_timeout: a duration cannot be empty"),
        ({"stale_after": None}, "stale_after: a duration cannot be empty"),
        ({"max_runtime": "36600d"}, "max_runtime: the duration '36600d' is too long"),
        ({"min_dead_ratio": 150}, "min_dead_ratio is a percentage between 0 and 100, got 150.0"),
        ({"buffer_usage_limit": "1T"}, "buffer_usage_limit must be 0 or between 128kB and 16GB"),
        ({"login_port": 0}, "login_port"),
    ],
)
def test_bad_input_fails_before_connecting(run_module, args, message):
    outcome = run_module(pg_vacuum.main, dict(BASE, **args))
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert "cannot connect" not in outcome.result["msg"]
    assert "exception" not in outcome.result


def test_every_problem_in_one_message(run_module):
    outcome = run_module(pg_vacuum.main, dict(BASE, jobs=0, min_dead_tuples=-1, stale_after="never"))
    assert outcome.failed
    assert outcome.result["msg"] == (
        "jobs must be at least 1, got 0; min_dead_tuples cannot be negative, got -1; "
        "stale_after: cannot read 'never' as a duration (examples: 90s, 15m, 26h, 1d12h)"
    )


def test_durations_in_seconds_pass_the_checks_and_reach_the_connection(run_module):
    outcome = run_module(pg_vacuum.main, dict(BASE, lock_timeout=5, statement_timeout=60.5, max_runtime=1800))
    assert outcome.failed
    assert outcome.result["msg"].startswith("cannot connect to database")
