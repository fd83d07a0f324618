# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daily.yml, weekly.yml and rollback.yml (twice) run against the lab the way AWX runs them.

Each run goes through ansible-runner (tests/unit/awx/awx_runner.py ``run_as_awx``) with a
private data directory whose ``project/`` is a copy of the collection (AWX's project checkout),
an inventory copied into the private data directory (AWX writes the job's inventory there), the
extra variables that AWX gives (awx_job_id, and the survey's answers as strings, made from the
surveys of awx/controller.yml), from a working directory of its own. What is checked is what
AWX reads: ``status``, ``rc``, the per-host ``changed`` counts of the final stats event, and
the ``set_stats`` summary ``stronghold_report`` (its ``artifact_data``), and then the files
that summary names.

Run by runme.sh (environment: AWX_RUNNER_COLLECTION, the collection's root; STRONGHOLD_LAB_ROOT).
The rollback changes the lab's running release; the lab is put back as it was (release, env
file, release history) whatever happens, and runme.sh checks that the lab is healthy after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(os.environ["AWX_RUNNER_COLLECTION"]).resolve()
LAB_ROOT = Path(os.environ.get("STRONGHOLD_LAB_ROOT") or "/var/lib/stronghold-lab")
CONTROLLER = ROOT / "awx" / "controller.yml"
APP = LAB_ROOT / "app"
HISTORY = APP / ".stronghold" / "releases.json"
ENV_FILE = APP / ".env"
DOCKER_ENV = {**os.environ, "DOCKER_HOST": "unix://%s/docker/docker.sock" % LAB_ROOT}
HEALTH_URL = "http://127.0.0.1:18000/api/v1/health/"
SERVICES = ("web", "worker")
SEVERITIES = ("ok", "info", "warning", "critical")
# Job timeouts (AWX's job template timeout) with a wide margin: each run takes 15-40 s here.
RUN_TIMEOUT = 300

sys.path.insert(0, str(ROOT / "tests" / "unit" / "awx"))

import awx_runner  # noqa: E402  pylint: disable=wrong-import-position


def _tree(top: Path) -> set[str]:
    """Every path below ``top`` (relative), links not followed; Python's bytecode caches (of
    the collection's plugins, imported by the runs) are not the job's doing."""
    return {str(path.relative_to(top)) for path in top.rglob("*") if "__pycache__" not in path.parts}


@pytest.fixture(name="awx", scope="module")
def _awx(tmp_path_factory):
    """The private data directory of the jobs, AWX's way: project/ a copy of the collection,
    inventory/ a copy of inventories/lab, a report_dir of its own, and a working directory of
    the test's own that is neither of them. No ANSIBLE_* variable of the caller reaches the runs
    (ansible-test sets some): the project's ansible.cfg is what configures them, as in AWX."""
    work = tmp_path_factory.mktemp("awx")
    private = work / "private_data_dir"
    project = awx_runner.project_copy(ROOT, private)
    shutil.copytree(ROOT / "inventories" / "lab", private / "inventory")
    reports = work / "reports"
    elsewhere = work / "cwd"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("ANSIBLE_")]:
            patch.delenv(name)
        # ansible-runner starts ansible-playbook from PATH: the one beside this Python.
        patch.setenv("PATH", "%s%s%s" % (Path(sys.executable).parent, os.pathsep, os.environ.get("PATH", "")))
        patch.chdir(elsewhere)
        yield {
            "private": private,
            "project": project,
            "project_files": _tree(project),
            "inventory": str(private / "inventory"),
            "reports": reports,
            "cwd": elsewhere,
        }


def run(awx: dict[str, Any], playbook: str, job_id: int, extravars: dict[str, Any] | None = None) -> dict[str, Any]:
    """One job: ``extravars`` are the survey's, plus report_dir (the job template's extra
    variables in AWX) and the lab root when it is not the default."""
    variables = {"report_dir": str(awx["reports"])}
    if LAB_ROOT != Path("/var/lib/stronghold-lab"):
        variables["stronghold_lab_root"] = str(LAB_ROOT)
    variables.update(extravars or {})
    started = time.monotonic()
    result = awx_runner.run_as_awx(
        awx["private"], playbook, awx["inventory"], variables, job_id=job_id, timeout=RUN_TIMEOUT
    )
    print(
        "%s (job %d): %s rc %s in %.0f s"
        % (playbook, job_id, result["status"], result["rc"], time.monotonic() - started)
    )
    return result


def stdout_tail(awx: dict[str, Any], job_id: int) -> str:
    path = awx["private"] / "artifacts" / ("job-%d" % job_id) / "stdout"
    return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else "(no stdout)"


def check_summary(awx: dict[str, Any], result: dict[str, Any], run_name: str, job_id: int) -> dict[str, Any]:
    """The set_stats summary says what the report files say, and the files are in report_dir."""
    summary = result["artifacts"].get("stronghold_report")
    assert isinstance(summary, dict), "no stronghold_report in the final stats event: %s" % result["artifacts"]
    assert summary["run"] == run_name
    assert summary["worst_severity"] in SEVERITIES
    counts = summary["counts"]
    assert sorted(counts) == sorted(SEVERITIES)
    assert sum(counts.values()) == summary["total"] > 0
    # The worst severity is the worst one counted.
    assert summary["worst_severity"] == [sev for sev in SEVERITIES if counts[sev]][-1]
    # The per-check counts add up to the run's counts, severity by severity.
    checks = summary["checks"]
    assert checks
    for severity in SEVERITIES:
        assert sum(check[severity] for check in checks.values()) == counts[severity], severity
    for name, check in checks.items():
        assert check["worst"] == [sev for sev in SEVERITIES if check[sev]][-1], name
    # One host, the lab's, as the job's stats say.
    assert sorted(summary["hosts"]) == result["hosts"] == ["lab"]
    assert summary["hosts"]["lab"]["status"] == "ok"
    assert summary["down_hosts"] == []
    # The run report's three files and the host's report: in report_dir, there, naming the job.
    reports = awx["reports"]
    paths = summary["paths"]
    assert sorted(paths) == ["html", "json", "markdown"]
    for path in [*paths.values(), summary["hosts"]["lab"]["report"]]:
        assert Path(path).parent.parent.parent == reports, path
        assert Path(path).is_file(), path
    fleet = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert fleet["metadata"]["awx_job_id"] == job_id
    assert fleet["summary"]["counts"] == counts
    assert "awx_job_id: %d;" % job_id in Path(paths["markdown"]).read_text(encoding="utf-8")
    assert "<dt>AWX job</dt><dd>%d</dd>" % job_id in Path(paths["html"]).read_text(encoding="utf-8")
    host_report = Path(summary["hosts"]["lab"]["report"])
    assert host_report.suffix == ".md"
    assert "- awx_job_id: %d\n" % job_id in host_report.read_text(encoding="utf-8")
    host_json = json.loads(host_report.with_suffix(".json").read_text(encoding="utf-8"))
    assert host_json["metadata"]["awx_job_id"] == job_id
    return summary


def check_no_stray_files(awx: dict[str, Any]) -> None:
    """Nothing was written in the working directory the job was started from, nor in the
    project (AWX's checkout, which a job must not change: the next job shares it)."""
    assert sorted(_tree(awx["cwd"])) == []
    assert sorted(_tree(awx["project"]) - awx["project_files"]) == []


# The report role writes a new report at every run (files on the controller) without counting
# it as a change (changed_when: false): a run that has nothing to do changes nothing at all.
REPORT_WRITES: frozenset[tuple[str, str]] = frozenset()
# A run whose alert differs from the previous run of its kind records what it delivered.
ALERT_RECORD = ("report", "Record what was delivered (the next run knows what is new)")


def check_changed_nothing(result: dict[str, Any], allowed: frozenset[tuple[str, str]] = REPORT_WRITES) -> None:
    """The job's stats count no change on the lab but the tasks ``allowed``."""
    assert result["hosts"] == ["lab"]
    changed = result["changed_tasks"]
    others = [task for task in changed if (task["role"], task["task"]) not in allowed]
    assert others == [], others
    # The stats event (AWX's job host summary) counts exactly these.
    assert sum(result["stats"]["changed"].values()) == len(changed), (result["stats"], changed)
    assert len(changed) <= len(allowed)


# --- the lab ----------------------------------------------------------------------------------


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], env=DOCKER_ENV, check=True, capture_output=True, text=True, timeout=120
    ).stdout.strip()


def running_images() -> dict[str, list[str]]:
    """Per service, the image ids of its running containers."""
    found: dict[str, list[str]] = {}
    ids = _docker("ps", "-q", "--filter", "label=com.docker.compose.project=financial-stronghold").split()
    for line in (
        _docker(
            "inspect", "--format", '{{index .Config.Labels "com.docker.compose.service"}} {{.Image}}', *ids
        ).splitlines()
        if ids
        else []
    ):
        service, image = line.split()
        found.setdefault(service, []).append(image)
    return {service: sorted(images) for service, images in sorted(found.items())}


def image_id(reference: str) -> str:
    return _docker("image", "inspect", "--format", "{{.Id}}", reference)


def healthy_version() -> str:
    with urllib.request.urlopen(HEALTH_URL, timeout=10) as answer:  # noqa: S310 (loopback, fixed URL)
        body = json.loads(answer.read().decode("utf-8"))
    return body["version"] if body.get("status") == "healthy" else ""


def container_starts() -> dict[str, str]:
    """Per running container of the application, when it started (a restart changes it)."""
    ids = _docker("ps", "-q", "--filter", "label=com.docker.compose.project=financial-stronghold").split()
    lines = _docker("inspect", "--format", "{{.Name}} {{.State.StartedAt}}", *ids).splitlines() if ids else []
    return dict(line.split() for line in lines)


def test_daily(awx):
    result = run(awx, "playbooks/daily.yml", 141, awx_runner.survey_launch(CONTROLLER, "Stronghold daily", {}))
    assert (result["status"], result["rc"]) == ("successful", 0), stdout_tail(awx, 141)
    summary = check_summary(awx, result, "daily", 141)
    assert not summary["threshold_reached"]
    # The daily checks of every kind reported (the lab is healthy: the database answers).
    for check in (
        "health.http",
        "postgres.connect",
        "resources.disk",
        "logs.pattern",
        "backup.verify",
        "certificates.endpoint",
    ):
        assert check in summary["checks"], check
    assert summary["checks"]["health.http"]["worst"] == "ok"
    assert summary["checks"]["postgres.connect"]["worst"] == "ok"
    check_no_stray_files(awx)


def test_weekly(awx):
    result = run(awx, "playbooks/weekly.yml", 142, awx_runner.survey_launch(CONTROLLER, "Stronghold weekly", {}))
    assert (result["status"], result["rc"]) == ("successful", 0), stdout_tail(awx, 142)
    summary = check_summary(awx, result, "weekly", 142)
    for check in ("postgres.vacuum", "logs.cleanup", "docker.cleanup.images", "health.http"):
        assert check in summary["checks"], check
    check_no_stray_files(awx)


def test_emergency_diagnose(awx):
    """emergency.yml launched with the survey's defaults: every yes/no answer is the string
    "false" (a truthy string in Jinja): it diagnoses, restarts nothing and changes nothing."""
    answers = awx_runner.survey_launch(CONTROLLER, "Stronghold emergency", {})
    assert answers["act"] == answers["emergency_restart_db"] == answers["incident"] == answers["contain"] == "false"
    before = container_starts()
    result = run(awx, "playbooks/emergency.yml", 146, answers)
    assert (result["status"], result["rc"]) == ("successful", 0), stdout_tail(awx, 146)
    summary = check_summary(awx, result, "emergency", 146)
    assert summary["checks"]["health.http"]["worst"] == "ok"
    assert container_starts() == before
    # The first emergency run in this report_dir: its alert is new, and recorded.
    check_changed_nothing(result, REPORT_WRITES | {ALERT_RECORD})
    check_no_stray_files(awx)


# --- rollback ---------------------------------------------------------------------------------


def rollback_finding(summary: dict[str, Any]) -> dict[str, Any]:
    report = json.loads(Path(summary["hosts"]["lab"]["report"]).with_suffix(".json").read_text(encoding="utf-8"))
    (finding,) = [item for item in report["findings"] if item["check"] == "rollback.release"]
    return finding


@pytest.fixture(name="lab_release")
def _lab_release(awx):
    """What the lab runs now, put back after the test whatever happened: the release (by
    rollback.yml to the env file's tag, else `compose up` as the lab starts it), then the env
    file and the release history, byte for byte."""
    saved = {path: path.read_bytes() if path.exists() else None for path in (HISTORY, ENV_FILE)}
    before = running_images()
    tags = [
        line.split("=", 1)[1] for line in (saved[ENV_FILE] or b"").decode().splitlines() if line.startswith("APP_TAG=")
    ]
    assert tags, "no APP_TAG in %s" % ENV_FILE
    tag = tags[-1]
    assert sorted(before) == list(SERVICES) and healthy_version() == tag, "the lab is not healthy before the test"
    yield {"tag": tag, "images": before}
    if running_images() != before:
        restore = run(awx, "playbooks/rollback.yml", 149, {"rollback_tag": tag})
        print("restore of %s: %s" % (tag, restore["status"]))
    for path, content in saved.items():
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(content)
    for leftover in (APP / ".stronghold").glob("override-*.json"):
        leftover.unlink()
    if running_images() != before:
        subprocess.run(
            ["docker", "compose", "-p", "financial-stronghold", "-f", "docker-compose.production.yml", "up", "-d",
             "--pull", "never", "--remove-orphans", "--wait", "--wait-timeout", "180"],
            cwd=APP, env=DOCKER_ENV, check=True, timeout=240,
        )  # fmt: skip
    assert running_images() == before and healthy_version() == tag, "the lab was not put back on %s" % tag


def test_rollback_twice(awx, lab_release):
    """rollback.yml with the survey's answers (to the image tag previous, no database), run,
    then run again with the same answers (AWX's relaunch): the second changes nothing."""
    answers = awx_runner.survey_launch(CONTROLLER, "Stronghold rollback", {"rollback_tag": "previous"})
    # What AWX passes: every answer a string, the yes/no one "false".
    assert answers == {
        "rollback_release": "",
        "rollback_tag": "previous",
        "rollback_database": "false",
        "backup_restore_file": "",
    }
    target = image_id("financial-stronghold:previous")
    assert [target] != lab_release["images"]["web"], "the lab already runs the image tagged previous"

    first = run(awx, "playbooks/rollback.yml", 143, answers)
    assert (first["status"], first["rc"]) == ("successful", 0), stdout_tail(awx, 143)
    assert first["stats"]["changed"].get("lab", 0) > 0
    summary = check_summary(awx, first, "rollback", 143)
    assert summary["checks"]["rollback.release"]["ok"] == 1
    assert summary["checks"]["health.http"]["worst"] == "ok"
    finding = rollback_finding(summary)
    assert finding["details"]["changed"] is True, finding
    # The database was not restored: rollback_database "false" is false.
    assert not [name for name in summary["checks"] if name.startswith("backup.")], summary["checks"]
    assert running_images() == {service: [target] for service in SERVICES}
    assert healthy_version() == "1.0.0"
    history = HISTORY.read_bytes()

    second = run(awx, "playbooks/rollback.yml", 144, answers)
    assert (second["status"], second["rc"]) == ("successful", 0), stdout_tail(awx, 144)
    check_changed_nothing(second)
    summary = check_summary(awx, second, "rollback", 144)
    finding = rollback_finding(summary)
    assert finding["details"]["changed"] is False, finding
    assert HISTORY.read_bytes() == history
    assert running_images() == {service: [target] for service in SERVICES}

    # Launched with the survey's defaults (AWX passes the empty answers as ""): back to the
    # previous healthy release, and the last change was a rollback to what runs: nothing to do.
    defaults = awx_runner.survey_launch(CONTROLLER, "Stronghold rollback", {})
    assert defaults == {
        "rollback_release": "",
        "rollback_tag": "",
        "rollback_database": "false",
        "backup_restore_file": "",
    }
    third = run(awx, "playbooks/rollback.yml", 145, defaults)
    assert (third["status"], third["rc"]) == ("successful", 0), stdout_tail(awx, 145)
    check_changed_nothing(third)
    finding = rollback_finding(check_summary(awx, third, "rollback", 145))
    assert finding["details"]["changed"] is False, finding
    assert "already runs release" in finding["summary"], finding
    assert HISTORY.read_bytes() == history
    assert running_images() == {service: [target] for service in SERVICES}
    check_no_stray_files(awx)
