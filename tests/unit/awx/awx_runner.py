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

Used by tests/unit/awx/test_awx_runner.py on a small local play; the lab tests of issue 14
(daily.yml, weekly.yml, rollback.yml, daily.yml as two slices) are to use the same functions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


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


def job_artifacts(artifact_dir: Path) -> dict[str, Any]:
    """What AWX keeps of a job: status, rc and the set_stats data (its ``artifacts``)."""
    stats = [event for event in job_events(artifact_dir) if event.get("event") == "playbook_on_stats"]
    return {
        "status": (artifact_dir / "status").read_text(encoding="utf-8").strip(),
        "rc": int((artifact_dir / "rc").read_text(encoding="utf-8").strip()),
        "artifacts": stats[-1]["event_data"].get("artifact_data", {}) if stats else {},
        "hosts": sorted(stats[-1]["event_data"].get("processed", {})) if stats else [],
    }


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
) -> dict[str, Any]:
    """Run ``playbook`` (relative to ``<private_data_dir>/project``) through ansible-runner.

    The extra variables carry AWX's job variables (awx_job_id, awx_job_template_name, ...) as
    AWX sets them; the result is :func:`job_artifacts` of the run.
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
    )
    return job_artifacts(Path(private_data_dir) / "artifacts" / ident)
