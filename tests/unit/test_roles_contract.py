# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings contract between the roles and the report role, read from the roles' YAML.

Each role publishes its findings in one host variable, ``<role>_findings``; the report reads
exactly the variables its ``report_finding_sources`` names (roles/report/meta/argument_specs.yml).
These tests fail when a role publishes a findings variable the report would not read, or when
the report names a variable no role publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
SET_FACT = ("set_fact", "ansible.builtin.set_fact", "ansible.legacy.set_fact")
NESTED = ("block", "rescue", "always")


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _tasks(items: Any) -> Iterator[dict[str, Any]]:
    """Every task of a task list, those inside block, rescue and always included."""
    for task in items or ():
        if not isinstance(task, dict):
            continue
        yield task
        for key in NESTED:
            yield from _tasks(task.get(key))


def _set_variables(role: Path) -> dict[str, list[str]]:
    """The host variables a role sets (set_fact keys and register names), with where."""
    found: dict[str, list[str]] = {}
    for path in sorted((role / "tasks").glob("**/*.yml")):
        for task in _tasks(_yaml(path)):
            names = []
            for action in SET_FACT:
                if isinstance(task.get(action), dict):
                    names += [name for name in task[action] if name != "cacheable"]
            if isinstance(task.get("register"), str):
                names.append(task["register"])
            for name in names:
                found.setdefault(name, []).append("%s (%s)" % (path.relative_to(ROLES), task.get("name")))
    return found


def _published() -> dict[str, dict[str, list[str]]]:
    """Per role other than report: the variables ending in _findings that it sets."""
    published = {}
    for role in sorted(p for p in ROLES.iterdir() if (p / "tasks").is_dir() and p.name != "report"):
        found = _set_variables(role)
        published[role.name] = {name: where for name, where in found.items() if name.endswith("_findings")}
    return published


def _report_sources() -> list[str]:
    return _yaml(ROLES / "report" / "defaults" / "main.yml")["report_finding_sources"]


def test_the_roles_are_found():
    # Guards the tests below against reading nothing (a moved roles/ directory, a new layout).
    published = _published()
    assert {"health", "backup", "certificates"} <= set(published)
    assert "health_findings" in published["health"]


@pytest.mark.parametrize(
    "role", sorted(p.name for p in ROLES.iterdir() if (p / "tasks").is_dir() and p.name != "report")
)
def test_a_role_publishes_findings_only_in_its_own_variable(role):
    others = {name: where for name, where in _published()[role].items() if name != role + "_findings"}
    assert not others, (
        "role %s sets %s; a role publishes its findings in %s_findings only (the report reads no other name)"
        % (role, others, role)
    )


def test_the_report_reads_every_findings_variable_a_role_publishes():
    sources = set(_report_sources())
    missing = {
        name: where for variables in _published().values() for name, where in variables.items() if name not in sources
    }
    assert not missing, (
        "the report would not read %s: add them to report_finding_sources in roles/report/defaults/main.yml "
        "and roles/report/meta/argument_specs.yml" % missing
    )


def test_the_report_names_no_variable_that_no_role_publishes():
    published = {name for variables in _published().values() for name in variables}
    unknown = sorted(set(_report_sources()) - published)
    assert not unknown, "report_finding_sources names %s, which no role in roles/ sets" % unknown


def test_the_default_sources_are_documented_as_they_are():
    spec = _yaml(ROLES / "report" / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert spec["report_finding_sources"]["default"] == _report_sources()
    assert len(set(_report_sources())) == len(_report_sources())


def test_the_report_gathers_no_variable_by_its_name_pattern():
    # The contract replaced a regex over variable names (^(?!report_).+_findings$), which
    # picked up any variable of a play that happened to end in _findings.
    tasks = (ROLES / "report" / "tasks" / "main.yml").read_text(encoding="utf-8")
    assert "varnames" not in tasks
    assert "report_finding_sources" in tasks
