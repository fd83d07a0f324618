#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: alert_state
short_description: Plan the one alert of a run from the findings of every host, and record what was delivered
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's C(send_alert.sh). One alert per run for the whole play, grouped by
    host, never one message per finding. The module sends nothing itself; O(action=plan)
    renders the exact mail (subject, plain-text body, recipients) and webhook (body in the shape
    of Alertmanager's webhook version 4, and its headers); the calling role sends them (for
    example with M(community.general.mail) and M(ansible.builtin.uri)) and then calls
    O(action=record) with what was delivered.
  - Each finding at or above O(severity) is an alert identified by its fingerprint, a hash of its
    host, check and target. A small state file (O(state_path), one per run name) remembers the
    alerts across runs, so each alert is V(new), V(ongoing) (repeated only after
    O(repeat_interval), or at once when its severity rose), V(resolved) (said once, when its
    host was checked and the finding is gone) or V(muted).
  - Inhibition (O(inhibit)). A host that is down (failed or unreachable) mutes its other alerts,
    and those its state remembers, until it is back; only its C(run.host) alert is sent. A
    critical alert mutes the warning and info alerts of the same host and target whose check is
    in the same area (the part of the check before the first dot, such as C(resources)).
  - Hosts that are not in O(hosts) (another slice of the fleet, C(--limit)) never resolve
    anything; their alerts in the state are left as they are.
  - O(action=plan) only reads, and runs the same in check mode. O(action=record) writes the state
    atomically (mode 0600) and nothing in check mode.
options:
  action:
    description:
      - V(plan) decides which alerts are due and renders the messages; it writes nothing.
      - V(record) updates the state after delivery, from O(plan) and O(delivered).
    type: str
    choices: [plan, record]
    required: true
  state_path:
    description:
      - The state file of the run, one per run name (for example
        C(<report_dir>/_alerts/daily.json)). Its directory must exist for O(action=record).
      - A missing file is a first run; an unreadable, cut, foreign or older-version file is read
        as no state, with an V(info) finding saying why, and never fails the task.
    type: path
    required: true
  run:
    description:
      - Name of the run (V(daily), V(weekly)), in the subject, the webhook's C(groupKey) and every
        alert's C(run) label. At most 200 characters, no newlines. Required with O(action=plan).
    type: str
  hosts:
    description:
      - One entry per host of the play, as the report role builds them. A host with O(hosts[].status=down)
        gets a critical C(run.host) finding.
      - Used by O(action=plan).
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: Inventory name of the host.
        type: str
        required: true
      status:
        description: V(ok) when the host's checks reported, V(down) when it failed or was unreachable.
        type: str
        choices: [ok, down]
        default: ok
      reason:
        description: Why a down host is down (the failed task's message).
        type: str
      findings:
        description: The findings of the host (the collection's findings model).
        type: list
        elements: dict
      reports:
        description: The host's reports by kind (C(markdown), C(json)) and path.
        type: dict
      timing:
        description:
          - The host's own time per check (C(wall_s), C(checks), C(tasks)) as the P(stronghold.ops.timing#callback)
            callback measured it; validated with the rest of the entry, not used by the alert.
        type: dict
        version_added: 0.2.0
  severity:
    description: The least severity that alerts.
    type: str
    choices: [info, warning, critical]
    default: warning
  repeat_interval:
    description:
      - How long an ongoing alert waits before it is sent again (a duration). V(0) repeats every
        ongoing alert at every run. An alert whose severity rose is sent at once.
      - When the clock is behind the last notification (it went backwards), the alert is not
        repeated.
    type: raw
    default: 24h
  send_resolved:
    description: Send one "resolved" message for an alert that was notified and is gone.
    type: bool
    default: true
  always:
    description:
      - Send a digest even when nothing is due (RV(notify) is then true).
      - When nothing is due, RV(subject), RV(body), RV(recipients) and RV(webhook) are that digest
        whether it is sent or not. It lists the ongoing alerts (section C(Ongoing)), or says
        C(OK ... nothing firing) and then goes to every address of O(recipients).
    type: bool
    default: false
  inhibit:
    description: Apply the inhibition rules (a down host mutes its other alerts; a critical mutes the lesser ones).
    type: bool
    default: true
  title:
    description:
      - 'The runbook''s words after the severity in the subject (C(CRITICAL: Financial Stronghold
        Alert)). At most 200 characters, no newlines.'
    type: str
    default: Financial Stronghold Alert
  recipients:
    description:
      - Severity (V(critical), V(warning), V(info)) to a list of mail addresses or names of
        O(contacts). The mail goes to the addresses of every severity among the alerts it names
        (a resolved alert with its last severity), in that order (critical first), each address
        once. An empty list is allowed.
      - A name that is neither a known contact nor an address is an error.
    type: dict
    default: {}
  contacts:
    description: The runbook's contact list as inventory data, contact name to mail address.
    type: dict
    default: {}
  webhook_secret:
    description:
      - When set, RV(webhook.headers) carries C(X-Stronghold-Signature) with C(sha256=) and the hex
        HMAC-SHA256 of the exact RV(webhook.body) with this secret (the body is ASCII JSON, so the
        bytes signed are the bytes sent).
    type: str
  receiver:
    description: The C(receiver) of the webhook payload (an Alertmanager receiver name).
    type: str
    default: stronghold
  external_url:
    description:
      - A link to the run report, at the end of the mail and as C(externalURL) and each alert's
        C(generatorURL) in the webhook. A URL without spaces, or the absolute path of the report on
        the controller (shown as it is in the mail, a C(file://) URL in the webhook); empty for none.
    type: str
    default: ''
  max_alerts:
    description:
      - At most this many alerts are named in the mail and the webhook (the worst first), as
        Alertmanager's C(max_alerts); the others are counted in C(truncatedAlerts) and stay due for
        the next run. V(0) names all.
    type: int
    default: 0
  plan:
    description:
      - The registered result of the O(action=plan) task of this run. Required with O(action=record).
    type: dict
  delivered:
    description:
      - What the delivery tasks did, one item per channel tried. Empty when nothing was sent or no
        channel is configured. Used by O(action=record).
      - An alert counts as delivered when any channel has O(delivered[].ok=true).
    type: list
    elements: dict
    default: []
    suboptions:
      channel:
        description: Name of the channel (V(mail), V(webhook)); the target of its C(alert.delivery) finding.
        type: str
        required: true
      ok:
        description: True when the channel delivered the message.
        type: bool
        required: true
      error:
        description: Why it did not.
        type: str
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    details:
      - O(action=plan) is read-only and renders the exact messages in check mode too.
      - O(action=record) writes nothing in check mode; RV(state) and RV(changed) say what would be written.
notes:
  - The plan and the record of one run are sequential tasks, and one state file belongs to one
    run name. The record reads the state again just before it writes and changes only the alerts
    its plan names, so the entries of other hosts are kept; two runs of the same name at the same
    moment are not supported (the last write wins).
  - The fingerprint is the first 16 hex digits of the SHA-256 of host, check and target; the
    severity and the summary are not part of it. Long targets and summaries are cut in the subject,
    the body lines (200 characters), the webhook labels and the state (1000 characters), never in
    the fingerprint.
  - Ansible masks the value of every C(no_log) option wherever it appears in a result, so a
    O(webhook_secret) that is also a word of the message (a host name, V(daily)) would be replaced
    by C(********) in RV(body) and RV(webhook.body) after they were signed. Use a long random secret.
  - Host names, targets and summaries are shown on one line, with newlines and control
    characters escaped (C(\\n)).
seealso:
  - module: stronghold.ops.run_report
  - module: community.general.mail
  - module: ansible.builtin.uri
  - name: Alertmanager webhook configuration (webhook version 4)
    description: The payload shape the webhook body follows.
    link: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

EXAMPLES = r"""
- name: Plan the alert of the daily run
  stronghold.ops.alert_state:
    action: plan
    state_path: /var/log/stronghold/reports/_alerts/daily.json
    run: daily
    hosts: "{{ report_hosts }}"
    severity: warning
    repeat_interval: 24h
    contacts:
      admin: admin@yourdomain.com
      oncall: oncall@yourdomain.com
    recipients:
      critical: [oncall, admin]
      warning: [admin]
    webhook_secret: "{{ vault_alert_webhook_secret }}"
    external_url: https://reports.yourdomain.com/daily/latest.html
  register: alert_plan
  run_once: true
  delegate_to: localhost

- name: Send the mail
  community.general.mail:
    host: smtp.yourdomain.com
    port: 587
    secure: starttls
    to: "{{ alert_plan.recipients }}"
    subject: "{{ alert_plan.subject }}"
    body: "{{ alert_plan.body }}"
  when: alert_plan.notify and alert_plan.recipients | length > 0 and not ansible_check_mode
  register: alert_mail
  ignore_errors: true
  run_once: true
  delegate_to: localhost

- name: Post the webhook
  ansible.builtin.uri:
    url: https://hooks.yourdomain.com/alertmanager
    method: POST
    body: "{{ alert_plan.webhook.body }}"
    headers: "{{ alert_plan.webhook.headers }}"
  when: alert_plan.notify and not ansible_check_mode
  register: alert_hook
  ignore_errors: true
  run_once: true
  delegate_to: localhost

- name: Record what was delivered
  stronghold.ops.alert_state:
    action: record
    state_path: /var/log/stronghold/reports/_alerts/daily.json
    plan: "{{ alert_plan }}"
    delivered:
      - channel: mail
        ok: "{{ alert_mail is succeeded and alert_mail is not skipped }}"
        error: "{{ alert_mail.msg | default('') }}"
      - channel: webhook
        ok: "{{ alert_hook is succeeded and alert_hook is not skipped }}"
        error: "{{ alert_hook.msg | default('') }}"
  register: alert_record
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
notify:
  description: True when a message should be sent (some alert is due, or O(always)).
  returned: action is plan
  type: bool
  sample: true
status:
  description:
    - V(firing) when the message names a firing alert, V(resolved) when it names only resolved
      ones, V(ok) when it names none.
  returned: action is plan
  type: str
  sample: firing
severity:
  description: The worst severity among the firing alerts the message names; V(ok) when none.
  returned: action is plan
  type: str
  sample: critical
subject:
  description:
    - 'The mail subject, the runbook''s words first: C(CRITICAL: Financial Stronghold Alert - daily:
      2 new, 1 repeated, 1 resolved), only the counts that are not zero; C(RESOLVED: ...) with only
      resolved alerts; C(OK: ... nothing firing) for an O(always) digest with nothing firing.'
  returned: action is plan
  type: str
  sample: "CRITICAL: Financial Stronghold Alert - daily: 2 new, 1 resolved"
body:
  description:
    - The plain-text mail. The subject, then the hosts (those with a critical alert first), each
      with its sections C(New), C(Repeated (still firing)), C(Ongoing) (digest only) and
      C(Resolved), one line per alert, C(SEVERITY check target) then the summary and C((since first_seen)); then
      the count of ongoing alerts not repeated and of muted ones, and O(external_url).
  returned: action is plan
  type: str
  sample: |
    CRITICAL: Financial Stronghold Alert - daily: 2 new

    db1 (down: unreachable)
      New
        CRITICAL run.host db1: unreachable: none of its checks reported in this run (since 2026-12-05T12:00:00Z)

    web1
      New
        WARNING resources.disk /: disk 87% used (since 2026-12-05T12:00:00Z)

    0 ongoing alerts not repeated, 2 muted.
recipients:
  description: The addresses the mail goes to (contacts resolved, each once, critical ones first).
  returned: action is plan
  type: list
  elements: str
  sample: [oncall@yourdomain.com, admin@yourdomain.com]
webhook:
  description: What to POST to a webhook receiver.
  returned: action is plan
  type: dict
  contains:
    body:
      description: The JSON text of RV(payload) (ASCII, compact); send it as it is.
      type: str
      sample: '{"version":"4","groupKey":"{}:{run=\"daily\"}", "...": "..."}'
    headers:
      description: C(Content-Type), and C(X-Stronghold-Signature) (C(sha256=<hex>)) when O(webhook_secret) is set.
      type: dict
      sample: {Content-Type: application/json, X-Stronghold-Signature: "sha256=5d41402abc4b2a76b9719d911017c592..."}
payload:
  description: The webhook body as data, in the shape of Alertmanager's webhook version 4.
  returned: action is plan
  type: dict
  contains:
    version:
      description: Always V(4).
      type: str
    groupKey:
      description: The same for every message of the run name (C({}:{run="daily"})).
      type: str
    truncatedAlerts:
      description: How many due alerts O(max_alerts) left out.
      type: int
    status:
      description: V(firing) when any alert in it fires, else V(resolved).
      type: str
    receiver:
      description: O(receiver).
      type: str
    groupLabels:
      description: The run's name as C(run).
      type: dict
    commonLabels:
      description: The labels every alert in it shares.
      type: dict
    commonAnnotations:
      description: The annotations every alert in it shares.
      type: dict
    externalURL:
      description: O(external_url).
      type: str
    alerts:
      description: The alerts the message names.
      type: list
      elements: dict
      contains:
        status:
          description: V(firing) or V(resolved).
          type: str
        labels:
          description: C(alertname) (the check), C(host), C(instance) (the host), C(target), C(severity) and C(run).
          type: dict
        annotations:
          description: C(summary), and C(state), one of V(new), V(repeat), V(escalated), V(resolved), or V(ongoing) in a digest.
          type: dict
        startsAt:
          description: When the alert was first seen (RFC 3339, UTC).
          type: str
        endsAt:
          description: C(0001-01-01T00:00:00Z) while firing, the time it resolved otherwise.
          type: str
        generatorURL:
          description: O(external_url).
          type: str
        fingerprint:
          description: The alert's fingerprint.
          type: str
  sample:
    version: "4"
    groupKey: '{}:{run="daily"}'
    truncatedAlerts: 0
    status: firing
    receiver: stronghold
    groupLabels: {run: daily}
    commonLabels: {alertname: resources.disk, host: web1, instance: web1, target: /, severity: warning, run: daily}
    commonAnnotations: {summary: disk 87% used, state: new}
    externalURL: ""
    alerts:
      - status: firing
        labels: {alertname: resources.disk, host: web1, instance: web1, target: /, severity: warning, run: daily}
        annotations: {summary: disk 87% used, state: new}
        startsAt: "2026-12-05T12:00:00Z"
        endsAt: "0001-01-01T00:00:00Z"
        generatorURL: ""
        fingerprint: 3f2a9c0d1e4b5a67
alerts:
  description: Every alert of the run, sent or not, in the order of the hosts.
  returned: action is plan
  type: list
  elements: dict
  contains:
    fingerprint:
      description: Hash of host, check and target (16 hex digits).
      type: str
      sample: 3f2a9c0d1e4b5a67
    host:
      description: The host.
      type: str
    check:
      description: The finding's check.
      type: str
    target:
      description: The finding's target.
      type: str
    severity:
      description: Its severity now (for a resolved alert, the last one seen).
      type: str
    summary:
      description: Its summary now (for a resolved alert, the last one seen).
      type: str
    state:
      description: V(new), V(ongoing), V(resolved) or V(muted).
      type: str
    due:
      description: True when this run's message should name it.
      type: bool
    listed:
      description: True when the rendered message names it (false for alerts O(max_alerts) left out).
      type: bool
    reason:
      description:
        - Why it is (not) due. V(new); V(repeat) (O(repeat_interval) passed); V(escalated) (its
          severity rose); V(interval) (not yet); V(clock_behind) (the clock is before the last
          notification); V(resolved); V(send_resolved_off); V(never_notified) (resolved before any
          message named it); V(host_down) or V(inhibited) (muted).
      type: str
    muted_by:
      description: The fingerprint of the alert that mutes it (the C(run.host) alert, or the critical one); null when not muted.
      type: str
    first_seen:
      description: When it started firing (RFC 3339, UTC); null for a muted alert not in the state.
      type: str
    resolved_at:
      description: When it resolved (RFC 3339, UTC); null unless resolved.
      type: str
counts:
  description: How many alerts are V(new), V(repeated) (ongoing and due), V(ongoing) (not due), V(resolved) and V(muted).
  returned: action is plan
  type: dict
  sample: {new: 2, repeated: 1, ongoing: 3, resolved: 1, muted: 2}
truncated:
  description: How many due alerts O(max_alerts) left out of the message.
  returned: action is plan
  type: int
  sample: 0
run:
  description: O(run), for O(action=record).
  returned: action is plan
  type: str
  sample: daily
planned_at:
  description: The time of the plan (RFC 3339, UTC); O(action=record) stores it as the time of notification.
  returned: action is plan
  type: str
  sample: "2026-12-05T12:00:00Z"
state_path:
  description: O(state_path).
  returned: always
  type: str
  sample: /var/log/stronghold/reports/_alerts/daily.json
sent:
  description: True when any channel of O(delivered) delivered the message.
  returned: action is record
  type: bool
  sample: true
state:
  description: The state data written (or that would be written in check mode), C(run) and C(alerts) by fingerprint.
  returned: action is record
  type: dict
  sample:
    run: daily
    alerts:
      3f2a9c0d1e4b5a67:
        host: web1
        check: resources.disk
        target: /
        severity: warning
        summary: disk 87% used
        first_seen: 1796472000
        last_seen: 1796472000
        last_notified: 1796472000
        notified_severity: warning
        resolved_pending: false
        resolved_at: null
changed:
  description: With O(action=record), true when the state file's content changes (or would, in check mode); always false with O(action=plan).
  returned: always
  type: bool
  sample: false
findings:
  description:
    - V(info) C(alert.state) findings when the state file could not be used (the target is O(state_path)).
    - With O(action=record), one C(alert.delivery) finding per channel of O(delivered) (the target is the
      channel). V(ok) when it delivered; when a message was due and the channel failed, V(critical)
      if no channel delivered it and V(warning) if another did, the error in the summary and in
      C(details.error). A due message and no channel at all is a V(warning) (target C(alert)).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: V(alert.state) or V(alert.delivery).
      type: str
    target:
      description: The state file, or the channel.
      type: str
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
    summary:
      description: One line for the on-call person.
      type: str
    details:
      description: C(error) for a failed delivery.
      type: dict
  sample:
    - check: alert.delivery
      target: mail
      severity: warning
      summary: "alert of run daily not delivered by mail: [Errno 111] Connection refused; delivered by webhook"
      details: {error: "[Errno 111] Connection refused"}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._alerts import DEFAULT_TITLE
from ansible_collections.stronghold.ops.plugins.module_utils._alerts_state import run_plan, run_record
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._options import duration_spec

ARGUMENT_SPEC = {
    "action": {"type": "str", "choices": ["plan", "record"], "required": True},
    "state_path": {"type": "path", "required": True},
    "run": {"type": "str"},
    "hosts": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "host": {"type": "str", "required": True},
            "status": {"type": "str", "choices": ["ok", "down"], "default": "ok"},
            "reason": {"type": "str"},
            "findings": {"type": "list", "elements": "dict"},
            "reports": {"type": "dict"},
            "timing": {"type": "dict"},
        },
    },
    "severity": {"type": "str", "choices": ["info", "warning", "critical"], "default": "warning"},
    "repeat_interval": duration_spec("24h"),
    "send_resolved": {"type": "bool", "default": True},
    "always": {"type": "bool", "default": False},
    "inhibit": {"type": "bool", "default": True},
    "title": {"type": "str", "default": DEFAULT_TITLE},
    "recipients": {"type": "dict", "default": {}},
    "contacts": {"type": "dict", "default": {}},
    "webhook_secret": {"type": "str", "no_log": True},
    "receiver": {"type": "str", "default": "stronghold"},
    "external_url": {"type": "str", "default": ""},
    "max_alerts": {"type": "int", "default": 0},
    "plan": {"type": "dict"},
    "delivered": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "channel": {"type": "str", "required": True},
            "ok": {"type": "bool", "required": True},
            "error": {"type": "str"},
        },
    },
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("action", "plan", ["run"]), ("action", "record", ["plan"])],
        supports_check_mode=True,
    )
    try:
        if module.params["action"] == "plan":
            result = run_plan(module.params, int(time.time()))
        else:
            result = run_record(module.params, module.check_mode)
    except FindingError as exc:
        result = {"msg": str(exc)}
    if "msg" in result:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
