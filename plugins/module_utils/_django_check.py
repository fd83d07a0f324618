# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Findings from the output of Django's ``manage.py check --deploy`` (the monthly security audit).

Django prints its messages (on stderr) grouped under a level header, one per message, with an
optional indented hint:

    System check identified some issues:

    WARNINGS:
    ?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting. ...
    core.Account: (models.W042) Auto-created primary key used when not defining ...
    \tHINT: Configure the DEFAULT_AUTO_FIELD setting ...

    System check identified 4 issues (0 silenced).

With an ERROR or CRITICAL message the command exits 1 and the first line reads
``SystemCheckError: System check identified some issues:``. Each message becomes a finding
named by its id: CRITICALS and ERRORS critical, WARNINGS warning, INFOS and DEBUGS info; an id
the operators accepted (a proxy terminates TLS, say) is info. A command that failed without
any message Django recognises (the container is gone, settings do not import) is critical.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._findings import Finding, FindingError, make_finding

CHECK = "security.deploy_check"
LEVELS = {"CRITICALS": "critical", "ERRORS": "critical", "WARNINGS": "warning", "INFOS": "info", "DEBUGS": "info"}
_HEADER = re.compile(r"^(?P<level>CRITICALS|ERRORS|WARNINGS|INFOS|DEBUGS):\s*$")
_MESSAGE = re.compile(r"^(?P<object>\S.*?): \((?P<id>[A-Za-z0-9_.]+\.[A-Z]\d+)\) (?P<message>.*)$")
_HINT = re.compile(r"^\s+HINT: (?P<hint>.*)$")
_TELLING = re.compile(r"(?i)error|exception|unknown command|not found|refused|denied|fail")
_SUMMARY = re.compile(r"^System check identified (?:no issues|\d+ issues?) \((?P<silenced>\d+) silenced\)\.\s*$")


def parse_check_output(text: str) -> list[dict[str, Any]]:
    """The messages of ``check`` output: ``{"id", "level", "object", "message", "hint"}`` in order."""
    messages: list[dict[str, Any]] = []
    level: Optional[str] = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            level = header.group("level")
            continue
        if level is None:
            continue
        hint = _HINT.match(line)
        if hint and messages:
            messages[-1]["hint"] = hint.group("hint").strip()
            continue
        found = _MESSAGE.match(line)
        if found:
            messages.append(
                {
                    "id": found.group("id"),
                    "level": level,
                    "object": found.group("object"),
                    "message": found.group("message").strip(),
                    "hint": None,
                }
            )
        elif line.strip() and messages and not _SUMMARY.match(line) and line[:1].isspace():
            # A message that spans lines: its continuation is indented.
            messages[-1]["message"] += " " + line.strip()
    return messages


def _telling_line(lines: Sequence[str]) -> Optional[str]:
    """The line that says what went wrong: the last naming an error, else the last line."""
    lines = [line.strip() for line in lines if line.strip()]
    for line in reversed(lines):
        if _TELLING.search(line):
            return line
    return lines[-1] if lines else None


def deploy_check_findings(
    rc: Any,
    stdout: Optional[str],
    stderr: Optional[str],
    target: str,
    accepted: Optional[Sequence[str]] = None,
    msg: Optional[str] = None,
) -> list[Finding]:
    """Findings for one run of ``manage.py check --deploy`` (``rc`` None: the command did not run)."""
    if not isinstance(target, str) or not target.strip():
        raise FindingError("the target must be a non-empty string, got %r" % (target,))
    accepted_ids = set(accepted or ())
    output = "\n".join(part for part in (stdout or "", stderr or "") if part)
    tail = output.splitlines()[-20:]
    if rc is None:
        return [make_finding(CHECK, target, "critical", "check --deploy did not run: %s" % (msg or "no result"))]
    messages = parse_check_output(output)
    findings = []
    for item in messages:
        severity = LEVELS[item["level"]]
        summary = item["message"]
        if item["id"] in accepted_ids:
            severity = "info"
            summary = "accepted: " + summary
        findings.append(make_finding(CHECK, item["id"], severity, summary, dict(item)))
    try:
        code = int(rc)
    except (TypeError, ValueError):
        code = -1
    if code != 0 and not any(f["severity"] == "critical" for f in findings):
        last = _telling_line(tail) or msg or "no output"
        findings.append(
            make_finding(
                CHECK,
                target,
                "critical",
                "check --deploy failed with exit code %s: %s" % (rc, last),
                {"rc": rc, "output_tail": tail},
            )
        )
    if code == 0 and not findings:
        findings.append(
            make_finding(CHECK, target, "ok", "check --deploy found no issues", {"rc": 0, "output_tail": tail})
        )
    return findings
