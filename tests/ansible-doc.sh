#!/usr/bin/env bash
# ansible-doc renders every module, filter and role entry point of stronghold.ops.
#
#   tests/ansible-doc.sh        (VENV: the venv holding ansible-core; default <repo>/.venv)
#
# Each plugin is named from the files (plugins/modules/*.py, plugins/filter/*.yml, every entry
# point of roles/*/meta/argument_specs.yml), so a new one is checked without editing this
# script. A plugin fails when ansible-doc exits non-zero, shows nothing, writes an ERROR or
# says the plugin was not found (it exits 0 then). Warnings about other collections on the
# path are not this collection's and are not counted. Prints "N passed, M failed" and exits 1
# when any failed.
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
export ANSIBLE_COLLECTIONS_PATH="$work:$site"
cd "$work"

targets=()
for path in "$REPO"/plugins/modules/*.py; do
    name="$(basename "$path" .py)"
    [ "$name" = "__init__" ] || targets+=("module stronghold.ops.$name")
done
for path in "$REPO"/plugins/filter/*.yml; do
    targets+=("filter stronghold.ops.$(basename "$path" .yml)")
done
while read -r role entry; do
    targets+=("role stronghold.ops.$role -e $entry")
done < <("$PY" - "$REPO" <<'EOF'
import sys
from pathlib import Path

import yaml

for spec in sorted(Path(sys.argv[1]).glob("roles/*/meta/argument_specs.yml")):
    for entry in yaml.safe_load(spec.read_text(encoding="utf-8"))["argument_specs"]:
        print(spec.parents[1].name, entry)
EOF
)

passed=0
failed=0
for target in "${targets[@]}"; do
    read -r -a args <<<"$target"
    # ansible-doc exits 0 for a plugin it cannot find, with only a warning: an empty page or
    # "not found" is a failure too.
    if "$DOC" -t "${args[@]}" >"$work/out" 2>"$work/err" && [ -s "$work/out" ] \
        && ! grep -q -e 'ERROR' -e 'not found' "$work/err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: ansible-doc -t $target" >&2
        sed -n '1,5p' "$work/err" >&2
    fi
done
echo "ansible-doc: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
