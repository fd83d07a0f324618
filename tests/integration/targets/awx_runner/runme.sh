#!/usr/bin/env bash
# The playbooks as AWX runs them (ansible-runner, a private data directory, survey answers as
# strings, awx_job_id), against the lab: daily.yml, weekly.yml, then rollback.yml twice with the
# same answers (the second run changes nothing). files/test_awx_lab.py says what is checked.
# The lab must be up (make lab); it is left as it was found: the same release, healthy.
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
export AWX_RUNNER_COLLECTION="$root"
"$root/lab/lab.sh" status >/dev/null || { echo "the lab is not up (make lab)" >&2; exit 1; }
rc=0
# SIGINT, not SIGTERM, at the limit: pytest then still runs the fixtures' teardown, which puts
# the lab back on the release it was found on; SIGKILL only if that hangs too.
timeout -s INT -k 300 900 "$PY" -m pytest -p no:cacheprovider -q -s files/test_awx_lab.py || rc=$?
# Whatever the tests said, the lab is healthy for whoever comes next.
"$root/lab/lab.sh" status || { echo "the lab is not healthy after awx_runner" >&2; exit 1; }
exit "$rc"
