# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks and roles run unchanged under AWX's conventions, checked statically.

- AWX runs a job without a terminal: no play has ``vars_prompt``, no task pauses for input
  (``pause`` with ``prompt``, or with neither ``seconds`` nor ``minutes``), nothing reads the
  controller's stdin or terminal.
- A survey passes a yes/no answer as the string "true" or "false", and "false" is a true value
  in a Jinja test: every survey variable of awx/controller.yml offered as true/false is read with
  ``| bool`` (after an optional ``| default(...)``) wherever an expression uses it.
- Every survey variable is read somewhere (an answer that nothing reads is silently ignored).
- Nothing depends on the controller's working directory (AWX starts a job in its own copy of
  the project): no ``playbook_dir``, no ``PWD``, no ``lookup('file')``.
- The report records AWX's job id (``awx_job_id``, or ``tower_job_id`` of older controllers).

The integration target tests/integration/targets/awx_runner runs the playbooks against the lab
through ansible-runner with these answers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_runner  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
CONTROLLER = REPO / "awx" / "controller.yml"
PAUSE = {"pause", "ansible.builtin.pause", "ansible.legacy.pause"}
# Keys whose value is a bare Jinja expression (or a list of them).
EXPRESSION_KEYS = {"when", "that", "changed_when", "failed_when", "until"}
# A quoted string inside an expression is text, not a variable ('incident' as a name).
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
JINJA = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)


class _Loader(yaml.SafeLoader):
    """YAML of playbooks and roles: Ansible's tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def yaml_files() -> list[Path]:
    found = sorted((REPO / "playbooks").glob("*.yml"))
    found += sorted(path for path in (REPO / "roles").rglob("*.yml") if "templates" not in path.parts)
    return found


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), _Loader)  # noqa: S506 (safe loader subclass)


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a YAML document, the value of every mapping entry and list item."""
    if isinstance(node, dict):
        for child_key, value in node.items():
            yield str(child_key), value
            yield from walk(value, str(child_key))
    elif isinstance(node, list):
        for item in node:
            yield key, item
            yield from walk(item, key)


def expressions(path: Path) -> Iterator[str]:
    """Every Jinja expression of a file: the values of when/that/... and what is inside
    {{ }} and {% %} in every other string, with quoted strings taken out."""
    for key, value in walk(load(path)):
        if not isinstance(value, str):
            continue
        if key in EXPRESSION_KEYS:
            yield QUOTED.sub("''", value)
        for match in JINJA.finditer(value):
            yield QUOTED.sub("''", match.group(1) or match.group(2))


def tasks(node: Any) -> Iterator[dict[str, Any]]:
    """Every task (and handler) below a play or a task file, inside blocks too."""
    if isinstance(node, list):
        for item in node:
            yield from tasks(item)
    elif isinstance(node, dict):
        if not {"hosts", "block", "import_playbook"} & set(node):
            yield node
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from tasks(node.get(key))


def survey_questions() -> list[tuple[str, dict[str, Any]]]:
    data = yaml.load(CONTROLLER.read_text(encoding="utf-8"), awx_runner._ControllerLoader)  # noqa: S506
    return [
        (template["name"], item)
        for template in data["stronghold_awx_job_templates"]
        if template.get("survey_enabled")
        for item in template["survey_spec"]["spec"]
    ]


def yes_no_variables() -> list[str]:
    return sorted(
        {
            item["variable"]
            for _name, item in survey_questions()
            if item["type"] == "multiplechoice" and sorted(item["choices"]) == ["false", "true"]
        }
    )


def unbooled(expression: str, variable: str) -> list[str]:
    """The uses of ``variable`` in ``expression`` that are not piped into ``bool``."""
    found = []
    for match in re.finditer(r"(?<![\w.])%s\b(?!\s*[=:(])" % re.escape(variable), expression):
        rest = expression[match.end() :]
        if not re.match(r"\s*(\|\s*(ansible\.builtin\.)?default\([^()]*\)\s*)?\|\s*bool\b", rest):
            found.append(expression.strip())
    return found


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_nothing_prompts(path):
    document = load(path)
    plays = document if isinstance(document, list) else []
    assert not [play.get("name") for play in plays if isinstance(play, dict) and "vars_prompt" in play]
    for task in tasks(document):
        for module in PAUSE & set(task):
            arguments = task[module] if isinstance(task[module], dict) else {}
            assert "prompt" not in arguments, "%s: %s prompts" % (path, task.get("name"))
            assert {"seconds", "minutes"} & set(arguments), "%s: %s waits for a key" % (path, task.get("name"))
    text = path.read_text(encoding="utf-8")
    for reader in ("/dev/stdin", "/dev/tty", "vars_prompt", "getpass"):
        assert reader not in text, "%s reads %s" % (path, reader)


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_nothing_depends_on_the_working_directory(path):
    text = path.read_text(encoding="utf-8")
    for needle in (
        "playbook_dir",
        "'PWD'",
        '"PWD"',
        "lookup('file'",
        "lookup('ansible.builtin.file'",
        "ansible_env.PWD",
    ):
        assert needle not in text, "%s uses %s" % (path, needle)


def test_the_survey_yes_no_questions_are_known():
    # The check below is only as good as this list: the surveys' true/false questions.
    assert yes_no_variables() == [
        "act",
        "contain",
        "deploy_backup",
        "emergency_restart_db",
        "incident",
        "rollback_database",
    ]


@pytest.mark.parametrize("variable", yes_no_variables())
def test_survey_yes_no_answers_are_read_with_bool(variable):
    uses, bare = 0, []
    for path in yaml_files():
        for expression in expressions(path):
            if re.search(r"(?<![\w.])%s\b" % re.escape(variable), expression):
                uses += 1
                bare += ["%s: %s" % (path.relative_to(REPO), found) for found in unbooled(expression, variable)]
    assert uses, "nothing reads the survey's %s" % variable
    assert bare == [], "the string 'false' is true here:\n" + "\n".join(bare)


def test_every_survey_variable_is_read():
    read = "\n".join(expression for path in yaml_files() for expression in expressions(path))
    unread = [
        "%s: %s" % (name, item["variable"])
        for name, item in survey_questions()
        if not re.search(r"(?<![\w.])%s\b" % re.escape(item["variable"]), read)
    ]
    assert unread == []


def test_the_check_finds_a_bare_string_answer():
    # The shapes a survey's "false" slips through, and the ones that are right.
    assert unbooled("act", "act") == ["act"]
    assert unbooled("act | default(false)", "act") == ["act | default(false)"]
    assert unbooled("not act", "act") == ["not act"]
    assert unbooled("emergency_act and act or x", "act") == ["emergency_act and act or x"]
    assert unbooled("act | default(false) | bool", "act") == []
    assert unbooled("act|bool", "act") == []
    assert unbooled("act | ansible.builtin.default(false) | bool", "act") == []
    assert unbooled("emergency_act | bool", "act") == []
    assert unbooled("x.act", "act") == []


def test_the_report_records_the_awx_job_id():
    for name in ("main.yml", "run.yml"):
        text = (REPO / "roles" / "report" / "tasks" / name).read_text(encoding="utf-8")
        # The run report's metadata (main.yml per host, run.yml for the run): awx_job_id, else
        # the tower_job_id of older controllers. The integration target reads it from the files.
        assert re.search(r"awx_job_id['\"]?:\s*['\"]?(\{\{)?\s*awx_job_id\s*\|\s*default\(tower_job_id", text), name


def test_survey_launch_passes_strings_as_awx_does():
    assert awx_runner.survey_launch(CONTROLLER, "Stronghold emergency", {"act": True}) == {
        "act": "true",
        "emergency_restart_db": "false",
        "incident": "false",
        "contain": "false",
        "emergency_incident_log_hours": 24,
    }
    assert awx_runner.survey_launch(
        CONTROLLER, "Stronghold deploy", {"deploy_tag": "1.1.0", "deploy_backup": False}
    ) == {
        "deploy_tag": "1.1.0",
        "deploy_backup": "false",
    }
    with pytest.raises(ValueError, match="expected to be one of"):
        awx_runner.survey_launch(CONTROLLER, "Stronghold rollback", {"rollback_database": "no"})
    with pytest.raises(ValueError, match="not allowed on launch"):
        awx_runner.survey_launch(CONTROLLER, "Stronghold weekly", {"act": True})
