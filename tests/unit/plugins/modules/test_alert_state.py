# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""alert_state's main(): one exit, the argument spec's suboptions, check mode, clear failures."""

from __future__ import annotations

from ansible_collections.stronghold.ops.plugins.modules import alert_state

DISK = {"check": "resources.disk", "target": "/", "severity": "warning", "summary": "disk 87% used"}


def plan_args(path, **extra):
    args = {"action": "plan", "state_path": str(path), "run": "daily", "hosts": [{"host": "web1", "findings": [DISK]}]}
    args.update(extra)
    return args


def test_plan_record_and_check_mode(run_module, tmp_path):
    path = tmp_path / "daily.json"
    plan = run_module(alert_state.main, plan_args(path, webhook_secret="a-long-random-secret"))
    assert not plan.failed and plan.result["notify"] and plan.result["changed"] is False
    assert plan.result["webhook"]["headers"]["X-Stronghold-Signature"].startswith("sha256=")
    checked = run_module(
        alert_state.main,
        {"action": "record", "state_path": str(path), "plan": plan.result, "_ansible_check_mode": True},
    )
    assert not checked.failed and checked.result["changed"] and not path.exists()
    done = run_module(
        alert_state.main,
        {
            "action": "record",
            "state_path": str(path),
            "plan": plan.result,
            "delivered": [{"channel": "mail", "ok": True}],
        },
    )
    assert not done.failed and done.result["changed"] and done.result["sent"] and path.exists()
    assert done.result["findings"][0]["severity"] == "ok"


def test_failures_are_one_clear_message(run_module, tmp_path):
    bad = run_module(alert_state.main, plan_args(tmp_path / "s.json", repeat_interval="nan"))
    assert bad.failed and bad.result["msg"] == "repeat_interval: a duration cannot be NaN: 'nan'"
    missing = run_module(alert_state.main, {"action": "record", "state_path": str(tmp_path / "s.json")})
    assert missing.failed and "plan" in missing.result["msg"]
    garbage = run_module(
        alert_state.main, {"action": "record", "state_path": str(tmp_path / "s.json"), "plan": {"changed": False}}
    )
    assert garbage.failed and "does not look like the result of alert_state" in garbage.result["msg"]
