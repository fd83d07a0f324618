# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate's pacing, with a fake engine and clock; the gate itself runs against the real
engine in tests/integration/targets/compose_rollback."""

from __future__ import annotations

from ansible_collections.stronghold.ops.plugins.module_utils._compose_gate import MAX_SLEEP, POLL, HealthGate, pace
from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import container_summary


def test_pace_sleeps_until_the_next_check_within_bounds():
    assert pace(None) == POLL
    assert pace(-3.0) == POLL
    assert pace(0.5) == 0.55
    assert pace(29.0) == MAX_SLEEP


class FakeEngine:
    """One container of service web, 'starting' for `checks` health checks 1 s apart, then healthy."""

    def __init__(self, now, checks):
        self.now = now
        self.healthy_at = 1.0 * checks + 0.1
        self.inspected = []
        self.looks = 0

    def containers(self, ids=None):
        self.looks += 1
        t = self.now[0]
        status = "healthy" if t >= self.healthy_at else "starting"
        ends = [k + 0.1 for k in range(1, int(t) + 1) if k + 0.1 <= t]
        log = [
            {"Start": "1970-01-01T00:00:%02d.000Z" % k, "End": "1970-01-01T00:00:%02d.100Z" % k}
            for k in range(1, len(ends) + 1)
        ]
        self.inspected = [
            {
                "Id": "abcdef1234567890",
                "Name": "/p-web-2",
                "Image": "sha256:new",
                "RestartCount": 0,
                "State": {
                    "Status": "running",
                    "StartedAt": "1970-01-01T00:00:00Z",
                    "Health": {"Status": status, "Log": log},
                },
                "Config": {
                    "Image": "web:1",
                    "Labels": {"com.docker.compose.service": "web"},
                    "Healthcheck": {"Interval": 1e9},
                },
            }
        ]
        return [container_summary(c) for c in self.inspected]


def test_the_gate_looks_once_per_health_check_not_every_poll():
    now = [0.0]
    engine = FakeEngine(now, checks=3)
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    gate = HealthGate(engine, 60, 20, None, clock=lambda: now[0], sleep=sleep, wall=lambda: now[0])
    health = gate.wait_containers(["web"], only_ids=["abcdef123456"])
    assert health["status"] == "healthy"
    # Healthy from 3.1 s, seen within a short poll of it, in 5 looks (0, 1, 1.25, 2.15, 3.15 s: a look when
    # each check can start, a short poll while it runs) where polling every 0.25 s takes 14.
    assert now[0] < 3.1 + POLL
    assert engine.looks == 5
    assert all(POLL <= s <= MAX_SLEEP for s in sleeps)
