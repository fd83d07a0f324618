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
      - Time allowed for each request, connection and answer together, in seconds (V(10), V(2.5))
        or as a duration (V(10s), V(500ms)); more than 0 and at most an hour (3600 seconds).
    type: raw
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
  - stronghold.ops.attributes
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    details: The requests are read-only and are sent in check mode too.
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
  contains:
    status:
      description: HTTP status of the answer; null when there was none.
      type: int
      sample: 200
    elapsed_ms:
      description: Time from the request to the end of the answer (or to the failure), in milliseconds.
      type: float
      sample: 41.7
    error:
      description: Why no answer came; null when one did.
      type: str
      sample: null
    error_kind:
      description:
        - V(dns), V(connect), V(timeout), V(tls) or V(error) when no answer came, V(status) when its
          status is not accepted, V(body) when its body does not match; null when the request passed.
      type: str
      sample: null
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
  contains:
    check:
      description: O(check_name).
      type: str
      sample: health.http
    target:
      description: O(url).
      type: str
      sample: http://127.0.0.1:8000/api/v1/health/
    severity:
      description: V(ok), V(warning) or V(critical).
      type: str
      sample: warning
    summary:
      description: One line for the on-call person.
      type: str
      sample: answered 200 in 612 ms (median of 3), above the 500 ms warning threshold
    details:
      description:
        - samples, failed, elapsed_ms, statistic, warning_ms, critical_ms, statuses (one per
          request), and failures (one line per failed request) when any failed.
      type: dict
      sample: {elapsed_ms: 612.0, samples: 3}
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


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._http_judge import build_result, check_options
from ansible_collections.stronghold.ops.plugins.module_utils._http_probe import probe
from ansible_collections.stronghold.ops.plugins.module_utils._options import duration_spec

ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "samples": {"type": "int", "default": 3},
    "timeout": duration_spec(10),
    "accepted_status": {"type": "list", "elements": "str", "default": ["2xx"]},
    "body_pattern": {"type": "str"},
    "warning_ms": {"type": "float", "default": 500},
    "critical_ms": {"type": "float"},
    "statistic": {"type": "str", "choices": ["median", "max"], "default": "median"},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "headers": {"type": "dict", "default": {}},
    "check_name": {"type": "str", "default": "health.http"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        settings = check_options(module.params)
        requests = [
            probe(
                settings["url"],
                timeout=settings["timeout"],
                validate_certs=settings["validate_certs"],
                ca_path=settings["ca_path"],
                headers=settings["headers"],
            )
            for dummy in range(settings["samples"])
        ]
        result = build_result(settings, requests)
    except FindingError as exc:
        result = {"msg": str(exc)}
    if "msg" in result:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
