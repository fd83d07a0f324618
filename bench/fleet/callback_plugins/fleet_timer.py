# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet bench callback: every (task, host) result with its start and end (monotonic seconds),
written as JSON to $FLEET_TIMER_OUT at the end of the run. Enabled only by bench/fleet.py."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fleet_timer
type: aggregate
short_description: per-task, per-host times for bench/fleet.py
description: Writes every task result's host, task, start and end to the file named by FLEET_TIMER_OUT.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started = {}
        self.rows = []
        self.t0 = time.monotonic()

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, status):
        host = result._host.get_name()
        task = result._task
        start = self.started.pop((host, task._uuid), None)
        end = time.monotonic()
        if start is None:
            return
        self.rows.append(
            {
                "host": host,
                "task": task.get_name(),
                "action": task.action,
                "delegated": bool(task.delegate_to),
                "status": status,
                "start": start - self.t0,
                "end": end - self.t0,
            }
        )

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        out = os.environ.get("FLEET_TIMER_OUT")
        if out:
            with open(out, "w") as f:
                json.dump({"total": time.monotonic() - self.t0, "rows": self.rows}, f)
