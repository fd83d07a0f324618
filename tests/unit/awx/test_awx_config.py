# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/controller.yml, the AWX configuration of stronghold.ops, checked as AWX would check it.

No AWX runs here. These tests read the data that awx/configure.yml hands to the awx.awx
modules, render its Jinja the way Ansible does (native types), and apply AWX's own rules
(awx_rules.py): every schedule's RRULE is validated and parsed with python-dateutil as AWX
does, and its next runs are compared with the runbook's dates across the DST changes of 2027;
every survey spec passes AWX's survey rules and its defaults pass AWX's answer validation;
every schedule's variables and prompts are accepted by its template; every job template names
a playbook of this repository; the play passes on every key of the data.

Run with -s to see the next five runs of each schedule in three timezones.
"""

from __future__ import annotations

import calendar
import datetime
import re
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.nativetypes import NativeEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_rules  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
CONTROLLER = REPO / "awx" / "controller.yml"
CONFIGURE = REPO / "awx" / "configure.yml"
UTC = datetime.timezone.utc
ZONES = ("UTC", "Europe/Berlin", "America/New_York")
# Secret-free credential types AWX ships, which controller.yml uses by name.
BUILTIN_CREDENTIAL_TYPES = {"Machine": {"password", "ssh_key_data", "ssh_key_unlock", "become_password"}}


class Unsafe(str):
    """A string marked !unsafe: Ansible passes it on untemplated (AWX templates it later)."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))
_JINJA = NativeEnvironment(undefined=StrictUndefined)


def _render(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, Unsafe):
        return value
    if isinstance(value, str) and "{{" in value:
        return _JINJA.from_string(value).render(context)
    if isinstance(value, dict):
        return {key: _render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, context) for item in value]
    return value


def load(**options: Any) -> dict[str, Any]:
    """controller.yml with the given options (as -e would set them), every template rendered."""
    data = yaml.load(CONTROLLER.read_text(encoding="utf-8"), _Loader)
    data.update(options)
    for dummy in range(5):
        rendered = _render(data, data)
        if rendered == data:
            return rendered
        data = rendered
    raise AssertionError("controller.yml's templates do not settle")


def _templates(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {jt["name"]: jt for jt in data["stronghold_awx_job_templates"]}


def _workflows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {wf["name"]: wf for wf in data["stronghold_awx_workflows"]}


def _schedule(data: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [s for s in data["stronghold_awx_schedules"] if s["name"].startswith("Stronghold %s " % kind)]
    return found


def _runbook(kind: str, zone: str, after: datetime.datetime, count: int = 5) -> list[datetime.datetime]:
    """The runbook's next times as local wall-clock times, from the calendar alone (no dateutil).

    daily 06:00, weekly Sunday 02:00, monthly first Sunday 02:00. Returned naive: a wall time
    the clocks skip is still listed, as a cron-style table lists it.
    """
    day = after.astimezone(ZoneInfo(zone)).date()
    found: list[datetime.datetime] = []
    while len(found) < count:
        if kind == "daily":
            wall = datetime.datetime.combine(day, datetime.time(6))
        elif kind == "weekly" and day.weekday() == calendar.SUNDAY:
            wall = datetime.datetime.combine(day, datetime.time(2))
        elif kind == "monthly" and day.weekday() == calendar.SUNDAY and day.day <= 7:
            wall = datetime.datetime.combine(day, datetime.time(2))
        else:
            day += datetime.timedelta(days=1)
            continue
        if wall.replace(tzinfo=ZoneInfo(zone)) > after:
            found.append(wall)
        day += datetime.timedelta(days=1)
    return found


def _exists(wall: datetime.datetime, zone: str) -> bool:
    aware = wall.replace(tzinfo=ZoneInfo(zone))
    return aware.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall


def _awx_runs(kind: str, zone: str, after: datetime.datetime, count: int = 5) -> list[datetime.datetime]:
    rrule = _schedule(load(stronghold_awx_timezone=zone), kind)["rrule"]
    return awx_rules.next_occurrences(rrule, after, count)


# Before and around the DST changes of 2027: Europe/Berlin goes forward on 28 March at 02:00
# and back on 31 October at 03:00; America/New_York forward on 14 March at 02:00 and back on
# 7 November at 02:00.
SPRING = datetime.datetime(2027, 3, 6, tzinfo=UTC)
AUTUMN = datetime.datetime(2027, 10, 20, tzinfo=UTC)
# Two days before each change: the next five daily runs cross it.
CHANGES = [datetime.datetime(2027, month, day, tzinfo=UTC) for month, day in ((3, 12), (3, 26), (10, 29), (11, 5))]


def test_the_default_timezone_is_utc():
    assert load()["stronghold_awx_timezone"] == "UTC"


@pytest.mark.parametrize("zone", ZONES)
def test_every_schedule_passes_awx_validation(zone):
    for schedule in load(stronghold_awx_timezone=zone)["stronghold_awx_schedules"]:
        assert awx_rules.rrule_errors(schedule["rrule"]) == [], schedule["name"]
        assert awx_rules.timezone_name(schedule["rrule"]) == zone


@pytest.mark.parametrize("after", [SPRING, AUTUMN], ids=["spring", "autumn"])
@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_in_utc_awx_runs_on_the_runbook_dates(kind, after):
    runs = _awx_runs(kind, "UTC", after)
    assert [run.replace(tzinfo=None) for run in runs] == _runbook(kind, "UTC", after)
    assert all(run.utcoffset() == datetime.timedelta(0) for run in runs)


@pytest.mark.parametrize(
    "zone, after, skipped",
    [
        ("Europe/Berlin", datetime.datetime(2027, 3, 20, tzinfo=UTC), datetime.datetime(2027, 3, 28, 2)),
        ("America/New_York", datetime.datetime(2027, 3, 6, tzinfo=UTC), datetime.datetime(2027, 3, 14, 2)),
    ],
)
def test_in_a_dst_zone_awx_skips_the_weekly_run_the_clocks_jump_over(zone, after, skipped):
    runbook = _runbook("weekly", zone, after, 6)
    runs = [run.replace(tzinfo=None) for run in _awx_runs("weekly", zone, after)]
    assert skipped in runbook and not _exists(skipped, zone)
    assert skipped not in runs
    assert runs == [wall for wall in runbook if _exists(wall, zone)][:5]


@pytest.mark.parametrize("after", [SPRING, AUTUMN] + CHANGES, ids=lambda after: str(after.date()))
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("kind", ["daily", "monthly"])
def test_in_a_dst_zone_daily_and_monthly_keep_the_local_time(kind, zone, after):
    runs = _awx_runs(kind, zone, after)
    assert [run.replace(tzinfo=None) for run in runs] == _runbook(kind, zone, after)
    # The local time is kept, so the UTC time moves with the clocks.
    for run in runs:
        assert run.utcoffset() == run.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone)).utcoffset()


def test_the_daily_run_moves_in_utc_when_the_clocks_change():
    runs = _awx_runs("daily", "Europe/Berlin", datetime.datetime(2027, 3, 26, tzinfo=UTC))
    assert [run.astimezone(UTC).strftime("%m-%d %H:%M") for run in runs] == [
        "03-26 05:00",
        "03-27 05:00",
        "03-28 04:00",
        "03-29 04:00",
        "03-30 04:00",
    ]


def test_the_autumn_hour_that_repeats_runs_once():
    runs = _awx_runs("weekly", "Europe/Berlin", datetime.datetime(2027, 10, 25, tzinfo=UTC))
    assert str(runs[0]) == "2027-10-31 02:00:00+02:00"
    assert str(runs[1]) == "2027-11-07 02:00:00+01:00"


def test_print_the_next_five_runs_of_every_schedule():
    for zone in ZONES:
        for after in [SPRING, AUTUMN] + CHANGES:
            for kind in ("daily", "weekly", "monthly"):
                runs = _awx_runs(kind, zone, after)
                assert len(runs) == 5
                shown = ", ".join(
                    "%s (%sZ)" % (run.strftime("%a %m-%d %H:%M"), run.astimezone(UTC).strftime("%H:%M")) for run in runs
                )
                print("%-16s %-7s after %s: %s" % (zone, kind, after.date(), shown))


def test_job_templates_of_the_six_playbooks_and_the_combining_step_exist():
    templates = _templates(load())
    playbooks = sorted(jt["playbook"] for jt in templates.values())
    assert playbooks == [
        "playbooks/%s.yml" % name
        for name in ("combine", "daily", "deploy", "emergency", "monthly", "rollback", "weekly")
    ]
    for jt in templates.values():
        assert (REPO / jt["playbook"]).is_file(), jt["playbook"]


def test_the_daily_slice_count_is_an_option():
    assert _templates(load())["Stronghold daily"]["job_slice_count"] == 1
    assert _templates(load(stronghold_awx_daily_slice_count=4))["Stronghold daily"]["job_slice_count"] == 4
    assert all("job_slice_count" not in jt for name, jt in _templates(load()).items() if name != "Stronghold daily")


def test_deploy_rollback_and_emergency_have_the_surveys_the_runbook_needs():
    templates = _templates(load())
    surveyed = {name: jt for name, jt in templates.items() if jt.get("survey_enabled")}
    assert sorted(surveyed) == ["Stronghold deploy", "Stronghold emergency", "Stronghold rollback"]
    asked = {name: {q["variable"] for q in jt["survey_spec"]["spec"]} for name, jt in surveyed.items()}
    assert {"deploy_tag", "deploy_backup"} <= asked["Stronghold deploy"]
    assert {"rollback_release", "rollback_tag", "rollback_database"} <= asked["Stronghold rollback"]
    assert {"act", "emergency_restart_db", "incident", "contain"} <= asked["Stronghold emergency"]


@pytest.mark.parametrize("name", ["Stronghold deploy", "Stronghold rollback", "Stronghold emergency"])
def test_each_survey_passes_awx_and_its_defaults_are_answers_awx_takes(name):
    jt = _templates(load())[name]
    assert awx_rules.survey_spec_errors(jt["survey_spec"]) == []
    for question in jt["survey_spec"]["spec"]:
        if "default" in question:
            assert awx_rules.survey_answer_errors(question, {question["variable"]: question["default"]}) == []


def test_a_launch_without_answers_needs_only_the_tag_to_deploy():
    templates = _templates(load())
    assert awx_rules.launch_errors(templates["Stronghold deploy"], {}) == ["'deploy_tag' value missing"]
    assert awx_rules.launch_errors(templates["Stronghold deploy"], {"extra_data": {"deploy_tag": "1.1.0"}}) == []
    assert awx_rules.launch_errors(templates["Stronghold rollback"], {}) == []
    assert awx_rules.launch_errors(templates["Stronghold emergency"], {}) == []
    # Diagnose only, unless asked: the defaults change nothing.
    assert awx_rules.survey_defaults(templates["Stronghold emergency"]) == {
        "act": "false",
        "emergency_restart_db": "false",
        "incident": "false",
        "contain": "false",
        "emergency_incident_log_hours": 24,
    }


def _read_by_the_play(playbook: str) -> str:
    texts = [(REPO / playbook).read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in sorted((REPO / "roles").glob("*/*/*.yml"))]
    return "\n".join(texts)


@pytest.mark.parametrize("name", ["Stronghold deploy", "Stronghold rollback", "Stronghold emergency"])
def test_every_survey_variable_is_one_the_play_reads_and_yes_no_answers_go_through_bool(name):
    jt = _templates(load())[name]
    text = _read_by_the_play(jt["playbook"])
    for question in jt["survey_spec"]["spec"]:
        variable = question["variable"]
        assert re.search(r"\b%s\b" % re.escape(variable), text), "%s is read by no task of %s" % (
            variable,
            jt["playbook"],
        )
        if set(question.get("choices") or ()) & {"true", "false"}:
            # Surveys pass strings: "false" is only false through the bool filter.
            assert question["type"] == "multiplechoice" and sorted(question["choices"]) == ["false", "true"]
            assert re.search(r"\b%s\s*(\|\s*default\([^)]*\)\s*)?\|\s*bool\b" % re.escape(variable), text), variable


def test_every_schedule_launches_an_existing_template_that_takes_its_prompts():
    data = load()
    templates, workflows = _templates(data), _workflows(data)
    assert not set(templates) & set(workflows), "awx.awx.schedule finds its template by name among all kinds"
    for schedule in data["stronghold_awx_schedules"]:
        target = schedule["unified_job_template"]
        prompts = {
            key: value for key, value in schedule.items() if key not in ("name", "unified_job_template", "rrule")
        }
        if target in workflows:
            assert awx_rules.launch_errors(workflows[target], prompts, workflow=True) == []
        else:
            assert awx_rules.launch_errors(templates[target], prompts) == []
    assert _schedule(data, "daily")["unified_job_template"] == "Stronghold daily workflow"


def test_a_schedule_variable_without_its_prompt_is_caught():
    templates = _templates(load())
    errors = awx_rules.launch_errors(templates["Stronghold weekly"], {"extra_data": {"docker_cleanup_volumes": True}})
    assert errors == [
        "Variables docker_cleanup_volumes are not allowed on launch. Check the Prompt on Launch setting to include Extra Variables."
    ]
    assert awx_rules.launch_errors(templates["Stronghold weekly"], {"limit": "app1"}) == [
        "limit is given but ask_limit_on_launch is not set"
    ]


def test_the_workflow_runs_the_daily_job_and_alerts_on_failure():
    data = load()
    (workflow,) = data["stronghold_awx_workflows"]
    nodes = {node["identifier"]: node for node in workflow["workflow_nodes"]}
    assert len(nodes) == len(workflow["workflow_nodes"])
    for node in nodes.values():
        assert node["unified_job_template"]["type"] == "job_template"
        assert node["unified_job_template"]["name"] in _templates(data)
        for link in ("success_nodes", "failure_nodes", "always_nodes"):
            assert all(target["identifier"] in nodes for target in node["related"][link])
    assert [node["unified_job_template"]["name"] for node in nodes.values()] == [
        "Stronghold daily",
        "Stronghold combine slices",
    ]
    notifications = {nt["name"] for nt in data["stronghold_awx_notification_templates"]}
    assert workflow["notification_templates_error"] and set(workflow["notification_templates_error"]) <= notifications
    for jt in _templates(data).values():
        assert set(jt["notification_templates_error"]) <= notifications


def test_the_combining_step_runs_after_the_daily_job_whatever_its_outcome():
    # A slice whose hosts reach report_fail_on fails its job, and the sliced node with it: the
    # combining node must still run, or the run's one alert would never be sent.
    data = load(stronghold_awx_daily_slice_count=4)
    (workflow,) = data["stronghold_awx_workflows"]
    nodes = {node["identifier"]: node for node in workflow["workflow_nodes"]}
    links = {
        (name, link, target["identifier"])
        for name, node in nodes.items()
        for link in ("success_nodes", "failure_nodes", "always_nodes")
        for target in node["related"][link]
    }
    assert links == {("daily", "always_nodes", "combine")}
    assert nodes["combine"]["unified_job_template"]["name"] == "Stronghold combine slices"
    combine = _templates(data)["Stronghold combine slices"]
    assert combine["playbook"] == "playbooks/combine.yml" and (REPO / combine["playbook"]).is_file()
    assert "job_slice_count" not in combine, "the combining step runs once"
    # The workflow's variables reach every node (WorkflowJobNode.get_job_kwargs: the workflow
    # job's extra_vars are added after the template's prompts were judged): the slices leave
    # the alert to the combining step; a daily job launched on its own still alerts by itself.
    assert workflow["extra_vars"] == {"report_slice": True}
    assert "extra_vars" not in _templates(data)["Stronghold daily"]
    play = yaml.safe_load((REPO / "playbooks" / "combine.yml").read_text(encoding="utf-8"))
    assert play[0]["hosts"] == "localhost"
    assert play[0]["vars"]["stronghold_combine_node"] == "daily"


def test_only_the_combining_step_gets_the_controller_credential():
    data = load()
    credential = data["stronghold_awx_controller_credential"]
    # AWX's own type (kind cloud; its env injectors CONTROLLER_HOST, CONTROLLER_OAUTH_TOKEN, ...).
    assert credential["credential_type"] == "Red Hat Ansible Automation Platform"
    assert credential["inputs"] == {}
    holders = [jt["name"] for jt in _templates(data).values() if credential["name"] in jt.get("extra_credentials", [])]
    assert holders == ["Stronghold combine slices"]
    text = (REPO / "playbooks" / "combine.yml").read_text(encoding="utf-8")
    for variable in ("CONTROLLER_HOST", "CONTROLLER_OAUTH_TOKEN", "CONTROLLER_USERNAME", "CONTROLLER_PASSWORD"):
        assert variable in text


def test_no_secret_is_in_the_repository():
    data = load()
    types = {
        ct["name"]: {f["id"] for f in ct["inputs"]["fields"] if f.get("secret")}
        for ct in data["stronghold_awx_credential_types"]
    }
    types.update(BUILTIN_CREDENTIAL_TYPES)
    for credential in data["stronghold_awx_credentials"]:
        assert credential["credential_type"] in types
        # Empty, not just without the secret: inputs that awx.awx.credential sends replace all
        # of the credential's inputs, so a username here would drop the key entered in AWX
        # the first time it changed.
        assert credential["inputs"] == {}, credential["name"]
    for ct in data["stronghold_awx_credential_types"]:
        for value in ct["injectors"]["extra_vars"].values():
            assert isinstance(value, Unsafe) and value.startswith("{{"), "AWX fills the injector, never this file"
    for nt in data["stronghold_awx_notification_templates"]:
        assert nt["notification_configuration"].get("password", "") in ("", "$encrypted$")
    assert data["stronghold_awx_controller_credential"]["inputs"] == {}


def _play_tasks() -> list[dict[str, Any]]:
    (play,) = yaml.safe_load(CONFIGURE.read_text(encoding="utf-8"))
    return play["tasks"]


def test_the_play_uses_awx_awx_modules_and_passes_on_every_key_of_the_data():
    data = yaml.load(CONTROLLER.read_text(encoding="utf-8"), _Loader)
    looped: dict[str, set[str]] = {}
    text = CONFIGURE.read_text(encoding="utf-8")
    for task in _play_tasks():
        (module,) = [key for key in task if key.startswith("awx.awx.")]
        assert (
            module.split(".")[-1]
            in (
                "organization execution_environment project credential_type credential inventory "
                "inventory_source notification_template job_template workflow_job_template schedule"
            ).split()
        )
        loop = re.fullmatch(r"\{\{ (stronghold_awx_\w+) \}\}", str(task.get("loop", "")))
        if loop:
            looped[loop.group(1)] = set(re.findall(r"item\.(\w+)", str(task[module])))
    for name, keys_read in looped.items():
        for entry in data[name]:
            assert set(entry) <= keys_read, "%s: %s never reaches AWX" % (name, set(entry) - keys_read)
    for name in (
        "stronghold_awx_project",
        "stronghold_awx_execution_environment",
        "stronghold_awx_inventory",
        "stronghold_awx_controller_credential",
    ):
        read = set(re.findall(r"%s\.(\w+)" % name, text))
        assert set(data[name]) <= read, "%s: %s never reaches AWX" % (name, set(data[name]) - read)
    source_read = set(re.findall(r"stronghold_awx_inventory\.source\.(\w+)", text))
    assert set(data["stronghold_awx_inventory"]["source"]) <= source_read


def test_every_job_template_can_take_all_the_credentials():
    # configure.yml gives each job template every credential. AWX refuses two credentials of
    # one type on a template, and any kind but ssh, vault, cloud, net and kubernetes
    # (JobTemplateCredentialsList.is_valid_relation, awx/api/views/__init__.py).
    data = load()
    kinds = {ct["name"]: ct["kind"] for ct in data["stronghold_awx_credential_types"]}
    kinds["Machine"] = "ssh"
    kinds["Red Hat Ansible Automation Platform"] = "cloud"
    extra = {data["stronghold_awx_controller_credential"]["name"]: data["stronghold_awx_controller_credential"]}
    for jt in _templates(data).values():
        given = data["stronghold_awx_credentials"] + [extra[name] for name in jt.get("extra_credentials", [])]
        types = [credential["credential_type"] for credential in given]
        assert len(types) == len(set(types)), jt["name"]
        assert {kinds[name] for name in types} <= {"ssh", "vault", "cloud", "net", "kubernetes"}


def test_notification_templates_pass_awx_and_keep_the_entered_password():
    for nt in load()["stronghold_awx_notification_templates"]:
        assert (
            awx_rules.notification_errors(nt["notification_type"], nt["notification_configuration"], nt.get("messages"))
            == []
        )
        if nt["notification_type"] == "email":
            # AWX keeps the stored password when it is sent "$encrypted$" (the serializer
            # forwards the old value); anything else replaces it at every run.
            assert nt["notification_configuration"]["password"] == "$encrypted$"
