#!/usr/bin/env bash
# The collection as an AWX team gets it: built with ansible-galaxy, installed from the tarball
# into a clean collections path, and its playbooks used by their stronghold.ops.* names only,
# from a directory outside the checkout, with no ansible.cfg and no ANSIBLE_* setting of the
# caller (so neither the checkout's ansible.cfg nor its .build/collections link can help).
#
#   tests/collection-install.sh              build, check what the tarball holds, install it,
#                                            syntax-check the playbooks by name, let
#                                            ansible-builder create the execution environment's
#                                            build context from this tarball
#   tests/collection-install.sh -- ARGS...   then also run stronghold.ops.daily with ARGS
#                                            (make integration: -i <repo>/inventories/lab)
#
# Collections path: the clean directory, then the collections of the `ansible` package in the
# venv for the community.* dependencies of galaxy.yml (Galaxy is not reachable here: the install
# is --offline, and it succeeds only when those dependencies are found there at the versions
# galaxy.yml asks for). Python's sys.path is not scanned for collections
# (ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false): these two directories are the whole path.
#
# The daily run writes its reports into the test's own directory (report_dir), keeps the
# checks' state there (stronghold_state_dir), and sends no alert (no mail recipients, no
# webhook): the lab's receivers and state belong to the other tests. These extra vars come
# after ARGS. The run passes when ansible-playbook exits 0, every task it ran came from the
# clean directory (the task paths of -vv), set_stats published `stronghold_report`, and the run
# report and every host's report exist under report_dir and agree with it.
#
# VENV: the venv holding ansible-core (default <repo>/.venv). Prints "N passed, M failed".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
work="$(mktemp -d "${TMPDIR:-/tmp}/stronghold-collection.XXXXXX")"
trap 'rm -rf "$work"' EXIT

run_daily=false
if [ "${1:-}" = "--" ]; then
    run_daily=true
    shift
elif [ $# -gt 0 ]; then
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }

# Nothing of the caller's Ansible settings (make exports ANSIBLE_CONFIG=<repo>/ansible.cfg).
while read -r name; do unset "$name"; done < <(compgen -e | grep '^ANSIBLE_' || true)
site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
clean="$work/collections"
export ANSIBLE_COLLECTIONS_PATH="$clean:$site"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
mkdir "$work/elsewhere"
cd "$work/elsewhere"

# --- build, and what the tarball holds ----------------------------------------------------
"$VENV/bin/ansible-galaxy" collection build "$REPO" --output-path "$work/dist" >/dev/null
tarball="$(ls "$work"/dist/stronghold-ops-*.tar.gz)"
if "$PY" - "$tarball" <<'EOF'
import re
import sys
import tarfile

# What ships on purpose (galaxy.yml build_ignore says why); anything else at the top is junk.
SHIPPED = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "COPYING", "requirements.txt", "bindep.txt",
           "meta", "plugins", "roles", "playbooks", "docs", "changelogs"}
REQUIRED = {"meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
            "changelogs/changelog.yaml", "plugins/modules", "plugins/filter", "plugins/module_utils",
            "plugins/doc_fragments"} | {f"playbooks/{p}.yml" for p in
                                        ("daily", "weekly", "monthly", "deploy", "rollback", "emergency")}
JUNK = re.compile(r"(^|/)(\.[^/]+|__pycache__|.*\.pyc|.*\.tar\.gz|.*~|.*\.orig|.*\.rej|.*\.retry)(/|$)")
path = sys.argv[1]
with tarfile.open(path) as tar:
    names = [m.name.rstrip("/") for m in tar.getmembers()]
size = __import__("os").path.getsize(path)
problems = sorted({n.split("/")[0] for n in names} - SHIPPED)
problems = [f"not shipped on purpose: {n}" for n in problems]
problems += [f"junk: {n}" for n in names if JUNK.search(n)]
problems += [f"missing: {n}" for n in sorted(REQUIRED - set(names))]
for problem in problems:
    print("  " + problem, file=sys.stderr)
print(f"  {path.rsplit('/', 1)[-1]}: {len(names)} entries, {size} bytes")
sys.exit(1 if problems else 0)
EOF
then
    pass "the tarball holds what ships and no junk"
else
    fail "the tarball's content (galaxy.yml build_ignore)"
fi

# --- install offline into the clean path, with the dependencies found on the path ---------
if "$VENV/bin/ansible-galaxy" collection install "$tarball" -p "$clean" --offline >"$work/install.out" 2>&1 \
    && "$VENV/bin/ansible-galaxy" collection list stronghold.ops --format json >"$work/list.json" 2>/dev/null \
    && "$PY" - "$work/list.json" "$clean/ansible_collections" <<'EOF'
import json
import sys

found = {path: cols["stronghold.ops"]["version"] for path, cols in json.load(open(sys.argv[1])).items()
         if "stronghold.ops" in cols}
print(f"  stronghold.ops on the collections path: {found}")
sys.exit(0 if list(found) == [sys.argv[2]] else 1)
EOF
then
    pass "installed offline; stronghold.ops is on the path once, from the clean directory"
    grep -E "installed successfully|already installed" "$work/install.out" | sed 's/^/  /'
else
    fail "ansible-galaxy collection install $(basename "$tarball") -p <clean> --offline"
    sed -n '1,20p' "$work/install.out" >&2
fi

# --- the playbooks by name ----------------------------------------------------------------
for playbook in daily weekly monthly deploy rollback emergency combine; do
    if "$VENV/bin/ansible-playbook" -i localhost, "stronghold.ops.$playbook" --syntax-check >"$work/out" 2>&1 \
        && grep -q "$clean/ansible_collections/stronghold/ops/playbooks/$playbook.yml" "$work/out"; then
        pass "syntax-check stronghold.ops.$playbook"
    else
        fail "syntax-check stronghold.ops.$playbook from $(basename "$tarball")"
        sed -n '1,10p' "$work/out" >&2
    fi
done

# --- the execution environment: ansible-builder create, then its introspection step ----------
# execution-environment.yml with this very tarball (ee/ is where `ansible-galaxy collection
# build --output-path ee/` puts it). The generated build stage merges the collections' Python
# and system requirements (introspect.py); run here over the tarball's collection and the
# community.* dependencies, it must give exactly ee/requirements.lock, every line hashed, and
# the collection's own system packages (bindep.txt through meta/execution-environment.yml).
ee="$work/ee-source"
eecols="$work/ee-collections/ansible_collections"
mkdir -p "$ee/ee" "$eecols/community" "$eecols/stronghold"
cp "$REPO/execution-environment.yml" "$ee/"
cp "$REPO/ee/requirements.lock" "$REPO/ee/requirements.yml" "$tarball" "$ee/ee/"
ln -s "$clean/ansible_collections/stronghold/ops" "$eecols/stronghold/ops"
for dependency in docker general postgresql crypto; do
    ln -s "$site/ansible_collections/community/$dependency" "$eecols/community/$dependency"
done
context="$work/ee-context"
if (cd "$ee" && "$VENV/bin/ansible-builder" create --file execution-environment.yml --context "$context") \
        >"$work/builder.out" 2>&1 \
    && (cd "$context/_build" && "$PY" scripts/introspect.py introspect "$work/ee-collections" \
        --user-pip=requirements.txt --exclude-pip-reqs=exclude-requirements.txt \
        --write-pip="$work/ee-pip.txt" --write-bindep="$work/ee-bindep.txt") >>"$work/builder.out" 2>&1 \
    && "$PY" - "$context" "$REPO/ee/requirements.lock" "$work/ee-pip.txt" "$work/ee-bindep.txt" "$tarball" <<'EOF'
import filecmp
import os
import re
import sys

context, lock, pip, bindep, tarball = sys.argv[1:]


def requirements(path):
    """Every requirement line (pinned or not: a collection's own is a bare name), the number of
    hashes, and the requirement lines that carry no hash."""
    lines = open(path, encoding="utf-8").read().splitlines()
    wanted = [line for line in lines if re.match(r"^[A-Za-z0-9]", line)]
    names = sorted(line.split("#")[0].strip().rstrip("\\").strip() for line in wanted)
    unhashed = [line for line in wanted if not line.rstrip().endswith("\\")]
    return names, sum(line.strip().startswith("--hash=") for line in lines), unhashed


problems = []
if not os.path.isfile(os.path.join(context, "Dockerfile")):
    problems.append("no Dockerfile in the build context")
copied = os.path.join(context, "_build", "files", os.path.basename(tarball))
if not os.path.isfile(copied) or not filecmp.cmp(copied, tarball, shallow=False):
    problems.append("the build context does not hold this tarball")
locked, merged = requirements(lock), requirements(pip)
if merged[0] != locked[0]:
    problems.append("the merged Python requirements differ from the lock: %s" % sorted(set(merged[0]) ^ set(locked[0])))
if merged[1] != locked[1] or merged[2]:
    problems.append("hashes: %d in the lock, %d merged; unhashed: %s" % (locked[1], merged[1], merged[2]))
own = [line.strip() for line in open(bindep, encoding="utf-8") if "from collection stronghold.ops" in line]
if not own:
    problems.append("the collection's system packages (bindep.txt) are not in the merged bindep")
for problem in problems:
    print("  " + problem, file=sys.stderr)
print("  merged: %d Python packages, %d hashes; system: %s" % (len(merged[0]), merged[1], "; ".join(own)))
sys.exit(1 if problems else 0)
EOF
then
    pass "ansible-builder create accepts execution-environment.yml; the merged requirements are the hashed lock"
else
    fail "the execution environment (ansible-builder create and its introspection)"
    tail -n 20 "$work/builder.out" >&2
fi

# --- the daily run ------------------------------------------------------------------------
if $run_daily; then
    cat >"$work/test-vars.json" <<EOF
{"report_dir": "$work/reports", "stronghold_state_dir": "$work/state",
 "report_alert_recipients": {}, "report_alert_webhook_url": ""}
EOF
    start=$(date +%s)
    rc=0
    ANSIBLE_SHOW_CUSTOM_STATS=true "$VENV/bin/ansible-playbook" -vv stronghold.ops.daily "$@" \
        -e "@$work/test-vars.json" >"$work/daily.log" 2>&1 || rc=$?
    echo "  stronghold.ops.daily $*: exit code $rc in $(( $(date +%s) - start ))s"
    if [ "$rc" -eq 0 ] && "$PY" - "$work/daily.log" "$clean/ansible_collections/stronghold/ops/" \
        "$work/reports" <<'EOF'
import json
import os
import sys

log_path, collection, report_dir = sys.argv[1:]
lines = open(log_path, encoding="utf-8", errors="replace").read().splitlines()
problems = []
# -vv prints where each task comes from: the playbook and the roles of the installed copy.
paths = [line.split("task path: ", 1)[1] for line in lines if line.startswith("task path: ")]
outside = sorted({p.rsplit(":", 1)[0] for p in paths if not p.startswith(collection)})
if not paths:
    problems.append("no task path in the log (-vv)")
problems += [f"a task from outside the installed collection: {p}" for p in outside]
# ANSIBLE_SHOW_CUSTOM_STATS: the default callback prints set_stats as one JSON line "\tRUN: {...}".
stats = [json.loads(line.split("RUN: ", 1)[1]) for line in lines if line.startswith("\tRUN: ")]
summary = stats[-1].get("stronghold_report") if stats else None
if not isinstance(summary, dict):
    problems.append("set_stats published no stronghold_report")
    summary = {}
fleet = os.path.join(report_dir, "_fleet", "daily", "latest.json")
if not os.path.isfile(fleet):
    problems.append(f"no run report {fleet}")
else:
    report = json.load(open(fleet, encoding="utf-8"))
    if report["summary"].get("worst_severity") != summary.get("worst_severity"):
        problems.append("the run report and set_stats disagree on worst_severity")
    if sorted(report["summary"]["hosts"]) != sorted(summary.get("hosts", {})):
        problems.append("the run report and set_stats disagree on the hosts")
    for host, entry in report["summary"]["hosts"].items():
        if not (entry.get("report") or "").startswith(report_dir + "/") or not os.path.isfile(entry["report"]):
            problems.append(f"no report of host {host} under report_dir: {entry.get('report')}")
for problem in problems:
    print("  " + problem, file=sys.stderr)
if paths and not outside:
    print(f"  {len(paths)} tasks, all from {collection}")
print(f"  set_stats stronghold_report: worst_severity {summary.get('worst_severity')}, "
      f"hosts {sorted(summary.get('hosts', {}))}, counts {summary.get('counts')}")
sys.exit(1 if problems else 0)
EOF
    then
        pass "stronghold.ops.daily $* (from the clean directory; report and set_stats checked)"
    else
        fail "stronghold.ops.daily $*"
        grep -E "^(fatal|failed|ERROR|\[ERROR\]|PLAY RECAP)|^[a-z0-9_.-]+ +: ok=" "$work/daily.log" | tail -n 20 >&2 || true
        tail -n 30 "$work/daily.log" >&2
    fi
fi
echo "collection-install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
