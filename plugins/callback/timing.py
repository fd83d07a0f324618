# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: timing
type: aggregate
short_description: Each host's own time per check, for the run report of stronghold.ops.report
version_added: 0.2.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Measures, for every host, how long each of its tasks took (from the moment the task is handed
    to a worker for that host to the moment its result comes back) and sums them per host and per
    check (the role the task belongs to, V((play)) for a task of the play itself).
  - With the C(linear) strategy every host waits for the slowest at each task, so the time at which
    a host reaches its report is the same for all of them; the sum of a host's own tasks is what
    tells a slow host apart. With C(free) or C(host_pinned) it leaves out the time a host waited for
    a free fork.
  - Publishes the sums as the host variable C(stronghold_timing) (C(wall_s), C(checks), C(tasks), and
    C(unreachable), the message of the last unreachable result) through the play's variable
    manager, on the controller; the report role's run-level step reads it, so the run report gives
    each host's wall time, the slowest host and check and the hosts much slower than the median.
  - Costs no connection and no task; a few dictionary updates per result on the controller.
  - Must be enabled, in the C(ansible.cfg) of the project (AWX reads it too) with
    C(callbacks_enabled = stronghold.ops.timing), or with the environment variable
    E(ANSIBLE_CALLBACKS_ENABLED). Without it the run report says that per-host timing is not available.
requirements:
  - enable in configuration (C(callbacks_enabled))
"""

# Ansible plugins import after their DOCUMENTATION (validate-modules' import-before-documentation).
import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

TIMING_VAR = "stronghold_timing"
PLAY_CHECK = "(play)"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stronghold.ops.timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._variables = None
        self._started = {}
        self._hosts = {}

    def v2_playbook_on_play_start(self, play):
        # A playbook of several plays: each play's report is about that play's tasks.
        previous = list(self._hosts)
        self._variables = play.get_variable_manager()
        self._started = {}
        self._hosts = {}
        if self._variables is not None:
            for host in previous:
                self._variables.set_host_variable(host, TIMING_VAR, {})

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _ended(self, result, unreachable=False):
        host = result._host.get_name()
        task = result._task
        started = self._started.pop((host, task._uuid), None)
        if started is None:
            return
        elapsed = max(0.0, time.monotonic() - started)
        role = getattr(task, "_role", None)
        check = role.get_name(include_role_fqcn=False) if role is not None else PLAY_CHECK
        timing = self._hosts.setdefault(host, {"wall_s": 0.0, "checks": {}, "tasks": 0})
        timing["wall_s"] += elapsed
        timing["checks"][check] = timing["checks"].get(check, 0.0) + elapsed
        timing["tasks"] += 1
        if unreachable:
            timing["unreachable"] = str(result._result.get("msg") or "unreachable")
        if self._variables is not None:
            published = {
                "wall_s": round(timing["wall_s"], 3),
                "checks": {name: round(seconds, 3) for name, seconds in timing["checks"].items()},
                "tasks": timing["tasks"],
            }
            if "unreachable" in timing:
                published["unreachable"] = timing["unreachable"]
            self._variables.set_host_variable(host, TIMING_VAR, published)

    def v2_runner_on_ok(self, result):
        self._ended(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ended(result)

    def v2_runner_on_skipped(self, result):
        self._ended(result)

    def v2_runner_on_unreachable(self, result):
        self._ended(result, unreachable=True)
