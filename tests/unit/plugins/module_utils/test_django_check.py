# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.stronghold.ops.plugins.module_utils._django_check import (
    deploy_check_findings,
    parse_check_output,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import validate_finding

# The lab app's real output (Django 5.2, DEBUG false; messages shortened), stderr, exit code 0.
LAB = """System check identified some issues:

WARNINGS:
?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is served ...
?: (security.W008) Your SECURE_SSL_REDIRECT setting is not set to True.
?: (security.W012) SESSION_COOKIE_SECURE is not set to True.
?: (security.W016) You have 'django.middleware.csrf.CsrfViewMiddleware' in your MIDDLEWARE, but you have not set CSRF_COOKIE_SECURE to True.

System check identified 4 issues (0 silenced).
"""

WITH_ERRORS = """SystemCheckError: System check identified some issues:

ERRORS:
?: (security.E100) DEFAULT_HASHING_ALGORITHM must be 'sha1' or 'sha256'.
core.Account: (models.E004) 'id' can only be used as a field name if the field also sets 'primary_key=True'.
\tHINT: Rename the field.
WARNINGS:
?: (security.W018) You should not have DEBUG set to True in deployment.

System check identified 3 issues (1 silenced).
"""

TARGET = "web: manage.py check --deploy"


def test_the_lab_warnings_are_one_warning_finding_each_named_by_id():
    found = deploy_check_findings(0, "", LAB, TARGET)
    assert [(f["target"], f["severity"]) for f in found] == [
        ("security.W004", "warning"),
        ("security.W008", "warning"),
        ("security.W012", "warning"),
        ("security.W016", "warning"),
    ]
    assert found[1]["summary"] == "Your SECURE_SSL_REDIRECT setting is not set to True."
    assert found[0]["details"]["object"] == "?" and found[0]["details"]["level"] == "WARNINGS"
    for item in found:
        validate_finding(item)


def test_errors_are_critical_with_their_hint_and_the_failed_command_adds_nothing_more():
    found = deploy_check_findings(1, "", WITH_ERRORS, TARGET)
    assert [(f["target"], f["severity"]) for f in found] == [
        ("security.E100", "critical"),
        ("models.E004", "critical"),
        ("security.W018", "warning"),
    ]
    assert found[1]["details"]["object"] == "core.Account"
    assert found[1]["details"]["hint"] == "Rename the field."


def test_accepted_ids_are_info():
    found = deploy_check_findings(0, "", LAB, TARGET, accepted=["security.W008"])
    assert [f["severity"] for f in found] == ["warning", "info", "warning", "warning"]
    assert found[1]["summary"].startswith("accepted: ")


def test_a_failed_command_without_messages_is_critical_with_its_last_line():
    output = "Traceback (most recent call last):\n  File x\nModuleNotFoundError: No module named 'financial_stronghold'"
    found = deploy_check_findings(1, "", output, TARGET)
    assert [(f["target"], f["severity"]) for f in found] == [(TARGET, "critical")]
    assert found[0]["summary"].endswith("ModuleNotFoundError: No module named 'financial_stronghold'")
    assert found[0]["details"]["output_tail"][0] == "Traceback (most recent call last):"


def test_a_command_that_did_not_run_is_critical():
    found = deploy_check_findings(None, None, None, TARGET, msg="no running container for service web")
    assert found[0]["severity"] == "critical"
    assert found[0]["summary"] == "check --deploy did not run: no running container for service web"


def test_no_issues_is_ok():
    found = deploy_check_findings(0, "System check identified no issues (0 silenced).\n", "", TARGET)
    assert [(f["severity"], f["summary"]) for f in found] == [("ok", "check --deploy found no issues")]


def test_warnings_with_a_failing_exit_code_add_a_critical_finding():
    # --fail-level WARNING makes warnings fail the command: the failure is reported too.
    found = deploy_check_findings(1, "", "SystemCheckError: " + LAB, TARGET)
    assert [f["severity"] for f in found] == ["warning"] * 4 + ["critical"]


def test_text_outside_a_level_section_is_not_a_message():
    assert parse_check_output("?: (security.W004) before any header\n") == []


def test_the_failure_names_the_line_that_says_what_went_wrong_not_the_usage_hint():
    output = "Unknown command: 'no_such_command'\nType 'manage.py help' for usage."
    found = deploy_check_findings(1, "", output, TARGET)
    assert found[0]["summary"] == "check --deploy failed with exit code 1: Unknown command: 'no_such_command'"
