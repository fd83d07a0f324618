# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx_runner.py on a small local play: ansible-runner runs it as AWX would, and the status,
rc and set_stats summary are read from the artifacts; slices as AWX forms them cover each host
once. No lab is needed: the play runs on the controller (connection local).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_runner  # noqa: E402

PLAY = """
- name: Stand-in for a stronghold.ops playbook (block, rescue, and the report in always)
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Run the checks
      block:
        - name: Survey answers arrive as strings, AWX's job id as an integer
          ansible.builtin.assert:
            that:
              - act is string and not (act | bool)
              - awx_job_id is integer
        - name: Fail when asked
          ansible.builtin.fail:
            msg: a check failed
          when: fail_run | default(false) | bool
      rescue:
        - name: Record what failed
          ansible.builtin.set_fact:
            stand_in_failed: true
      always:
        - name: The run summary, once, as the report role publishes it
          ansible.builtin.set_stats:
            data:
              stronghold_report:
                worst_severity: "{{ 'critical' if stand_in_failed | default(false) else 'ok' }}"
                hosts: "{{ ansible_play_hosts_all }}"
            aggregate: true
            per_host: false
          run_once: true
        - name: Fail the run after the report, as report_fail_on does
          ansible.builtin.fail:
            msg: a critical finding
          when: stand_in_failed | default(false)
"""


@pytest.fixture(name="project")
def _project(tmp_path, monkeypatch):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "play.yml").write_text(PLAY, encoding="utf-8")
    # ansible-runner starts ansible-playbook from PATH: the one beside this Python.
    monkeypatch.setenv("PATH", "%s%s%s" % (Path(sys.executable).parent, os.pathsep, os.environ.get("PATH", "")))
    return tmp_path


def _inventory(hosts):
    return "".join("%s ansible_python_interpreter=%s\n" % (host, sys.executable) for host in hosts)


def test_awx_slices_every_nth_host_by_name():
    hosts = ["app5", "app1", "app3", "app2", "app4"]
    assert awx_runner.awx_slices(hosts, 2) == [["app1", "app3", "app5"], ["app2", "app4"]]
    assert awx_runner.awx_slices(hosts, 1) == [sorted(hosts)]
    assert sorted(sum(awx_runner.awx_slices(hosts, 3), [])) == sorted(hosts)


def test_survey_answers_are_strings_for_yes_and_no():
    assert awx_runner.survey_answers({"act": False, "hours": 24, "tag": "1.1.0"}) == {
        "act": "false",
        "hours": 24,
        "tag": "1.1.0",
    }


def test_the_summary_of_a_run_comes_from_the_final_stats_event(project):
    result = awx_runner.run_as_awx(
        project, "play.yml", _inventory(["h1", "h2"]), awx_runner.survey_answers({"act": False})
    )
    assert result["status"] == "successful" and result["rc"] == 0
    assert result["artifacts"] == {"stronghold_report": {"worst_severity": "ok", "hosts": ["h1", "h2"]}}
    assert result["hosts"] == ["h1", "h2"]


def test_a_failed_run_still_carries_its_summary(project):
    result = awx_runner.run_as_awx(
        project, "play.yml", _inventory(["h1"]), {"act": "false", "fail_run": "true"}, job_id=2
    )
    assert result["status"] == "failed" and result["rc"] == 2
    assert result["artifacts"] == {"stronghold_report": {"worst_severity": "critical", "hosts": ["h1"]}}


def test_slices_run_as_awx_cover_each_host_once(project):
    hosts = ["h%d" % number for number in range(1, 6)]
    seen = []
    for number, share in enumerate(awx_runner.awx_slices(hosts, 2), start=1):
        # Each slice gets an inventory of its own hosts only, as AWX gives it.
        result = awx_runner.run_as_awx(project, "play.yml", _inventory(share), {"act": "false"}, job_id=10 + number)
        assert result["status"] == "successful"
        assert result["artifacts"]["stronghold_report"]["hosts"] == share
        seen += result["artifacts"]["stronghold_report"]["hosts"]
    assert sorted(seen) == hosts
