# Sourced by the script targets that run playbooks through ansible-runner against the lab
# (awx_runner, slicing), once they have set $root (the collection root). Sets PY, a Python with
# ansible_runner and pytest, and exports STRONGHOLD_LAB_ROOT; fails when the lab is not up.
# shellcheck shell=bash
: "${root:?set root to the collection root before sourcing runner_env.sh}"
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
"$root/lab/lab.sh" status >/dev/null || { echo "the lab is not up (make lab)" >&2; exit 1; }
