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
# PY, STRONGHOLD_LAB_ROOT, and the lab up.
# shellcheck source=../../runner_env.sh
. "$root/tests/integration/runner_env.sh"
export SLICING_COLLECTION="$root"
# SIGINT at the limit: pytest still runs its teardown (the AWX API stand-in is stopped).
timeout -s INT -k 120 600 "$PY" -m pytest -p no:cacheprovider -q -s files/test_slicing.py
