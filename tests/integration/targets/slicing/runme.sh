#!/usr/bin/env bash
# daily.yml sliced as AWX slices it, then the step that combines the slices (playbooks/combine.yml),
# through ansible-runner against the lab: files/test_slicing.py says what is checked.
# The lab must be up (make lab). Nothing of the lab changes but the lines its alert receivers
# append; reports, alert state and check state go to a directory of the test's own.
set -euo pipefail
cd "$(dirname "$0")"
# ansible-test runs this script from a copy of the target inside the collection: the collection
# root is the nearest directory above with galaxy.yml and the lab's scripts.
root="$PWD"
while [ "$root" != / ] && ! { [ -f "$root/galaxy.yml" ] && [ -x "$root/lab/lab.sh" ]; }; do root="$(dirname "$root")"; done
[ -x "$root/lab/lab.sh" ] || { echo "lab/lab.sh not found above $PWD" >&2; exit 1; }
# The Python running ansible-test (the repository's venv) has ansible-runner; else the venv of
# the checkout that holds the staged collection (<repo>/.build/ansible_collections/...).
PY="$(command -v python)"
if ! "$PY" -c 'import ansible_runner, pytest' 2>/dev/null; then
    venv="$root"
    while [ "$venv" != / ] && [ ! -x "$venv/.venv/bin/python" ]; do venv="$(dirname "$venv")"; done
    PY="$venv/.venv/bin/python"
    "$PY" -c 'import ansible_runner, pytest' || { echo "no Python with ansible_runner and pytest (make venv)" >&2; exit 1; }
fi
# ansible-test hands a script target a filtered environment: the caller's STRONGHOLD_* come from
# the integration config that tests/ansible-test.sh wrote into the staged collection.
config="$root/tests/integration/integration_config.yml"
if [ -z "${STRONGHOLD_LAB_ROOT:-}" ] && [ -f "$config" ]; then
    STRONGHOLD_LAB_ROOT="$("$PY" -c 'import sys, yaml
env = (yaml.safe_load(open(sys.argv[1])) or {}).get("stronghold_test_env") or {}
print(env.get("STRONGHOLD_LAB_ROOT", ""))' "$config")"
fi
export STRONGHOLD_LAB_ROOT="${STRONGHOLD_LAB_ROOT:-/var/lib/stronghold-lab}"
export SLICING_COLLECTION="$root"
"$root/lab/lab.sh" status >/dev/null || { echo "the lab is not up (make lab)" >&2; exit 1; }
# SIGINT at the limit: pytest still runs its teardown (the AWX API stand-in is stopped).
timeout -s INT -k 120 600 "$PY" -m pytest -p no:cacheprovider -q -s files/test_slicing.py
