# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX itself checks when schedules, surveys and launch prompts reach its API, offline.

No AWX runs here, so these functions restate AWX's rules (written anew, not copied) from its
source, read through a stored index of public repositories. Where AWX's rule has a quirk, it
is kept and said, because the goal is to accept and reject exactly what AWX would:

- RRULE validation: ``SchedulePreviewSerializer.validate_rrule`` (awx/api/serializers.py;
  the rejection messages are those of ansible/awx
  awx/main/tests/functional/api/test_schedules.py, ``test_invalid_rrules``).
- RRULE parsing: ``Schedule.rrulestr`` and ``coerce_naive_until`` (awx/main/models/schedules.py):
  python-dateutil's ``rrulestr`` with ``forceset=True`` and the UTC names of
  ``dateutil.parser.parserinfo().UTCZONE`` as tzinfos; a rule whose DTSTART has no timezone
  is refused. AWX's "fast forward" of HOURLY and MINUTELY rules without COUNT is not modelled
  (:func:`parse_rrule` refuses such rules rather than guess).
- Occurrences: the preview endpoint (``SchedulePreview.post``, awx/api/views) takes
  ``xafter(now, count=20)`` and skips a local time that does not exist
  (``dateutil.tz.datetime_exists``); ``Schedule.update_computed_fields`` skips it the same way
  for ``next_run``. So a run at 02:30 on the night the clocks go forward never happens.
- Survey specs: ``JobTemplateSurveySpec._validate_spec_data`` (awx/api/views/__init__.py) with
  ``SURVEY_TYPE_MAPPING`` (awx/main/constants.py).
- Survey answers and prompts at launch: ``SurveyJobTemplateMixin._survey_element_validation``
  and ``_accept_or_ignore_variables`` (awx/main/models/mixins.py): a variable is accepted when
  the survey is enabled and asks for it, or when ``ask_variables_on_launch`` is set; a survey
  default is applied only when it passes the same answer validation.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import dateutil.parser
import dateutil.rrule
import dateutil.tz

# TZID names that mean UTC to AWX's parser (UTC, GMT, Z, z).
UTC_TZINFOS = {name: dateutil.tz.tzutc() for name in dateutil.parser.parserinfo().UTCZONE}

# awx/main/constants.py. Note that bool is an int in Python: AWX accepts True as an integer
# default, and an int as a float default.
SURVEY_TYPE_MAPPING: dict[str, Any] = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (float, int),
}

# The prompt each launch-time field needs on a job template (the ask_* fields that
# awx.awx.job_template sends, awx_collection/plugins/modules/job_template.py).
JOB_TEMPLATE_PROMPTS = {
    "limit": "ask_limit_on_launch",
    "inventory": "ask_inventory_on_launch",
    "credentials": "ask_credential_on_launch",
    "job_type": "ask_job_type_on_launch",
    "job_tags": "ask_tags_on_launch",
    "skip_tags": "ask_skip_tags_on_launch",
    "verbosity": "ask_verbosity_on_launch",
    "diff_mode": "ask_diff_mode_on_launch",
    "scm_branch": "ask_scm_branch_on_launch",
    "execution_environment": "ask_execution_environment_on_launch",
    "forks": "ask_forks_on_launch",
    "job_slice_count": "ask_job_slice_count_on_launch",
    "timeout": "ask_timeout_on_launch",
    "labels": "ask_labels_on_launch",
    "instance_groups": "ask_instance_groups_on_launch",
}
# A workflow job template prompts for fewer fields (awx_collection workflow_job_template.py).
WORKFLOW_PROMPTS = {
    "limit": "ask_limit_on_launch",
    "inventory": "ask_inventory_on_launch",
    "scm_branch": "ask_scm_branch_on_launch",
}

_DTSTART = re.compile(r"DTSTART(;[^:]+)?:[0-9]+T[0-9]+Z?")
# A DTSTART without ;TZID= and without Z, followed by a space: a naive datetime.
_NAIVE_DTSTART = re.compile(r"DTSTART:[0-9]+T[0-9]+ ")
# Each RRULE: or EXRULE: part (AWX matches the "RULE:" tail of both).
_RULE_PART = re.compile(r"RULE:\S*")
# Only the first BYDAY value is looked at, and a negative prefix (-1SU) is not matched: AWX's
# pattern is the same.
_BYDAY_NUMERIC = re.compile(r".*?BYDAY[:=][0-9]+[a-zA-Z]{2}")
_COUNT = re.compile(r".*?COUNT=([0-9]+)")


def rrule_errors(value: str) -> list[str]:
    """The errors AWX's API returns for a schedule's ``rrule`` string; empty when it accepts it."""
    if not value:
        return ["This field may not be blank."]
    lowered = value.lower()
    errors = []
    starts = _DTSTART.findall(value)
    if not starts:
        errors.append("Valid DTSTART required in rrule. Value should start with: DTSTART:YYYYMMDDTHHMMSSZ")
    if _NAIVE_DTSTART.search(value):
        errors.append("DTSTART cannot be a naive datetime.  Specify ;TZINFO= or YYYYMMDDTHHMMSSZZ.")
    if len(starts) > 1:
        errors.append("Multiple DTSTART is not supported.")
    if "rrule:" not in lowered:
        errors.append("One or more rule required in rrule.")
    # AWX stops at these two at once, without the other errors.
    if "exdate:" in lowered:
        return ["EXDATE not allowed in rrule."]
    if "rdate:" in lowered:
        return ["RDATE not allowed in rrule."]
    for part in _RULE_PART.findall(value):
        if "interval" not in part.lower():
            errors.append("INTERVAL required in rrule: %s" % part)
        elif "secondly" in part.lower():
            errors.append("SECONDLY is not supported: %s" % part)
        if _BYDAY_NUMERIC.match(part):
            errors.append("BYDAY with numeric prefix not supported: %s" % part)
        if "COUNT" in part and "UNTIL" in part:
            errors.append("RRULE may not contain both COUNT and UNTIL: %s" % part)
        count = _COUNT.match(part)
        if count and int(count.group(1)) > 999:
            errors.append("COUNT > 999 is unsupported: %s" % part)
    try:
        parse_rrule(value)
    except NotModelled as exc:
        errors.append(str(exc))
    except Exception as exc:  # AWX reports whatever the parser raised, as this
        errors.append("rrule parsing failed validation: %s" % exc)
    return errors


class NotModelled(ValueError):
    """A rule whose AWX handling these functions do not reproduce."""


def _coerce_naive_until(value: str) -> str:
    """A naive UNTIL is read in DTSTART's timezone and rewritten as UTC (AWX departs from RFC 5545 here)."""
    start = re.sub(r"^.*(DTSTART\S+)\s.*$", r"\1", value)
    parts = re.split(r"\s+", value)
    for index, part in enumerate(parts):
        if "until=" not in part.lower():
            continue
        match = re.match(r".*?(?P<until>UNTIL=[0-9]+T[0-9]+)(?P<utc>Z?)", part)
        if match is None:
            # AWX fails the same way here ('NoneType' object has no attribute 'group').
            raise ValueError("'NoneType' object has no attribute 'group'")
        if match.group("utc"):
            continue
        naive = match.group("until")
        probe = "%s %s" % (start, part.replace(naive, naive + "Z"))
        if part.lower().startswith("ex"):
            probe += " RRULE:FREQ=MINUTELY;INTERVAL=1;UNTIL=20380601T170000Z"
        zone = dateutil.rrule.rrulestr(probe, tzinfos=UTC_TZINFOS, forceset=True)._rrule[0]._dtstart.tzinfo
        local = datetime.datetime.strptime(naive[len("UNTIL=") :], "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        utc = local.astimezone(datetime.timezone.utc).strftime("UNTIL=%Y%m%dT%H%M%SZ")
        parts[index] = part.replace(naive, utc)
    return " ".join(parts)


def parse_rrule(value: str) -> dateutil.rrule.rruleset:
    """The rule set AWX computes a schedule's runs from (``Schedule.rrulestr``)."""
    ruleset = dateutil.rrule.rrulestr(_coerce_naive_until(value), tzinfos=UTC_TZINFOS, forceset=True)
    for rule in list(ruleset._rrule) + list(ruleset._exrule):
        if rule._dtstart is not None and rule._dtstart.tzinfo is None:
            raise ValueError("A valid TZID must be provided (e.g., America/New_York). Invalid: %s" % rule)
        if rule._freq in (dateutil.rrule.HOURLY, dateutil.rrule.MINUTELY) and not rule._count:
            raise NotModelled("HOURLY and MINUTELY rules without COUNT are fast-forwarded by AWX; not modelled here")
    return ruleset


def timezone_name(value: str) -> str:
    """The zone of DTSTART as AWX's Schedule.timezone reports it (UTC, or the IANA name)."""
    zone = parse_rrule(value)._rrule[0]._dtstart.tzinfo
    if isinstance(zone, dateutil.tz.tzutc):
        return "UTC"
    match = re.search(r"DTSTART;TZID=([^:]+):", value)
    return match.group(1) if match else ""


def next_occurrences(value: str, after: datetime.datetime, count: int = 5) -> list[datetime.datetime]:
    """The next runs after ``after`` as AWX's preview lists them: local times that exist only."""
    runs = []
    for event in parse_rrule(value).xafter(after, count=20):
        if len(runs) >= count:
            break
        if not dateutil.tz.datetime_exists(event):
            continue
        runs.append(event)
    return runs


def survey_spec_errors(spec: Any) -> list[str]:
    """The errors AWX's survey_spec endpoint returns for a new spec (the first one per question)."""
    if not isinstance(spec, dict):
        return ["survey spec is not a mapping"]
    errors = []
    for field, kind, label in (
        ("name", str, "string"),
        ("description", str, "string"),
        ("spec", list, "list of items"),
    ):
        if field not in spec:
            errors.append("Field '%s' is missing from survey spec." % field)
        elif not isinstance(spec[field], kind):
            errors.append("Expected %s for field '%s', received %s type." % (label, field, type(spec[field]).__name__))
    if isinstance(spec.get("spec"), list) and not spec["spec"]:
        errors.append("'spec' doesn't contain any items.")
    if errors:
        return errors
    seen: set[str] = set()
    for index, item in enumerate(spec["spec"]):
        problem = _question_error(index, item, seen)
        if problem:
            errors.append(problem)
    return errors


def _question_error(index: int, item: Any, seen: set[str]) -> str | None:
    if not isinstance(item, dict):
        return "Survey question %d is not a json object." % index
    for field in ("type", "question_name", "variable", "required"):
        if field not in item:
            return "'%s' missing from survey question %d" % (field, index)
        kind, label = (bool, "boolean") if field == "required" else (str, "string")
        if not isinstance(item[field], kind):
            return "'%s' in survey question %d expected to be %s." % (field, index, label)
    if item["variable"] in seen:
        return "'variable' '%s' duplicated in survey question %d." % (item["variable"], index)
    seen.add(item["variable"])
    qtype = item["type"]
    if qtype not in SURVEY_TYPE_MAPPING:
        return "'%s' in survey question %d is not one of '%s' allowed question types." % (
            qtype,
            index,
            ", ".join(SURVEY_TYPE_MAPPING),
        )
    if "default" in item and item["default"] != "" and not isinstance(item["default"], SURVEY_TYPE_MAPPING[qtype]):
        label = qtype if qtype in ("integer", "float") else "string"
        return "Default value %s in survey question %d expected to be %s." % (item["default"], index, label)
    for key in ("min", "max"):
        if key in item and item[key] is not None and not isinstance(item[key], int):
            return "The %s limit in survey question %d expected to be integer." % (key, index)
    if qtype in ("multiselect", "multiplechoice"):
        if "choices" not in item:
            return "Survey question %d of type %s must specify choices." % (index, qtype)
        if "default" in item:
            default = item["default"]
            defaults = [line for line in default.splitlines() if line.strip()] if isinstance(default, str) else default
            if qtype == "multiplechoice" and len(defaults) > 1:
                return "Multiple Choice (Single Select) can only have one default value."
            # With choices as one string AWX tests a substring; with a list, membership.
            if any(choice not in item["choices"] for choice in defaults):
                return "Default choice must be answered from the choices listed."
    if isinstance(item.get("default"), str) and item["default"].startswith("$encrypted$"):
        # A new spec may not use the placeholder: there is no earlier encrypted default.
        return "$encrypted$ is a reserved keyword, may not be used for new default in position %d." % index
    return None


def _choices(item: dict[str, Any]) -> list[str]:
    choices = item["choices"]
    if isinstance(choices, str):
        return [line for line in choices.splitlines() if line.strip()]
    return list(choices)


def survey_answer_errors(item: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """The errors AWX gives at launch for one survey question and the given variables."""
    name = item["variable"]
    if name not in data:
        return ["'%s' value missing" % name] if item["required"] else []
    value = data[name]
    qtype = item["type"]
    low, high = item.get("min"), item.get("max")
    errors = []
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return ["Value %s for '%s' expected to be a string." % (value, name)]
        if low not in ("", None) and len(value) < int(low):
            errors.append(
                "'%s' value %s is too small (length is %d must be at least %s)." % (name, value, len(value), low)
            )
        if high not in ("", None) and len(value) > int(high):
            errors.append("'%s' value %s is too large (must be no more than %s)." % (name, value, high))
    elif qtype in ("integer", "float"):
        numeric = (int,) if qtype == "integer" else (float, int)
        if type(value) not in numeric:
            return [
                "Value %s for '%s' expected to be %s."
                % (value, name, "an integer" if qtype == "integer" else "a numeric type")
            ]
        convert = int if qtype == "integer" else float
        if low not in ("", None) and value < convert(low):
            errors.append("'%s' value %s is too small (must be at least %s)." % (name, value, low))
        if high not in ("", None) and value > convert(high):
            errors.append("'%s' value %s is too large (must be no more than %s)." % (name, value, high))
    elif qtype == "multiselect":
        if not isinstance(value, list):
            return ["'%s' value is expected to be a list." % name]
        errors += [
            "Value %s for '%s' expected to be one of %s." % (v, name, _choices(item))
            for v in value
            if v not in _choices(item)
        ]
    elif qtype == "multiplechoice" and value not in _choices(item):
        errors.append("Value %s for '%s' expected to be one of %s." % (value, name, _choices(item)))
    return errors


def survey_defaults(template: dict[str, Any]) -> dict[str, Any]:
    """The extra variables a launch without answers gets: each default that passes validation."""
    if not (template.get("survey_enabled") and template.get("survey_spec")):
        return {}
    found = {}
    for item in template["survey_spec"]["spec"]:
        if "default" in item and not survey_answer_errors(item, {item["variable"]: item["default"]}):
            found[item["variable"]] = item["default"]
    return found


def launch_errors(template: dict[str, Any], prompts: dict[str, Any], workflow: bool = False) -> list[str]:
    """Why AWX would not take ``prompts`` (a schedule's or a workflow node's) for ``template``.

    ``prompts`` holds ``extra_data`` (the variables) and any launch-time field such as ``limit``.
    """
    errors = []
    variables = dict(prompts.get("extra_data") or {})
    if template.get("survey_enabled") and template.get("survey_spec"):
        for item in template["survey_spec"]["spec"]:
            # At launch a missing required answer is filled from the default when it has one.
            answers = {**survey_defaults(template), **variables}
            errors += survey_answer_errors(item, answers)
            variables.pop(item["variable"], None)
    if variables and not template.get("ask_variables_on_launch"):
        errors.append(
            "Variables %s are not allowed on launch. Check the Prompt on Launch setting to include Extra Variables."
            % ", ".join(sorted(variables))
        )
    table = WORKFLOW_PROMPTS if workflow else JOB_TEMPLATE_PROMPTS
    for field, value in prompts.items():
        if field == "extra_data" or value is None:
            continue
        ask = table.get(field)
        if ask is None:
            errors.append("%s is not a launch-time field of this template" % field)
        elif not template.get(ask):
            errors.append("%s is given but %s is not set" % (field, ask))
    return errors


# The settings of the two notification types used here, as AWX's backends declare them
# (awx/main/notifications/email_backend.py and webhook_backend.py, init_parameters): a
# setting without a default is required.
NOTIFICATION_PARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    "email": {
        "host": {"type": "string"},
        "port": {"type": "int"},
        "username": {"type": "string"},
        "password": {"type": "password"},
        "use_tls": {"type": "bool"},
        "use_ssl": {"type": "bool"},
        "sender": {"type": "string"},
        "recipients": {"type": "list"},
        "timeout": {"type": "int", "default": 30},
    },
    "webhook": {
        "url": {"type": "string"},
        "http_method": {"type": "string", "default": "POST"},
        "disable_ssl_verification": {"type": "bool", "default": False},
        "username": {"type": "string", "default": ""},
        "password": {"type": "password", "default": ""},
        "headers": {"type": "object"},
    },
}
_NOTIFICATION_TYPES = {
    "string": (str,),
    "password": (str,),
    "int": (int,),
    "bool": (bool,),
    "list": (list,),
    "object": (dict,),
}
# The fields AWX's own default messages use (job_friendly_name, job.id, job.name, job.status,
# url, job_metadata). AWX renders a custom message against a stub of every field it offers
# (JobNotificationMixin.context_stub), so this smaller stub can only refuse more, never less.
MESSAGE_STUB = {
    "job": {"id": 1, "name": "Stronghold daily", "status": "failed"},
    "job_friendly_name": "Job",
    "url": "https://awx.example.com/#/jobs/playbook/1",
    "job_metadata": {"id": 1},
}


def notification_errors(notification_type: str, configuration: dict[str, Any], messages: Any = None) -> list[str]:
    """The errors of AWX's NotificationTemplateSerializer (validate, validate_messages) for a new template."""
    import jinja2.sandbox

    errors = []
    missing = []
    for field, params in NOTIFICATION_PARAMETERS[notification_type].items():
        if field not in configuration:
            if "default" not in params:
                missing.append(field)
            continue
        value = configuration[field]
        if type(value) not in _NOTIFICATION_TYPES[params["type"]]:
            errors.append("Configuration field '%s' incorrect type, expected %s." % (field, params["type"]))
        elif params["type"] == "list" and not value:
            errors.append("No values specified for field '%s'" % field)
        elif field == "http_method" and value.lower() not in ("put", "post"):
            errors.append("HTTP method must be either 'POST' or 'PUT'.")
    if missing:
        errors.append("Missing required fields for Notification Configuration: %s." % missing)
    if messages is None:
        return errors
    if not isinstance(messages, dict):
        return errors + ["Expected dict for 'messages' field, found %s" % type(messages)]
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for event, parts in messages.items():
        if event not in ("started", "success", "error", "changed", "workflow_approval"):
            errors.append("Event '%s' invalid" % event)
            continue
        for kind, text in (parts or {}).items():
            if kind not in ("message", "body"):
                errors.append("Message type '%s' invalid, must be either 'message' or 'body'" % kind)
            elif kind == "message" and "\n" in text:
                errors.append("Messages cannot contain newlines (found newline in %s event)" % event)
            else:
                try:
                    environment.from_string(text).render(MESSAGE_STUB)
                except jinja2.TemplateError as exc:
                    errors.append("Unable to render message '%s': %s" % (text, exc))
    return errors
