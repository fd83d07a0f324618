#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_check
short_description: Check an HTTP health endpoint for status, body and response time, as a finding
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Sends O(samples) requests to a health endpoint such as C(/api/v1/health/), times each with a
    monotonic clock in milliseconds (M(ansible.builtin.uri) reports whole seconds only), and
    turns the outcome into a finding of the collection's findings model.
  - A request that gets no answer, an answer whose status is not accepted, or a body that does
    not match O(body_pattern) is critical (the runbook treats a failing health check as
    critical), even when it is only one of the samples. Otherwise the response time
    (O(statistic) over the samples) is compared with O(warning_ms) and O(critical_ms).
  - Failures are classified (V(dns), V(connect), V(timeout), V(tls), V(status), V(body)) so the
    on-call person knows where to look.
  - The module never fails because the endpoint is unhealthy; it reports. It fails only on bad
    input.
options:
  url:
    description: The URL to request (http or https).
    type: str
    required: true
  samples:
    description: Number of requests, sent one after another (1 to 20).
    type: int
    default: 3
  timeout:
    description:
      - Seconds allowed for each request, connection and answer together; more than 0 and at
        most 3600 (a finite number).
    type: float
    default: 10
  accepted_status:
    description: Accepted HTTP statuses, as codes (V(200)) or classes (V(2xx)). Redirects are not followed.
    type: list
    elements: str
    default: ['2xx']
  body_pattern:
    description: A regular expression the body must match (searched, not anchored).
    type: str
  warning_ms:
    description:
      - Response time in milliseconds above which the finding is a warning (runbook, 500 ms);
        a finite number from 0 to 3600000, as O(critical_ms).
    type: float
    default: 500
  critical_ms:
    description: Response time in milliseconds above which the finding is critical; none by default.
    type: float
  statistic:
    description: Which response time over the samples is compared with the thresholds.
    type: str
    choices: [median, max]
    default: median
  validate_certs:
    description: Verify the server certificate for https URLs.
    type: bool
    default: true
  ca_path:
    description: A CA bundle to trust instead of the system store for https URLs.
    type: path
  headers:
    description: Extra request headers, for example C(Host) when the application checks it.
    type: dict
    default: {}
  check_name:
    description: Name of the check in the finding.
    type: str
    default: health.http
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - stronghold.ops.findings
attributes:
  check_mode:
    support: full
    details: The requests are read-only and are sent in check mode too.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Check the application health endpoint against the runbook's thresholds
  stronghold.ops.http_check:
    url: http://127.0.0.1:8000/api/v1/health/
    warning_ms: 500
    body_pattern: '"status":\s*"ok"'
  register: http_health

- name: A public endpoint through the load balancer, three requests, the slowest counts
  stronghold.ops.http_check:
    url: https://yourdomain.com/api/v1/health/
    statistic: max
    critical_ms: 2000
"""

RETURN = r"""
ok:
  description: True when every request was answered with an accepted status and a matching body.
  returned: always
  type: bool
  sample: true
status:
  description: HTTP status of the last answered request; null when none was answered.
  returned: always
  type: int
  sample: 200
elapsed_ms:
  description: The response time compared with the thresholds (O(statistic) over answered requests).
  returned: always
  type: float
  sample: 41.7
requests:
  description: Each request with its status, time, and error kind when it failed.
  returned: always
  type: list
  elements: dict
  sample:
    - {status: 200, elapsed_ms: 41.7, error: null, error_kind: null}
json:
  description: The body of the last answer parsed as JSON, when it is JSON.
  returned: when the body is JSON
  type: dict
  sample: {status: ok, database: ok, version: 1.1.0}
findings:
  description: One finding in the collection's findings model.
  returned: always
  type: list
  elements: dict
  sample:
    - check: health.http
      target: http://127.0.0.1:8000/api/v1/health/
      severity: warning
      summary: answered 200 in 612 ms (median of 3), above the 500 ms warning threshold
      details: {elapsed_ms: 612.0, samples: 3}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    FindingError,
    bounded_number,
    make_finding,
    severity_for_value,
)
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import (
    median,
    probe,
    status_accepted,
    valid_status_spec,
)

# Seconds: a longer socket timeout is no health check (and a huge one overflows the socket call).
MAX_TIMEOUT = 3600


def judge(url, requests, accepted, pattern, warning_ms, critical_ms, statistic, check_name):
    """Turn the requests into one finding (pure: no I/O)."""
    failures = []
    for index, request in enumerate(requests, 1):
        if request["status"] is None:
            failures.append("request %d: %s (%s)" % (index, request["error"], request["error_kind"]))
        elif not status_accepted(request["status"], accepted):
            request["error_kind"] = "status"
            failures.append("request %d: status %d not accepted" % (index, request["status"]))
        elif pattern is not None and not pattern.search(request["body"]):
            request["error_kind"] = "body"
            failures.append("request %d: body does not match %r" % (index, pattern.pattern))
    times = [r["elapsed_ms"] for r in requests if r["status"] is not None]
    elapsed = None
    if times:
        elapsed = max(times) if statistic == "max" else median(times)
    details = {
        "samples": len(requests),
        "failed": len(failures),
        "elapsed_ms": elapsed,
        "statistic": statistic,
        "warning_ms": warning_ms,
        "critical_ms": critical_ms,
        "statuses": [r["status"] for r in requests],
    }
    if failures:
        details["failures"] = failures
        summary = "%d of %d requests failed: %s" % (len(failures), len(requests), failures[0])
        return make_finding(check_name, url, "critical", summary, details), elapsed
    severity = severity_for_value(elapsed, warning=warning_ms, critical=critical_ms)
    summary = "answered %d in %.0f ms (%s of %d)" % (requests[-1]["status"], elapsed, statistic, len(requests))
    if severity != "ok":
        limit = critical_ms if severity == "critical" else warning_ms
        summary += ", above the %.0f ms %s threshold" % (limit, severity)
    return make_finding(check_name, url, severity, summary, details), elapsed


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "samples": {"type": "int", "default": 3},
            "timeout": {"type": "float", "default": 10},
            "accepted_status": {"type": "list", "elements": "str", "default": ["2xx"]},
            "body_pattern": {"type": "str"},
            "warning_ms": {"type": "float", "default": 500},
            "critical_ms": {"type": "float"},
            "statistic": {"type": "str", "choices": ["median", "max"], "default": "median"},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
            "headers": {"type": "dict", "default": {}},
            "check_name": {"type": "str", "default": "health.http"},
        },
        supports_check_mode=True,
    )
    p = module.params
    url = p["url"].strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        module.fail_json(msg="url %r is not a valid URL: %s" % (url, exc))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        module.fail_json(msg="url %r must be an http:// or https:// URL with a host" % url)
    if port is not None and not 0 < port < 65536:
        module.fail_json(msg="url %r has port %d, outside 1-65535" % (url, port))
    if not 1 <= p["samples"] <= 20:
        module.fail_json(msg="samples must be between 1 and 20, got %d" % p["samples"])
    try:
        # A socket timeout beyond an hour is no health check; NaN or infinity would pass a
        # plain comparison and fail every request as a false alarm.
        bounded_number(p["timeout"], "timeout", above=0, maximum=MAX_TIMEOUT)
        for name in ("warning_ms", "critical_ms"):
            if p[name] is not None:
                bounded_number(p[name], name, minimum=0, maximum=MAX_TIMEOUT * 1000)
    except FindingError as exc:
        module.fail_json(msg=str(exc))
    bad = [s for s in p["accepted_status"] if not valid_status_spec(s)]
    if bad or not p["accepted_status"]:
        module.fail_json(
            msg="accepted_status must list HTTP codes (100-599) or classes such as 2xx; bad: %s" % ", ".join(bad)
        )
    pattern = None
    if p["body_pattern"] is not None:
        try:
            pattern = re.compile(p["body_pattern"])
        except re.error as exc:
            module.fail_json(msg="body_pattern is not a valid regular expression: %s" % exc)
    if p["critical_ms"] is not None and p["warning_ms"] is not None and p["warning_ms"] > p["critical_ms"]:
        module.fail_json(msg="warning_ms (%s) must not exceed critical_ms (%s)" % (p["warning_ms"], p["critical_ms"]))

    requests = [
        probe(url, timeout=p["timeout"], validate_certs=p["validate_certs"], ca_path=p["ca_path"], headers=p["headers"])
        for dummy in range(p["samples"])
    ]
    try:
        finding, elapsed = judge(
            url,
            requests,
            p["accepted_status"],
            pattern,
            p["warning_ms"],
            p["critical_ms"],
            p["statistic"],
            p["check_name"],
        )
    except FindingError as exc:
        module.fail_json(msg="check_name: %s" % exc)

    answered = [r for r in requests if r["status"] is not None]
    result = {
        "changed": False,
        "ok": not finding["details"].get("failures"),
        "status": answered[-1]["status"] if answered else None,
        "elapsed_ms": elapsed,
        "requests": [dict((k, r[k]) for k in ("status", "elapsed_ms", "error", "error_kind")) for r in requests],
        "findings": [finding],
        "worst_severity": finding["severity"],
    }
    if answered:
        try:
            document = json.loads(answered[-1]["body"])
        except ValueError:
            document = None
        if isinstance(document, dict):
            result["json"] = document
    module.exit_json(**result)


if __name__ == "__main__":
    main()
