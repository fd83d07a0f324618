# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator's guide (docs/) against the code: nothing the collection can run or report is left out.

The guide must name every finding check the code can emit, every playbook, every role with
tasks and every AWX job template and workflow of awx/controller.yml. The check names are
collected from the source, not listed here:

- Python (plugins/): the check argument of every ``make_finding(...)`` call that is a string,
  module-level constants whose name holds ``CHECK`` (``CHECK``, ``CHECK_TAKE``, ``CHECKS = {...}``),
  string defaults of parameters and options that name a check (``check=``, ``check_name``), the
  expansions of ``"family.%s" % x`` templates, and every other dotted string literal of a
  family found that way (the tables of checks such as ``_verify.AREAS`` or the loops of
  ``_resources``).
- Roles and playbooks (YAML): ``'name' | stronghold.ops.finding(...)``, ``result_findings('name', ...)`` and
  ``emergency_findings('step', ...)`` (check ``emergency.<step>``).

Plain pytest: no Ansible is imported, the files are read where this file sits in the repository.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Callable, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE_FILES = ("operators-guide.md", "findings.md")
# Not part of the guide: the sources of the AWX configuration.
NOT_GUIDE = ("awx-facts.md",)

CHECK_NAME = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$")
TEMPLATE = re.compile(r"^[a-z][a-z0-9_.]*\.%s$")
# Parameters and options whose string default names a check.
CHECK_PARAMETERS = ("check", "check_name")

# Roles' YAML: a finding built by name, the check of a module result, an emergency step.
ROLE_PATTERNS = (
    (re.compile(r"'([a-z][a-z0-9_.]*)'\s*\|\s*stronghold\.ops\.finding\("), "{}"),
    (re.compile(r"stronghold\.ops\.result_findings\(\s*'([a-z][a-z0-9_.]*)'"), "{}"),
    (re.compile(r"stronghold\.ops\.emergency_findings\(\s*'([a-z][a-z0-9_]*)'"), "emergency.{}"),
)
ROLE_CALLS = ("stronghold.ops.finding(", "stronghold.ops.result_findings(", "stronghold.ops.emergency_findings(")


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _call_name(node: ast.Call) -> Optional[str]:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _guarded_checks(tree: ast.AST) -> set[str]:
    """pg_health: ``self.guarded(conn, "<check>", query)`` reports ``postgres.<check>`` when it cannot read."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "guarded" and len(node.args) > 1:
            if isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                found.add(node.args[1].value)
    return found


def _kind_keywords(tree: ast.AST) -> set[str]:
    """_cert_check: the ``kind=`` of every result it builds."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
    return found


def _what_keys(tree: ast.AST) -> set[str]:
    """_docker_cleanup: the keys of the ``what`` table, one per cleanup kind."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "what" for t in node.targets):
            if isinstance(node.value, ast.Dict):
                found.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    return found


# Each "family.%s" % x template of the code, with how to read the values x takes. A new template
# fails test_every_template_is_expanded until it is added here.
TEMPLATES: dict[str, Callable[[ast.AST], set[str]]] = {
    "postgres.%s": _guarded_checks,
    "certificates.%s": _kind_keywords,
    "docker.cleanup.%s": _what_keys,
}


class _Loader(yaml.SafeLoader):
    """awx/controller.yml marks the strings AWX templates itself as !unsafe."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _python_files() -> list[Path]:
    return sorted(p for p in (ROOT / "plugins").rglob("*.py") if "__pycache__" not in p.parts)


def _role_files() -> list[Path]:
    """The YAML that can build findings with the collection's filters: roles and playbooks."""
    return sorted(p for top in ("roles", "playbooks") for p in (ROOT / top).rglob("*.yml"))


class Collected:
    """The check names found in the code, and how (for the collector's own tests)."""

    def __init__(self) -> None:
        self.seeds: set[str] = set()
        self.templates: dict[str, set[str]] = {}
        self.unknown_templates: list[str] = []
        self.literals: set[str] = set()
        self.roles: set[str] = set()
        self.unparsed_role_calls: list[str] = []

    @property
    def families(self) -> set[str]:
        return {name.split(".")[0] for name in self.seeds | self.roles | set().union(*self.templates.values())}

    @property
    def names(self) -> set[str]:
        expanded = set().union(*self.templates.values()) if self.templates else set()
        families = self.families
        from_literals = {name for name in self.literals if name.split(".")[0] in families}
        return self.seeds | expanded | self.roles | from_literals


def _collect_python(found: Collected) -> None:
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any("CHECK" in name for name in names):
                    found.seeds.update(s for s in _strings(node.value) if CHECK_NAME.match(s))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "make_finding" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.seeds.add(first.value)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + list(node.args.defaults)
                defaults += list(node.args.kw_defaults)
                for argument, default in zip(arguments, defaults):
                    if argument.arg in CHECK_PARAMETERS and isinstance(default, ast.Constant):
                        if isinstance(default.value, str):
                            found.seeds.add(default.value)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value in CHECK_PARAMETERS and isinstance(value, ast.Dict):
                        for inner_key, inner_value in zip(value.keys, value.values):
                            if isinstance(inner_key, ast.Constant) and inner_key.value == "default":
                                if isinstance(inner_value, ast.Constant) and isinstance(inner_value.value, str):
                                    found.seeds.add(inner_value.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
                text = node.left.value
                if isinstance(text, str) and TEMPLATE.match(text):
                    if text in TEMPLATES:
                        prefix = text[: -len("%s")]
                        values = TEMPLATES[text](tree)
                        found.templates.setdefault(text, set()).update(prefix + v for v in values)
                    else:
                        found.unknown_templates.append("%s: %s" % (path.relative_to(ROOT), text))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and CHECK_NAME.match(node.value):
                found.literals.add(node.value)


def _collect_roles(found: Collected) -> None:
    for path in _role_files():
        text = path.read_text(encoding="utf-8")
        matched = 0
        for pattern, form in ROLE_PATTERNS:
            for match in pattern.finditer(text):
                found.roles.add(form.format(match.group(1)))
                matched += 1
        calls = sum(text.count(call) for call in ROLE_CALLS)
        if calls != matched:
            found.unparsed_role_calls.append(
                "%s: %d call(s), %d name(s) read" % (path.relative_to(ROOT), calls, matched)
            )


def collect_checks() -> Collected:
    found = Collected()
    _collect_python(found)
    _collect_roles(found)
    return found


@pytest.fixture(scope="module")
def collected() -> Collected:
    return collect_checks()


@pytest.fixture(scope="module")
def guide() -> str:
    texts = [(DOCS / name).read_text(encoding="utf-8") for name in GUIDE_FILES if (DOCS / name).is_file()]
    assert texts, "no guide in docs/: expected %s" % ", ".join(GUIDE_FILES)
    return "\n".join(texts)


def _mentioned(name: str, text: str) -> bool:
    """``name`` appears as a whole word (``postgres.vacuum`` is not found inside ``postgres.vacuum_kept``)."""
    return re.search(r"(?<![\w.])%s(?!\w|\.\w)" % re.escape(name), text) is not None


# --- the collector itself -------------------------------------------------------------------

# One or more of each way a check name is built; if the collector misses one, it misses a kind.
KNOWN = {
    "postgres.connect": "make_finding literal",
    "security.deploy_check": "module constant CHECK",
    "release.record": "CHECKS dict",
    "run.host": "HOST_DOWN_CHECK constant",
    "backup.freshness": "_verify.AREAS table (family literal)",
    "backup.integrity": "computed area (family literal)",
    "resources.disk": "loop of _resources (family literal)",
    "resources.container.oom": "_resources._add (family literal)",
    "postgres.blocked": "CATEGORIES table (family literal)",
    "health.http": "http_check option default check_name",
    "health.containers": "parameter default check=",
    "postgres.sessions": "postgres.%s with guarded(...)",
    "postgres.replay_lag": "postgres.%s with guarded(...)",
    "certificates.endpoint": "certificates.%s with kind=",
    "certificates.file": "certificates.%s with kind=",
    "docker.cleanup.containers": "docker.cleanup.%s with the what table",
    "docker.cleanup.images": "docker.cleanup.%s with the what table",
    "certificates.certbot_renewal": "role: 'name' | stronghold.ops.finding",
    "run.task": "role: report failure",
    "alert.plan": "role: result_findings",
    "postgres.health": "role: result_findings",
    "emergency.restart_db": "role: emergency_findings",
    "resources": "role: result_findings of the resources role (no dot)",
}
NOT_CHECKS = ("stronghold.ops", "pg_stat_statements.max", "compose.yml", "releases.json", "latest.json", "s.toplevel")


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_the_collector_finds_every_way_a_check_is_named(collected: Collected, name: str) -> None:
    assert name in collected.names, "%s (%s) not collected" % (name, KNOWN[name])


def test_the_collector_leaves_out_strings_that_are_not_checks(collected: Collected) -> None:
    assert not set(NOT_CHECKS) & collected.names


def test_the_collector_finds_a_plausible_number(collected: Collected) -> None:
    assert len(collected.names) >= 80, sorted(collected.names)


def test_every_template_is_expanded(collected: Collected) -> None:
    assert not collected.unknown_templates, "add these templates to TEMPLATES: %s" % collected.unknown_templates
    for template, names in collected.templates.items():
        assert names, "%s expanded to nothing" % template


def test_every_role_call_that_builds_findings_is_read(collected: Collected) -> None:
    assert not collected.unparsed_role_calls, "a check name the collector cannot read: %s" % (
        collected.unparsed_role_calls
    )


def test_mentioned_matches_whole_names_only() -> None:
    assert _mentioned("postgres.vacuum", "`postgres.vacuum` ran")
    assert not _mentioned("postgres.vacuum", "`postgres.vacuum_kept` only")
    assert not _mentioned("resources", "`resources.disk`")
    assert _mentioned("resources", "the check `resources` when")


# --- the guide ------------------------------------------------------------------------------


def test_every_finding_check_is_in_the_guide(collected: Collected, guide: str) -> None:
    missing = sorted(name for name in collected.names if not _mentioned(name, guide))
    assert not missing, "finding checks the code can emit that the guide does not name: %s" % missing


def test_every_playbook_is_in_the_guide(guide: str) -> None:
    playbooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "playbooks").glob("*.yml"))
    assert playbooks
    missing = [p for p in playbooks if p not in guide]
    assert not missing, "playbooks the guide does not name: %s" % missing


def test_every_role_is_in_the_guide(guide: str) -> None:
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    assert roles
    missing = [r for r in roles if "stronghold.ops.%s" % r not in guide and "roles/%s" % r not in guide]
    assert not missing, "roles the guide does not name (as stronghold.ops.<role> or roles/<role>): %s" % missing


def test_every_awx_template_is_in_the_guide(guide: str) -> None:
    data = yaml.load((ROOT / "awx" / "controller.yml").read_text(encoding="utf-8"), _Loader)  # noqa: S506
    names = [t["name"] for t in data["stronghold_awx_job_templates"]]
    names += [w["name"] for w in data.get("stronghold_awx_workflows") or []]
    assert names
    missing = [n for n in names if n not in guide]
    assert not missing, "AWX job templates and workflows the guide does not name: %s" % missing


def test_the_guide_is_in_docs_and_not_the_plan() -> None:
    assert (DOCS / GUIDE_FILES[0]).is_file()
    assert not set(GUIDE_FILES) & set(NOT_GUIDE)
