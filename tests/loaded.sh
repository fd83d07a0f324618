#!/usr/bin/env bash
# `make test-loaded`: every suite (`make test`) while two CPU-bound processes run beside it, as
# on a shared CI machine. The suites must pass this way too: their health checks and waits
# have margins that a loaded 2-core machine meets. stress-ng (Debian's package) is installed
# when missing; it stops by itself after STRESS_TIMEOUT and is stopped when the suites end.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2
if ! command -v stress-ng >/dev/null 2>&1; then
    apt-get install -y -q stress-ng >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q stress-ng >/dev/null; } \
        || { echo "loaded.sh: cannot install stress-ng" >&2; exit 2; }
fi
stress-ng --cpu 2 --timeout "${STRESS_TIMEOUT:-100m}" --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null; wait "$stress_pid" 2>/dev/null' EXIT
start=$(date +%s)
make --no-print-directory test
status=$?
echo "loaded run (stress-ng --cpu 2 beside it): $(( $(date +%s) - start ))s, exit code $status"
exit "$status"
