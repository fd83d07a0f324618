#!/usr/bin/env bash
# Every molecule scenario under molecule/, against the lab (make lab must have run).
# Molecule's prerun would install a copy of the collection into ~/.ansible/collections, where
# a stale copy shadows later runs; the scenarios use the checkout through .build/collections.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2
# The community collections come from the `ansible` package in the venv.
bundled="$(python -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')"
export ANSIBLE_COLLECTIONS_PATH="$REPO/.build/collections:$bundled"
status=0
summary=()
for scenario_dir in molecule/*/; do
    scenario="$(basename "$scenario_dir")"
    [ -f "${scenario_dir}molecule.yml" ] || continue
    # Molecule remembers a scenario's prepare step between runs (with no instance to destroy
    # here it would skip it next time); every run starts from a clean state.
    molecule reset -s "$scenario" >/dev/null 2>&1 || true
    echo "=== molecule test -s ${scenario}"
    start=$(date +%s)
    if molecule test -s "$scenario"; then
        summary+=("$(printf '  %-18s passed in %ss' "$scenario" "$(($(date +%s) - start))")")
    else
        echo "=== molecule scenario ${scenario} FAILED"
        summary+=("$(printf '  %-18s FAILED after %ss' "$scenario" "$(($(date +%s) - start))")")
        status=1
    fi
done
echo
echo "molecule scenarios:"
printf '%s\n' "${summary[@]}"
exit "$status"
