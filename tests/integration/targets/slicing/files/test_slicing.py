# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daily.yml as two slices of a sliced AWX job, then the step that combines them, against the lab.

The inventory has five hosts: four aliases of the lab host (app1..app4, connection local) and
down1, which is unreachable (ssh to a closed port). Each slice runs daily.yml through
ansible-runner (tests/unit/awx/awx_runner.py) with ``report_slice: true``, as the AWX workflow
of awx/controller.yml runs it, then playbooks/combine.yml runs with the slices' ``set_stats``
summaries, read from each slice's artifacts, as ``stronghold_slice_summaries``. Twice:

* ``limit``: the issue's way, ``--limit`` on the two halves of the inventory (every group still
  lists all five hosts);
* ``awx``: AWX's way, a reduced inventory per slice with every 2nd host ordered by name
  (``awx_runner.awx_slices``; Inventory.get_script_data).

In AWX the combining step reads the slices' summaries from the controller's API instead: a
last run serves the AWX-way slices' artifacts (plus a slice job that published nothing) from
a stand-in of the API endpoints combine.yml asks, in the shapes AWX returns (not a real AWX).

Checked: each slice covers its hosts only and sends nothing (no line at the lab's receivers,
no alert state); the combined run report (the JSON on disk and the combining job's set_stats
summary) has every host exactly once, down1 down, and per host the counts its slice reported;
its totals are the slices' sums plus the combining run's own findings; exactly one mail and one
webhook POST arrived, naming the hosts of both slices; both ways give each host the same checks.

Run by runme.sh (environment: SLICING_COLLECTION, the collection's root; STRONGHOLD_LAB_ROOT).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(os.environ["SLICING_COLLECTION"]).resolve()
LAB_ROOT = Path(os.environ.get("STRONGHOLD_LAB_ROOT") or "/var/lib/stronghold-lab")
SINK = LAB_ROOT / "alerts"
SEVERITIES = ("ok", "info", "warning", "critical")
UP = ["app1", "app2", "app3", "app4"]
HOSTS = sorted(UP + ["down1"])

sys.path.insert(0, str(ROOT / "tests" / "unit" / "awx"))

import awx_runner  # noqa: E402  pylint: disable=wrong-import-position


def _inventory(directory: Path, hosts: list[str]) -> str:
    """An inventory of ``hosts`` (a reduced one when they are a slice's) with the lab's group_vars."""
    directory.mkdir(parents=True)
    shutil.copytree(ROOT / "inventories" / "lab" / "group_vars", directory / "group_vars")
    entries: dict[str, Any] = {}
    for host in hosts:
        if host == "down1":
            # Unreachable at once: nothing listens on the discard port.
            entries[host] = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9}
        else:
            entries[host] = {
                "ansible_connection": "local",
                "ansible_host": "127.0.0.1",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            }
    (directory / "hosts.yml").write_text(yaml.safe_dump({"stronghold_app": {"hosts": entries}}), encoding="utf-8")
    return str(directory)


@pytest.fixture(name="awx", scope="module")
def _awx(tmp_path_factory):
    """AWX's private data directory: project/ a copy of the collection, inventories of our own,
    no ANSIBLE_* of the caller (ansible-test sets some): the project's ansible.cfg configures the runs."""
    work = tmp_path_factory.mktemp("slicing")
    private = work / "private_data_dir"
    awx_runner.project_copy(ROOT, private)
    elsewhere = work / "cwd"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("ANSIBLE_")]:
            patch.delenv(name)
        patch.setenv("ANSIBLE_HOST_KEY_CHECKING", "false")
        patch.setenv("PATH", "%s%s%s" % (Path(sys.executable).parent, os.pathsep, os.environ.get("PATH", "")))
        patch.chdir(elsewhere)
        yield {
            "work": work,
            "private": private,
            "full": _inventory(work / "inventory-full", HOSTS),
            "jobs": iter(range(100, 200)),
        }


def _sink_lines() -> dict[str, int]:
    counts = {}
    for kind in ("mail", "webhook"):
        path = SINK / ("%s.jsonl" % kind)
        counts[kind] = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    return counts


def _sink_new(before: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    new = {}
    for kind in ("mail", "webhook"):
        path = SINK / ("%s.jsonl" % kind)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        new[kind] = [json.loads(line) for line in lines[before[kind] :]]
    return new


def _run(awx, playbook, inventory, variables, limit=None, verbosity=0):
    job = next(awx["jobs"])
    started = time.monotonic()
    result = awx_runner.run_as_awx(
        awx["private"], playbook, inventory, variables, limit=limit, job_id=job, verbosity=verbosity
    )
    print(
        "  %s job %d%s: %s rc %s in %.0f s"
        % (
            playbook,
            job,
            " --limit " + limit if limit else "",
            result["status"],
            result["rc"],
            time.monotonic() - started,
        )
    )
    result["job"] = job
    return result


def _stdout(awx, job) -> str:
    path = awx["private"] / "artifacts" / ("job-%d" % job) / "stdout"
    return path.read_text(encoding="utf-8", errors="replace")[-3000:] if path.exists() else "(no stdout)"


def _sliced_run(awx, mode: str) -> dict[str, Any]:
    """Two slices of daily.yml, then combine.yml; what each step left (artifacts, files, receivers)."""
    reports = awx["work"] / mode / "reports"
    variables = {
        "report_dir": str(reports),
        "stronghold_state_dir": str(awx["work"] / mode / "state"),
        # As the workflow's extra_vars pass it (YAML: a bool); the role reads it with | bool.
        "report_slice": True,
    }
    if LAB_ROOT != Path("/var/lib/stronghold-lab"):
        variables["stronghold_lab_root"] = str(LAB_ROOT)
    if mode == "limit":
        half = (len(HOSTS) + 1) // 2
        shares = [HOSTS[:half], HOSTS[half:]]
    else:
        shares = awx_runner.awx_slices(HOSTS, 2)
    print("\n%s: slices %s" % (mode, shares))
    before = _sink_lines()
    slices = []
    for number, share in enumerate(shares, start=1):
        if mode == "limit":
            result = _run(awx, "playbooks/daily.yml", awx["full"], variables, limit=",".join(share))
        else:
            inventory = _inventory(awx["work"] / mode / ("inventory-slice-%d" % number), share)
            result = _run(awx, "playbooks/daily.yml", inventory, variables)
        slices.append({"hosts": share, "result": result})
    after_slices = _sink_new(before)
    state_after_slices = (
        sorted(p.name for p in (reports / "_alerts").glob("*")) if (reports / "_alerts").exists() else []
    )
    before = _sink_lines()
    summaries = [s["result"]["artifacts"].get("stronghold_report") or {} for s in slices]
    combined = _run(
        awx,
        "playbooks/combine.yml",
        awx["full"],
        dict(
            variables,
            stronghold_slice_summaries=summaries,
            stronghold_slice_names=["job-%d" % s["result"]["job"] for s in slices],
        ),
    )
    return {
        "reports": reports,
        "slices": slices,
        "summaries": summaries,
        "alerts_after_slices": after_slices,
        "state_after_slices": state_after_slices,
        "combined": combined,
        "alerts": _sink_new(before),
    }


@pytest.fixture(name="runs", scope="module")
def _runs(awx):
    return {mode: _sliced_run(awx, mode) for mode in ("limit", "awx")}


MODES = ("limit", "awx")


@pytest.mark.parametrize("mode", MODES)
def test_each_slice_reports_its_own_hosts_and_sends_nothing(awx, runs, mode):
    run = runs[mode]
    for piece, summary in zip(run["slices"], run["summaries"]):
        result = piece["result"]
        detail = _stdout(awx, result["job"])
        assert summary, "slice %s published no stronghold_report:\n%s" % (piece["hosts"], detail)
        # Only the slice's own hosts, each once; down1 down in the slice that had it.
        assert sorted(summary["hosts"]) == sorted(piece["hosts"]), detail
        assert summary["slice"]["hosts"] == [h for h in HOSTS if h in piece["hosts"]]
        assert summary["run"] == "daily"
        assert summary["alert"] == {"deferred": True}
        assert summary["down_hosts"] == (["down1"] if "down1" in piece["hosts"] else [])
        assert summary["paths"]["json"].startswith(str(run["reports"] / "_fleet" / "daily.slice") + "/")
        assert sum(summary["slice"]["findings_cut"].values()) == 0
        # An unreachable host makes the job fail (AWX: failed); the other slice's status is the lab's.
        if "down1" in piece["hosts"]:
            assert result["status"] == "failed", detail
        else:
            assert result["status"] == "successful" or summary["threshold_reached"], detail
    assert run["alerts_after_slices"] == {"mail": [], "webhook": []}, "a slice alerted by itself"
    assert run["state_after_slices"] == [], "a slice wrote alert state: %s" % run["state_after_slices"]


@pytest.mark.parametrize("mode", MODES)
def test_the_combined_run_report_has_every_host_exactly_once(awx, runs, mode):
    run = runs[mode]
    combined = run["combined"]
    detail = _stdout(awx, combined["job"])
    summary = combined["artifacts"].get("stronghold_report")
    assert summary, "the combining job published no stronghold_report:\n%s" % detail
    # down1 is critical (run.host): the combined run reaches fail_on critical and fails, as the
    # unsliced run would; its report and alert are written first.
    assert combined["status"] == "failed" and summary["threshold_reached"], detail
    assert summary["run"] == "daily" and "slice" not in summary
    assert sorted(summary["hosts"]) == HOSTS
    assert summary["down_hosts"] == ["down1"]
    assert summary["paths"]["json"].startswith(str(run["reports"] / "_fleet" / "daily") + "/")
    document = json.loads(Path(summary["paths"]["json"]).read_text(encoding="utf-8"))
    assert document == json.loads((run["reports"] / "_fleet" / "daily" / "latest.json").read_text(encoding="utf-8"))
    on_disk = [entry["host"] for entry in document["hosts"]]
    assert sorted(on_disk) == HOSTS, "every host exactly once on disk: %s" % on_disk
    assert sorted(row["host"] for row in document["matrix"]["rows"] if not row["run_row"]) == HOSTS
    assert document["metadata"]["slices"] == 2 and document["metadata"]["hosts"] == 5
    # Per host, the counts its slice reported; in all, the slices' sums plus the combining
    # run's own findings (the alert's delivery).
    per_slice = {host: entry for s in run["summaries"] for host, entry in s["hosts"].items()}
    for host in HOSTS:
        assert summary["hosts"][host]["counts"] == per_slice[host]["counts"], host
        assert summary["hosts"][host]["worst_severity"] == per_slice[host]["worst_severity"], host
    own = {s: sum(1 for f in document["run_findings"] if f["severity"] == s) for s in SEVERITIES}
    for severity in SEVERITIES:
        assert summary["counts"][severity] == sum(s["counts"][severity] for s in run["summaries"]) + own[severity]
    assert summary["total"] == sum(s["total"] for s in run["summaries"]) + len(document["run_findings"])
    assert {f["check"] for f in document["run_findings"]} <= {"alert.delivery"}, document["run_findings"]


@pytest.mark.parametrize("mode", MODES)
def test_one_alert_arrived_for_the_whole_run(awx, runs, mode):
    run = runs[mode]
    combined = run["combined"]
    alerts = run["alerts"]
    detail = _stdout(awx, combined["job"])
    assert len(alerts["mail"]) == 1 and len(alerts["webhook"]) == 1, "%s\n%s" % (alerts, detail)
    (mail,) = alerts["mail"]
    assert mail["subject"].startswith("CRITICAL: ") and " - daily: " in mail["subject"]
    assert mail["headers"]["X-Stronghold-Run"] == "daily"
    payload = json.loads(alerts["webhook"][0]["body"])
    assert payload["groupLabels"] == {"run": "daily"}
    # The alert names every host with a finding at or above warning, from both slices.
    document = json.loads((run["reports"] / "_fleet" / "daily" / "latest.json").read_text(encoding="utf-8"))
    alerting = {e["host"] for e in document["hosts"] if e["worst_severity"] in ("warning", "critical")}
    firing = {a["labels"]["host"] for a in payload["alerts"] if a["status"] == "firing"}
    assert firing == alerting and "down1" in firing
    for piece in run["slices"]:
        assert firing & set(piece["hosts"]), "no alert of slice %s" % piece["hosts"]
    assert "down1" in mail["body"]
    assert combined["artifacts"]["stronghold_report"]["alert"]["notify"] is True
    assert (run["reports"] / "_alerts" / "daily.json").is_file()


def test_both_ways_of_slicing_give_each_host_the_same_checks(runs):
    # Per-host checks never depend on the other hosts of the slice: whichever share a host was
    # in (contiguous halves with whole groups, or every 2nd host in a reduced inventory), it ran
    # the same checks.
    def checks(mode):
        document = json.loads((runs[mode]["reports"] / "_fleet" / "daily" / "latest.json").read_text(encoding="utf-8"))
        return {e["host"]: sorted({f["check"] for f in e["findings"]}) for e in document["hosts"]}

    limit, awx = checks("limit"), checks("awx")
    assert limit == awx
    assert all(limit[host] for host in UP) and limit["down1"] == ["run.host"]
    assert [p["hosts"] for p in runs["limit"]["slices"]] != [p["hosts"] for p in runs["awx"]["slices"]]


TOKEN = "slicing-test-token"
STUB = Path(__file__).resolve().parent / "awx_api_stub.py"


def _node(identifier, job, kind):
    return {"identifier": identifier, "summary_fields": {"job": {"id": job, "type": kind, "status": "failed"}}}


def test_the_combining_step_reads_the_slices_from_the_awx_api(awx, runs, monkeypatch):
    slices = runs["awx"]["slices"]
    jobs = [piece["result"]["job"] for piece in slices] + [199]
    routes = {
        "/api/v2/workflow_jobs/900/workflow_nodes/": {
            "count": 2,
            "results": [_node("daily", 901, "workflow_job"), _node("combine", 902, "job")],
        },
        "/api/v2/workflow_jobs/901/workflow_nodes/": {
            "count": 3,
            "results": [_node("", job, "job") for job in reversed(jobs)],
        },
    }
    for piece in slices:
        routes["/api/v2/jobs/%d/" % piece["result"]["job"]] = {
            "id": piece["result"]["job"],
            "artifacts": piece["result"]["artifacts"],
        }
    # A third slice whose job failed before its report: no artifacts at all.
    routes["/api/v2/jobs/199/"] = {"id": 199, "artifacts": {}}
    api = awx["work"] / "api"
    api.mkdir()
    (api / "routes.json").write_text(json.dumps(routes), encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, str(STUB), str(api / "routes.json"), TOKEN, str(api / "port"), str(api / "asked")]
    )
    try:
        for dummy in range(100):
            if (api / "port").exists() or server.poll() is not None:
                break
            time.sleep(0.1)
        port = int((api / "port").read_text(encoding="utf-8"))
        monkeypatch.setenv("CONTROLLER_HOST", "http://127.0.0.1:%d/" % port)
        monkeypatch.setenv("CONTROLLER_OAUTH_TOKEN", TOKEN)
        combined = _run(
            awx,
            "playbooks/combine.yml",
            awx["full"],
            {
                "report_dir": str(api / "reports"),
                "report_slice": True,
                "awx_workflow_job_id": 900,
                # No alert for this run: the two above proved it; its report is what is checked.
                "report_alert_webhook_url": "",
                "report_alert_recipients": {},
            },
            # As a job template with verbosity 3 (Debug): module arguments in the output.
            verbosity=3,
        )
        asked = (api / "asked").read_text(encoding="utf-8").splitlines()
        # A template whose controller credential was left empty, and a workflow without the node
        # named: each stops before reading any slice, saying what is missing.
        monkeypatch.delenv("CONTROLLER_OAUTH_TOKEN")
        no_token = _run(
            awx, "playbooks/combine.yml", awx["full"], {"awx_workflow_job_id": 900, "report_dir": str(api / "nosuch")}
        )
        monkeypatch.setenv("CONTROLLER_OAUTH_TOKEN", TOKEN)
        no_node = _run(
            awx,
            "playbooks/combine.yml",
            awx["full"],
            {"awx_workflow_job_id": 900, "stronghold_combine_node": "nosuch", "report_dir": str(api / "nosuch")},
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    detail = _stdout(awx, combined["job"])
    summary = combined["artifacts"].get("stronghold_report")
    assert summary, detail
    assert sorted(summary["hosts"]) == HOSTS, detail
    document = json.loads(Path(summary["paths"]["json"]).read_text(encoding="utf-8"))
    assert sorted(e["host"] for e in document["hosts"]) == HOSTS
    assert document["metadata"]["slice_names"] == [str(job) for job in sorted(jobs)]
    (missing,) = document["run_findings"]
    assert (missing["check"], missing["target"], missing["severity"]) == ("report.slices", "slice 199", "critical")
    assert combined["status"] == "failed" and "could not combine all of its slices" in detail, detail
    # The token went in every request (the stand-in refuses any other) and nowhere else: not in
    # the job's output nor in any of its events (what AWX keeps and shows). ansible-runner's own
    # ``command`` file records the job's environment, the credential's variables included, as
    # AWX keeps them apart from the output: it is not output.
    leaked = [
        path.name
        for path in (awx["private"] / "artifacts" / ("job-%d" % combined["job"])).rglob("*")
        if path.is_file() and path.name != "command" and TOKEN in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert leaked == [], leaked
    assert no_token["status"] == "failed", no_token
    assert "CONTROLLER_OAUTH_TOKEN or CONTROLLER_USERNAME" in _stdout(awx, no_token["job"])
    assert no_node["status"] == "failed", no_node
    assert "has no node 'nosuch' that ran a job" in _stdout(awx, no_node["job"])
    assert not (api / "nosuch").exists()
    assert sorted(path.split("?")[0] for path in asked) == sorted(
        ["/api/v2/workflow_jobs/900/workflow_nodes/", "/api/v2/workflow_jobs/901/workflow_nodes/"]
        + ["/api/v2/jobs/%d/" % job for job in jobs]
    )
