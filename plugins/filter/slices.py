# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sliced runs (AWX job slicing): what a slice publishes and how the combining step reads it back.

Documented in slice_entries.yml, slice_hosts.yml, slice_run.yml and slice_run_findings.yml beside this file.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError
from ansible_collections.stronghold.ops.plugins.module_utils._slices import (
    DEFAULT_MAX_FINDINGS,
    publish_slice_entries,
    slice_host_entries,
    slice_run,
    slice_run_findings,
)


def _plain(value):
    # Templates hand over AnsibleUnsafe and lazy containers: plain dicts and lists for the checks.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def slice_entries(entries, max_findings=DEFAULT_MAX_FINDINGS):
    try:
        return publish_slice_entries(_plain(entries), max_findings)
    except FindingError as exc:
        raise AnsibleFilterError("slice_entries: %s" % exc) from exc


def slice_hosts(summaries):
    try:
        return slice_host_entries(_plain(summaries))
    except FindingError as exc:
        raise AnsibleFilterError("slice_hosts: %s" % exc) from exc


def slice_run_name(summaries):
    try:
        return slice_run(_plain(summaries))
    except FindingError as exc:
        raise AnsibleFilterError("slice_run: %s" % exc) from exc


def slice_findings(summaries, names=None):
    try:
        return slice_run_findings(_plain(summaries), _plain(names) if names else None)
    except FindingError as exc:
        raise AnsibleFilterError("slice_run_findings: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {
            "slice_entries": slice_entries,
            "slice_hosts": slice_hosts,
            "slice_run": slice_run_name,
            "slice_run_findings": slice_findings,
        }
