#!/usr/bin/env bash
# ansible-doc renders every module, filter and role entry point of stronghold.ops.
#
#   tests/ansible-doc.sh        (VENV: the venv holding ansible-core; default <repo>/.venv)
#
# What is checked is named twice over, so that a new plugin is checked without editing this
# script: from the files (plugins/modules/*.py, plugins/filter/*.yml, every entry point of
# roles/*/meta/argument_specs.yml) and from ansible-doc's own listing of the collection
# (`ansible-doc -t <type> -l stronghold.ops`, which names every filter a FilterModule returns,
# documented or not). Each plugin type is rendered as text in one ansible-doc call (one call
# per plugin costs a second of start-up each, 46 s for 54); the call must exit 0 with nothing
# on stderr but warnings about other collections, and its output must hold the page of each
# plugin (and, for roles, each entry point). ansible-doc exits 0 for a plugin it cannot find or
# a filter without documentation, with only a warning: those are failures here. When a call
# fails, each plugin of it is rendered alone to name the broken ones. Prints
# "N passed, M failed" and exits 1 when any failed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
DOC="$VENV/bin/ansible-doc"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/stronghold"
ln -s "$REPO" "$work/ansible_collections/stronghold/ops"
site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# The collection itself, then the community collections of the ansible package.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^ANSIBLE_' || true)
export ANSIBLE_COLLECTIONS_PATH="$work:$site"
export ANSIBLE_NOCOLOR=1
cd "$work"

for ptype in module filter role; do
    "$DOC" -t "$ptype" -l stronghold.ops --json >"$work/list-$ptype.json" 2>"$work/list-$ptype.err" || true
done

# One line per plugin: "<type> <name> [entry point...]".
"$PY" - "$REPO" "$work" >"$work/targets" <<'EOF'
import json
import sys
from pathlib import Path

import yaml

repo, work = Path(sys.argv[1]), Path(sys.argv[2])


def listed(ptype):
    try:
        return set(json.loads((work / f"list-{ptype}.json").read_text() or "{}"))
    except ValueError:
        return set()


modules = {f"stronghold.ops.{p.stem}" for p in (repo / "plugins/modules").glob("*.py") if p.stem != "__init__"}
filters = {f"stronghold.ops.{p.stem}" for p in (repo / "plugins/filter").glob("*.yml")}
roles = {}
for spec in sorted(repo.glob("roles/*/meta/argument_specs.yml")):
    entries = yaml.safe_load(spec.read_text(encoding="utf-8"))["argument_specs"]
    roles[f"stronghold.ops.{spec.parents[1].name}"] = sorted(entries)
for name, entry in json.loads((work / "list-role.json").read_text() or "{}").items():
    roles.setdefault(name, sorted(entry.get("entry_points") or {}) or ["main"])
for name in sorted(modules | listed("module")):
    print("module", name)
for name in sorted(filters | listed("filter")):
    print("filter", name)
for name, entries in sorted(roles.items()):
    print("role", name, *entries)
EOF

# True when $work/out and $work/err show a good rendering of the plugins named in $work/expect.
rendered() {
    "$PY" - "$1" "$work/out" "$work/err" "$work/expect" <<'EOF'
import re
import sys

ptype, out, err, expect = sys.argv[1:]
text = open(out, encoding="utf-8", errors="replace").read()
errors = [line for line in open(err, encoding="utf-8", errors="replace").read().splitlines()
          if line.strip() and not re.search(r"Collection at '.*' does not have a MANIFEST\.json", line)]
for line in errors:
    print("  " + line, file=sys.stderr)
ok = not errors
header = {"module": "> MODULE ", "filter": "> FILTER ", "role": "> ROLE: "}[ptype]
pages = re.split(r"^(?=" + re.escape(header) + ")", text, flags=re.M)
by_name = {}
for page in pages:
    if page.startswith(header):
        by_name[page[len(header):].split()[0].strip("*")] = page
for line in open(expect).read().splitlines():
    name, *entries = line.split()
    page = by_name.get(name)
    if page is None:
        print(f"  no page for {ptype} {name}", file=sys.stderr)
        ok = False
        continue
    for entry in entries:
        if not re.search(r"^ENTRY POINT: \*?" + re.escape(entry) + r"\*? - ", page, flags=re.M):
            print(f"  no entry point {entry} on the page of {name}", file=sys.stderr)
            ok = False
sys.exit(0 if ok else 1)
EOF
}

passed=0
failed=0
for ptype in module filter role; do
    grep "^$ptype " "$work/targets" | cut -d' ' -f2- >"$work/$ptype.targets" || true
    [ -s "$work/$ptype.targets" ] || { echo "FAILED: no $ptype of stronghold.ops found" >&2; failed=$((failed + 1)); continue; }
    # A role counts once per entry point.
    count=$(awk '{n += (NF > 1 ? NF - 1 : 1)} END {print n}' "$work/$ptype.targets")
    cp "$work/$ptype.targets" "$work/expect"
    mapfile -t names < <(cut -d' ' -f1 "$work/$ptype.targets")
    if "$DOC" -t "$ptype" "${names[@]}" >"$work/out" 2>"$work/err" && rendered "$ptype" 2>/dev/null; then
        passed=$((passed + count))
        continue
    fi
    # Name the broken ones: each alone.
    while read -r line; do
        echo "$line" >"$work/expect"
        : >"$work/why"
        name="${line%% *}"
        one=$(awk '{print (NF > 1 ? NF - 1 : 1)}' "$work/expect")
        if "$DOC" -t "$ptype" "$name" >"$work/out" 2>"$work/err" && rendered "$ptype" 2>"$work/why"; then
            passed=$((passed + one))
        else
            failed=$((failed + one))
            echo "FAILED: ansible-doc -t $ptype $name" >&2
            if [ -s "$work/why" ]; then sed -n '1,8p' "$work/why" >&2; else sed -n '1,8p' "$work/err" >&2; fi
        fi
    done <"$work/$ptype.targets"
done
echo "ansible-doc: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
