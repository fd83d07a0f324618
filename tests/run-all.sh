#!/usr/bin/env bash
# Every test suite of the collection, one after another; all run even when one fails, and the
# script fails when any did. Called by `make test` after the lab is up.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2

suites=(sanity lint units integration molecule)
passed=0
failed=0
failed_names=()
for suite in "${suites[@]}"; do
    echo
    echo "=================== ${suite} ==================="
    start=$(date +%s)
    if make --no-print-directory "$suite"; then
        passed=$((passed + 1))
        echo "=== ${suite}: passed in $(( $(date +%s) - start ))s"
    else
        failed=$((failed + 1))
        failed_names+=("$suite")
        echo "=== ${suite}: FAILED after $(( $(date +%s) - start ))s"
    fi
done
echo
if [ "$failed" -gt 0 ]; then
    echo "failed suites: ${failed_names[*]}"
fi
echo "suites: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
