#!/usr/bin/env bash
# The collection as an AWX team gets it: built with ansible-galaxy, installed from the tarball
# into a clean collections path, and its playbooks used by their stronghold.ops.* names only,
# from a directory outside the checkout (so neither ansible.cfg nor .build/collections helps).
#
#   tests/collection-install.sh              build, install, syntax-check the six playbooks
#   tests/collection-install.sh -- ARGS...   then also run stronghold.ops.daily with ARGS
#                                            (e.g. -i <repo>/inventories/lab against the lab)
#
# Galaxy is not reachable here: the install is --offline, and the dependencies of galaxy.yml
# are those of the `ansible` package in the venv (ansible-galaxy finds them installed).
# VENV: the venv holding ansible-core (default <repo>/.venv). Prints "N passed, M failed".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$VENV/bin/ansible-galaxy" collection build "$REPO" --output-path "$work/dist" >/dev/null
tarball="$(ls "$work"/dist/stronghold-ops-*.tar.gz)"
"$VENV/bin/ansible-galaxy" collection install "$tarball" -p "$work/collections" --offline >/dev/null 2>&1
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
mkdir "$work/elsewhere"
cd "$work/elsewhere"

passed=0
failed=0
for playbook in daily weekly monthly deploy rollback emergency; do
    if "$VENV/bin/ansible-playbook" -i localhost, "stronghold.ops.$playbook" --syntax-check >"$work/out" 2>&1 \
        && grep -q "$work/collections/ansible_collections/stronghold/ops/playbooks/$playbook.yml" "$work/out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: stronghold.ops.$playbook from $(basename "$tarball")" >&2
        sed -n '1,10p' "$work/out" >&2
    fi
done

if [ "${1:-}" = "--" ]; then
    shift
    if "$VENV/bin/ansible-playbook" stronghold.ops.daily "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: stronghold.ops.daily $*" >&2
    fi
fi
echo "collection-install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
