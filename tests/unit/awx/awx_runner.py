# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook the way AWX runs it (ansible-runner) and read what AWX would read from it.

AWX runs every job through ansible-runner with a private data directory, an inventory and
extra variables, and reads the job's artifacts: ``status`` (successful, failed, timeout or
canceled), ``rc``, and the ``set_stats`` data, which only the final ``playbook_on_stats``
event carries (``event_data.artifact_data``; ``Runner.stats`` does not), and which AWX stores
as the job's artifacts and hands to the next workflow node as extra variables.

Sliced jobs: AWX orders the inventory's enabled hosts by name and gives slice k of n the hosts
``[k-1::n]`` (every n-th host, not a contiguous half), as a reduced inventory
(``Inventory.get_script_data``, awx/main/models/inventory.py): each slice sees only its hosts,
in every group.

Used by tests/unit/awx/test_awx_runner.py on a small local play, and against the lab by the
integration target tests/integration/targets/awx_runner (daily.yml, weekly.yml, rollback.yml run
twice, with the extra variables a survey of awx/controller.yml passes: :func:`survey_launch`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import yaml


def awx_slices(hosts: list[str], count: int) -> list[list[str]]:
    """The hosts of each slice of a job sliced into ``count`` jobs, as AWX forms them."""
    ordered = sorted(hosts)
    if count < 2:
        return [ordered]
    return [ordered[offset::count] for offset in range(count)]


def _counter(path: Path) -> int:
    # job_events/<counter>-<uuid>.json: the counter is not zero-padded, so 13 sorts before 9
    # by name.
    match = re.match(r"(\d+)-", path.name)
    return int(match.group(1)) if match else -1


def job_events(artifact_dir: Path) -> list[dict[str, Any]]:
    """The job's events in the order they happened."""
    files = sorted((artifact_dir / "job_events").glob("*.json"), key=_counter)
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


# The per-host counters of the playbook_on_stats event (AWX's job host summaries).
STATS_COUNTERS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")


def _changed_tasks(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    found = []
    for event in events:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            found.append({key: str(data.get(key) or "") for key in ("host", "role", "task", "task_path")})
    return found


def job_artifacts(artifact_dir: Path) -> dict[str, Any]:
    """What AWX keeps of a job: status, rc and the set_stats data (its ``artifacts``), the hosts
    the play processed and, per counter (``changed``, ``failures``, ...), the hosts' counts, as
    AWX's job host summaries show them; ``changed_tasks`` says which tasks made them (host,
    role, task, task_path of each changed result)."""
    events = job_events(artifact_dir)
    stats = [event for event in events if event.get("event") == "playbook_on_stats"]
    data = stats[-1]["event_data"] if stats else {}
    return {
        "status": (artifact_dir / "status").read_text(encoding="utf-8").strip(),
        "rc": int((artifact_dir / "rc").read_text(encoding="utf-8").strip()),
        "artifacts": data.get("artifact_data", {}),
        "hosts": sorted(data.get("processed", {})),
        "stats": {name: dict(data.get(name) or {}) for name in STATS_COUNTERS} if stats else {},
        "changed_tasks": _changed_tasks(events),
    }


class _ControllerLoader(yaml.SafeLoader):
    """Reads awx/controller.yml: a string marked !unsafe is a plain string here."""


_ControllerLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def job_template(controller: Path, name: str) -> dict[str, Any]:
    """The job template ``name`` of awx/controller.yml (``stronghold_awx_job_templates``)."""
    data = yaml.load(Path(controller).read_text(encoding="utf-8"), _ControllerLoader)  # noqa: S506
    for template in data["stronghold_awx_job_templates"]:
        if template["name"] == name:
            return dict(template)
    raise KeyError("no job template %r in %s" % (name, controller))


def survey_launch(controller: Path, name: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The extra variables AWX gives a launch of the job template ``name`` with a survey's
    ``answers``: the answers as :func:`survey_answers` makes them, over the survey's defaults
    (AWX fills a question left unanswered from its default). Raises ValueError with AWX's own
    message when AWX would refuse the launch (an answer of the wrong type, a choice not
    offered, a variable the survey does not ask for)."""
    import awx_rules  # beside this file, as for its importers

    template = job_template(controller, name)
    variables = survey_answers(answers)
    errors = awx_rules.launch_errors(template, {"extra_data": variables})
    if errors:
        raise ValueError("AWX would refuse this launch of %s: %s" % (name, "; ".join(errors)))
    return {**awx_rules.survey_defaults(template), **variables}


def survey_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Extra variables as an AWX survey passes them: a yes/no answer is the string "true" or
    "false" (a multiplechoice question), text stays text, an integer stays an integer."""
    return {key: str(value).lower() if isinstance(value, bool) else value for key, value in answers.items()}


def run_as_awx(
    private_data_dir: Path,
    playbook: str,
    inventory: str,
    extravars: dict[str, Any] | None = None,
    limit: str | None = None,
    job_id: int = 1,
    timeout: int | None = None,
    envvars: dict[str, str] | None = None,
    verbosity: int = 0,
) -> dict[str, Any]:
    """Run ``playbook`` (relative to ``<private_data_dir>/project``) through ansible-runner.

    The extra variables carry AWX's job variables (awx_job_id, awx_job_template_name, ...) as
    AWX sets them; the result is :func:`job_artifacts` of the run. ``timeout`` is the job
    template's timeout in seconds (the run ends with status ``timeout``), ``envvars`` the
    environment ansible-playbook gets besides the runner's own.
    """
    import ansible_runner

    variables = {"awx_job_id": job_id, "tower_job_id": job_id, "awx_job_launch_type": "manual"}
    variables.update(extravars or {})
    ident = "job-%d" % job_id
    ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook=playbook,
        inventory=inventory,
        extravars=variables,
        limit=limit,
        ident=ident,
        quiet=True,
        timeout=timeout,
        envvars=envvars,
        verbosity=verbosity,
    )
    return job_artifacts(Path(private_data_dir) / "artifacts" / ident)


def project_copy(collection: Path, private_data_dir: Path) -> Path:
    """``<private_data_dir>/project``: a copy of the collection, as AWX checks a project out, with
    the ``.build/collections`` link that its ansible.cfg reads pointing at the copy itself."""
    project = Path(private_data_dir) / "project"
    shutil.copytree(
        collection,
        project,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".build", ".venv", "__pycache__", "output", "ee", ".pytest_cache"),
    )
    namespace = project / ".build" / "collections" / "ansible_collections" / "stronghold"
    namespace.mkdir(parents=True)
    (namespace / "ops").symlink_to(os.path.join("..", "..", "..", ".."))
    return project
