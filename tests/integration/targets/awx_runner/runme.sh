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
# PY, STRONGHOLD_LAB_ROOT, and the lab up.
# shellcheck source=../../runner_env.sh
. "$root/tests/integration/runner_env.sh"
export AWX_RUNNER_COLLECTION="$root"
rc=0
# SIGINT, not SIGTERM, at the limit: pytest then still runs the fixtures' teardown, which puts
# the lab back on the release it was found on; SIGKILL only if that hangs too.
timeout -s INT -k 300 900 "$PY" -m pytest -p no:cacheprovider -q -s files/test_awx_lab.py || rc=$?
# Whatever the tests said, the lab is healthy for whoever comes next.
"$root/lab/lab.sh" status || { echo "the lab is not healthy after awx_runner" >&2; exit 1; }
exit "$rc"
