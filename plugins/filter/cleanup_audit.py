# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters of the docker_cleanup, logs (cleanup) and security_audit roles.

The decisions are pure functions in module_utils (_docker_cleanup, _log_cleanup, _django_check);
these filters hand them what the roles observed. Each filter is documented in the YAML file of
the same name beside this one.
"""

from __future__ import annotations

import base64

from ansible.errors import AnsibleFilterError

from ansible_collections.stronghold.ops.plugins.module_utils import _django_check, _docker_cleanup, _log_cleanup
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError


def _wrap(func):
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (FindingError, KeyError, TypeError, ValueError) as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def docker_volume_plan(volumes, containers, keep_label, named=False, compose=False):
    return _docker_cleanup.volume_plan(volumes, containers, keep_label, named=named, compose=compose)


def docker_cleanup_findings(
    target, check_mode, prune=None, candidates=None, plan=None, volume_results=None, kinds=None, containers_filters=None
):
    return _docker_cleanup.cleanup_findings(
        target,
        bool(check_mode),
        prune=prune,
        candidates=candidates,
        plan=plan,
        volume_results=volume_results,
        kinds=tuple(kinds) if kinds is not None else ("containers", "images", "build_cache"),
        containers_filters=containers_filters,
    )


def docker_prune_filters(filters, keep_compose=False, listing=False):
    if listing:
        return _docker_cleanup.listing_filters(filters)
    return _docker_cleanup.prune_filters(filters, keep_compose=keep_compose)


def rotated_logs_deletable(files, live_patterns):
    return _log_cleanup.deletable(files, live_patterns)


def log_cleanup_findings(files, target, check_mode, age, live_patterns, results=None, find_result=None):
    return _log_cleanup.cleanup_findings(
        target, bool(check_mode), age, files, live_patterns, results=results, find_result=find_result
    )


def deploy_check_findings(result, target, accepted=None):
    result = result or {}
    rc = result.get("rc") if not result.get("skipped") else None
    return _django_check.deploy_check_findings(
        rc, result.get("stdout"), result.get("stderr"), target, accepted=accepted, msg=result.get("msg")
    )


def docker_release_images(histories, dangling):
    # The role hands the results of ansible.builtin.slurp (base64 content, or "file not found").
    entries = []
    for result in histories or ():
        if "path" in result and "exists" in result:
            entries.append(result)
            continue
        # slurp says "file not found: <path>" (its failed flag is cleared by the role's failed_when).
        missing = "content" not in result and "not found" in str(result.get("msg", "")).lower()
        text = None
        if "content" in result:
            try:
                text = base64.b64decode(result["content"]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                text = ""
        elif not missing:
            text = ""  # unreadable (permissions, a directory): a problem, never "no history"
        entries.append({"path": result.get("item", result.get("source")), "exists": not missing, "text": text})
    return _docker_cleanup.release_images(entries, dangling)


def docker_release_findings(plan, target, check_mode, results=None):
    return _docker_cleanup.release_findings(target, plan, check_mode, results or [])


class FilterModule:
    def filters(self):
        return {
            "docker_volume_plan": _wrap(docker_volume_plan),
            "docker_cleanup_findings": _wrap(docker_cleanup_findings),
            "docker_prune_filters": _wrap(docker_prune_filters),
            "rotated_logs_deletable": _wrap(rotated_logs_deletable),
            "log_cleanup_findings": _wrap(log_cleanup_findings),
            "deploy_check_findings": _wrap(deploy_check_findings),
            "docker_release_images": _wrap(docker_release_images),
            "docker_release_findings": _wrap(docker_release_findings),
        }
