# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline AWX rules (awx_rules.py) held to AWX's own expectations.

The RRULE cases and the expected occurrences are those of ansible/awx
awx/main/tests/functional/api/test_schedules.py (``test_invalid_rrules``,
``test_multiple_invalid_rrules``, ``test_utc_preview``, ``test_nyc_with_dst``,
``test_dst_phantom_hour``, ``test_dst_rollback_duplicates``,
``test_first_monthly_weekday_timezone_boundary``): where AWX's API answers 400 with a message,
rrule_errors() must give that message; where AWX's preview lists runs, next_occurrences() must
list the same. The survey cases follow the branches of AWX's ``_validate_spec_data``.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_rules  # noqa: E402

BEFORE_2030 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "rrule, error",
    [
        ("", "This field may not be blank"),
        ("DTSTART:NONSENSE", "Valid DTSTART required in rrule"),
        ("DTSTART:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1", "DTSTART cannot be a naive datetime"),
        ("DTSTART:20300308T050000Z DTSTART:20310308T050000", "Multiple DTSTART is not supported"),
        ("DTSTART:20300308T050000Z", "One or more rule required in rrule"),
        ("DTSTART:20300308T050000Z RRULE:FREQ=MONTHLY;INTERVAL=1; EXDATE:20220401", "EXDATE not allowed in rrule"),
        ("DTSTART:20300308T050000Z RRULE:FREQ=MONTHLY;INTERVAL=1; RDATE:20220401", "RDATE not allowed in rrule"),
        ("DTSTART:20300308T050000Z RRULE:FREQ=SECONDLY;INTERVAL=5;COUNT=6", "SECONDLY is not supported"),
        ("DTSTART:20300308T050000Z RRULE:NONSENSE", "INTERVAL required in rrule"),
        ("DTSTART:20300308T050000Z RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=5MO", "BYDAY with numeric prefix not supported"),
        pytest.param(
            "DTSTART:20030925T104941Z RRULE:FREQ=DAILY;INTERVAL=10;COUNT=500;UNTIL=20040925T104941Z",
            "RRULE may not contain both COUNT and UNTIL",
            # dateutil 2.9 still parses COUNT with UNTIL, and warns; AWX refuses the rule first.
            marks=pytest.mark.filterwarnings("ignore:Using both 'count' and 'until'"),
        ),
        ("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1;COUNT=2000", "COUNT > 999 is unsupported"),
        (
            "DTSTART:20300308T050000Z RRULE:NONSENSE RRULE:INTERVAL=1;FREQ=DAILY EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU",
            "INTERVAL required in rrule",
        ),
        (
            "DTSTART:20300308T050000Z RRULE:INTERVAL=1;FREQ=DAILY EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU "
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=5MO",
            "BYDAY with numeric prefix not supported",
        ),
        (
            "DTSTART:20300308T050000Z RRULE:INTERVAL=1;FREQ=DAILY EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU "
            "RRULE:FREQ=DAILY;INTERVAL=1;COUNT=2000",
            "COUNT > 999 is unsupported",
        ),
        (
            "DTSTART:NONSENSE RRULE:NONSENSE RRULE:FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=3,4",
            "Valid DTSTART required in rrule",
        ),
        (
            "DTSTART;TZID=US-Eastern:19961105T090000 RRULE:FREQ=MINUTELY;INTERVAL=10;COUNT=5",
            "A valid TZID must be provided",
        ),
        (
            "DTSTART:20300308T050000Z RRULE:FREQ=REGULARLY;INTERVAL=1",
            "rrule parsing failed validation: invalid 'FREQ': REGULARLY",
        ),
        (
            "DTSTART;TZID=America/New_York:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1",
            "rrule parsing failed validation",
        ),
    ],
)
def test_awx_rejects(rrule, error):
    errors = awx_rules.rrule_errors(rrule)
    assert any(error in message for message in errors), errors


def test_awx_reports_every_error_of_a_ruleset():
    errors = awx_rules.rrule_errors(
        "EXRULE:FREQ=SECONDLY DTSTART;TZID=US-Eastern:19961105T090000 "
        "RRULE:FREQ=MINUTELY;INTERVAL=10;COUNT=5;UNTIL=20220101 DTSTART;TZID=US-Eastern:19961105T090000"
    )
    assert errors == [
        "Multiple DTSTART is not supported.",
        "INTERVAL required in rrule: RULE:FREQ=SECONDLY",
        "RRULE may not contain both COUNT and UNTIL: RULE:FREQ=MINUTELY;INTERVAL=10;COUNT=5;UNTIL=20220101",
        "rrule parsing failed validation: 'NoneType' object has no attribute 'group'",
    ]


@pytest.mark.parametrize(
    "rrule",
    [
        "DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5",
        "DTSTART;TZID=America/New_York:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5",
        "DTSTART;TZID=UTC:20260104T020000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=SU;BYSETPOS=1",
        # AWX looks at the first BYDAY value only, and not at a negative prefix: both pass its check.
        "DTSTART;TZID=UTC:20260104T020000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=-1SU",
        "DTSTART;TZID=UTC:20260104T020000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=SU,2MO",
        "DTSTART;TZID=America/New_York:20300302T150000 RRULE:INTERVAL=1;FREQ=DAILY;UNTIL=20300304T1500 "
        "EXRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU",
    ],
)
def test_awx_accepts(rrule):
    assert awx_rules.rrule_errors(rrule) == []


def _local(rrule, count=10):
    return [str(run) for run in awx_rules.next_occurrences(rrule, BEFORE_2030, count)]


def test_utc_preview():
    runs = awx_rules.next_occurrences("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5", BEFORE_2030)
    assert [str(run.astimezone(datetime.timezone.utc)) for run in runs] == [
        "2030-03-08 05:00:00+00:00",
        "2030-03-09 05:00:00+00:00",
        "2030-03-10 05:00:00+00:00",
        "2030-03-11 05:00:00+00:00",
        "2030-03-12 05:00:00+00:00",
    ]


def test_nyc_with_dst_keeps_the_local_time():
    rrule = "DTSTART;TZID=America/New_York:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5"
    assert _local(rrule) == [
        "2030-03-08 05:00:00-05:00",
        "2030-03-09 05:00:00-05:00",
        "2030-03-10 05:00:00-04:00",
        "2030-03-11 05:00:00-04:00",
        "2030-03-12 05:00:00-04:00",
    ]


def test_dst_phantom_hour_is_skipped():
    rrule = "DTSTART;TZID=America/New_York:20300303T023000 RRULE:FREQ=WEEKLY;BYDAY=SU;INTERVAL=1;COUNT=3"
    assert _local(rrule) == ["2030-03-03 02:30:00-05:00", "2030-03-17 02:30:00-04:00"]


def test_dst_rollback_is_not_counted_twice():
    rrule = "DTSTART;TZID=America/New_York:20301102T233000 RRULE:FREQ=HOURLY;INTERVAL=1;COUNT=5"
    assert _local(rrule) == [
        "2030-11-02 23:30:00-04:00",
        "2030-11-03 00:30:00-04:00",
        "2030-11-03 01:30:00-04:00",
        "2030-11-03 02:30:00-05:00",
        "2030-11-03 03:30:00-05:00",
    ]


def test_first_sunday_of_the_month_as_awx_writes_it():
    rrule = "DTSTART;TZID=America/New_York:20300101T210000 RRULE:FREQ=MONTHLY;BYDAY=SU;BYSETPOS=1;INTERVAL=1;COUNT=3"
    assert _local(rrule) == ["2030-01-06 21:00:00-05:00", "2030-02-03 21:00:00-05:00", "2030-03-03 21:00:00-05:00"]


def test_fast_forwarded_rules_are_not_guessed():
    errors = awx_rules.rrule_errors("DTSTART;TZID=UTC:20260101T000000 RRULE:FREQ=HOURLY;INTERVAL=1")
    assert errors and "not modelled" in errors[0]


def test_timezone_as_awx_reports_it():
    assert awx_rules.timezone_name("DTSTART:20300308T050000Z RRULE:FREQ=DAILY;INTERVAL=1") == "UTC"
    assert awx_rules.timezone_name("DTSTART;TZID=UTC:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1") == "UTC"
    assert (
        awx_rules.timezone_name("DTSTART;TZID=Europe/Berlin:20300308T050000 RRULE:FREQ=DAILY;INTERVAL=1")
        == "Europe/Berlin"
    )


def _spec(*questions):
    return {"name": "n", "description": "d", "spec": list(questions)}


def _question(**fields):
    base = {"question_name": "q", "variable": "v", "type": "text", "required": False}
    base.update(fields)
    return base


@pytest.mark.parametrize(
    "spec, error",
    [
        ({"description": "d", "spec": [_question()]}, "Field 'name' is missing from survey spec."),
        ({"name": "n", "description": "d", "spec": {}}, "Expected list of items for field 'spec', received dict type."),
        (_spec(), "'spec' doesn't contain any items."),
        (_spec("text"), "Survey question 0 is not a json object."),
        (_spec({"question_name": "q", "variable": "v", "type": "text"}), "'required' missing from survey question 0"),
        (_spec(_question(required="true")), "'required' in survey question 0 expected to be boolean."),
        (_spec(_question(), _question()), "'variable' 'v' duplicated in survey question 1."),
        (_spec(_question(type="boolean")), "'boolean' in survey question 0 is not one of"),
        (
            _spec(_question(type="integer", default="24")),
            "Default value 24 in survey question 0 expected to be integer.",
        ),
        (_spec(_question(type="multiplechoice", choices=["true", "false"], default=True)), "expected to be string."),
        (_spec(_question(max="128")), "The max limit in survey question 0 expected to be integer."),
        (_spec(_question(type="multiplechoice")), "Survey question 0 of type multiplechoice must specify choices."),
        (
            _spec(_question(type="multiplechoice", choices=["a", "b"], default="a\nb")),
            "can only have one default value.",
        ),
        (
            _spec(_question(type="multiplechoice", choices=["a", "b"], default="c")),
            "Default choice must be answered from the choices listed.",
        ),
        (_spec(_question(type="password", default="$encrypted$")), "$encrypted$ is a reserved keyword"),
    ],
)
def test_awx_refuses_the_survey(spec, error):
    errors = awx_rules.survey_spec_errors(spec)
    assert any(error in message for message in errors), errors


def test_awx_takes_a_float_default_written_as_an_int_and_an_empty_default_of_any_type():
    spec = _spec(_question(type="float", default=5, variable="a"), _question(type="integer", default="", variable="b"))
    assert awx_rules.survey_spec_errors(spec) == []


def test_answers_at_launch():
    text = _question(variable="tag", required=True, min=1, max=3)
    assert awx_rules.survey_answer_errors(text, {}) == ["'tag' value missing"]
    assert awx_rules.survey_answer_errors(text, {"tag": ""}) == [
        "'tag' value  is too small (length is 0 must be at least 1)."
    ]
    assert awx_rules.survey_answer_errors(text, {"tag": "1.1"}) == []
    hours = _question(variable="hours", type="integer", min=1, max=8760)
    assert awx_rules.survey_answer_errors(hours, {"hours": "24"}) == ["Value 24 for 'hours' expected to be an integer."]
    assert awx_rules.survey_answer_errors(hours, {"hours": 9000}) == [
        "'hours' value 9000 is too large (must be no more than 8760)."
    ]


def test_a_variable_needs_a_survey_question_or_the_prompt():
    template = {"survey_enabled": True, "survey_spec": _spec(_question(variable="tag"))}
    assert awx_rules.launch_errors(template, {"extra_data": {"tag": "x"}}) == []
    assert (
        "Variables other are not allowed on launch"
        in awx_rules.launch_errors(template, {"extra_data": {"other": 1}})[0]
    )
    assert awx_rules.launch_errors({**template, "ask_variables_on_launch": True}, {"extra_data": {"other": 1}}) == []


def test_a_launch_field_needs_its_ask_flag():
    assert awx_rules.launch_errors({}, {"limit": "app1"}) == ["limit is given but ask_limit_on_launch is not set"]
    assert awx_rules.launch_errors({"ask_limit_on_launch": True}, {"limit": "app1"}) == []
    assert awx_rules.launch_errors({}, {"job_tags": "x"}) == ["job_tags is given but ask_tags_on_launch is not set"]


def test_notification_settings_as_awx_checks_them():
    mail = {
        "host": "smtp",
        "port": 587,
        "username": "u",
        "password": "",
        "use_tls": True,
        "use_ssl": False,
        "sender": "a@b",
        "recipients": ["c@d"],
    }
    assert awx_rules.notification_errors("email", mail) == []
    assert awx_rules.notification_errors("email", {**mail, "port": "587"}) == [
        "Configuration field 'port' incorrect type, expected int."
    ]
    assert awx_rules.notification_errors("email", {**mail, "recipients": []}) == [
        "No values specified for field 'recipients'"
    ]
    no_password = {key: value for key, value in mail.items() if key != "password"}
    assert awx_rules.notification_errors("email", no_password) == [
        "Missing required fields for Notification Configuration: ['password']."
    ]
    assert awx_rules.notification_errors("webhook", {"url": "https://x", "headers": {}, "http_method": "GET"}) == [
        "HTTP method must be either 'POST' or 'PUT'."
    ]


def test_notification_messages_as_awx_checks_them():
    hook = {"url": "https://x", "headers": {}}
    assert awx_rules.notification_errors("webhook", hook, {"error": {"body": '{"id": {{ job.id }}}'}}) == []
    assert awx_rules.notification_errors("webhook", hook, {"failed": {"body": "x"}}) == ["Event 'failed' invalid"]
    assert awx_rules.notification_errors("webhook", hook, {"error": {"message": "a\nb"}}) == [
        "Messages cannot contain newlines (found newline in error event)"
    ]
    assert awx_rules.notification_errors("webhook", hook, {"error": {"body": "{{ job.nonsense }}"}})[0].startswith(
        "Unable to render"
    )
