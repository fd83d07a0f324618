# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters that let roles build and weigh findings with the collection's own model.

Each filter is documented in the YAML file of the same name beside this one.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import judge_services
from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    findings_of_result,
    make_finding,
    parse_duration,
    parse_percent,
    parse_size,
    severity_at_least,
    severity_for_value,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import url_problem


def _wrap(func):
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except FindingError as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def finding(check, target, severity, summary, details=None):
    return make_finding(check, target, severity, summary, details)


def threshold_severity(value, warning=None, critical=None, direction="above"):
    return severity_for_value(value, warning=warning, critical=critical, direction=direction)


def compose_service_findings(containers, project, services, check="health.containers"):
    return judge_services(containers, project, services, check=check)


def http_url_problem(url, name="url"):
    return url_problem(url, name)


def result_findings(result, check, target, what, skipped=None):
    return findings_of_result(result, check, target, what, skipped=skipped)


def duration_seconds(value):
    return parse_duration(value)


def size_bytes(value):
    return parse_size(value)


def percent(value):
    return parse_percent(value)


class FilterModule:
    def filters(self):
        return {
            "finding": _wrap(finding),
            "worst_severity": _wrap(worst_severity),
            "severity_at_least": _wrap(severity_at_least),
            "threshold_severity": _wrap(threshold_severity),
            "compose_service_findings": _wrap(compose_service_findings),
            "http_url_problem": _wrap(http_url_problem),
            "result_findings": _wrap(result_findings),
            "duration_seconds": _wrap(duration_seconds),
            "size_bytes": _wrap(size_bytes),
            "percent": _wrap(percent),
        }
