#!/usr/bin/env bash
# Every test suite of the collection; all run even when one fails, and the script fails when
# any did. Called by `make test` after the lab is up.
#
# Two lanes run side by side, each suite of a lane one after another:
#  - the static lane (sanity, lint, units) needs no lab; ansible-test stages its own copy of the
#    collection under .build/static, so it never waits for the lab lane's copy;
#  - the lab lane (integration, molecule) uses the lab and runs alone against it.
# The static lane is mostly CPU and the lab lane mostly waits on containers and databases, so
# together they take about the time of the lab lane alone. The static lane's output goes to
# .build/static-suites.log and is printed whole when it ends, so the two never interleave.
# STRONGHOLD_SERIAL_SUITES=1 runs every suite one after another in this shell instead.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2

static_suites=(sanity lint units)
lab_suites=(integration molecule)
results_dir="$(mktemp -d)"
trap 'rm -rf "$results_dir"' EXIT

# Runs one suite and records "<name> <passed|FAILED> <seconds>" in the results directory.
run_suite() {
    local suite="$1" start rc
    echo
    echo "=================== ${suite} ==================="
    start=$(date +%s)
    make --no-print-directory "$suite"
    rc=$?
    local took=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        echo "=== ${suite}: passed in ${took}s"
        echo "${suite} passed ${took}" >"$results_dir/$suite"
    else
        echo "=== ${suite}: FAILED after ${took}s"
        echo "${suite} FAILED ${took}" >"$results_dir/$suite"
    fi
}

start_all=$(date +%s)
if [ "${STRONGHOLD_SERIAL_SUITES:-0}" = "1" ]; then
    for suite in "${static_suites[@]}" "${lab_suites[@]}"; do
        run_suite "$suite"
    done
else
    mkdir -p "$REPO/.build"
    static_log="$REPO/.build/static-suites.log"
    echo "static lane (${static_suites[*]}) runs beside the lab lane; its output: ${static_log}"
    (
        export STRONGHOLD_TEST_STAGE="$REPO/.build/static"
        for suite in "${static_suites[@]}"; do
            run_suite "$suite"
        done
    ) >"$static_log" 2>&1 &
    static_pid=$!
    for suite in "${lab_suites[@]}"; do
        run_suite "$suite"
    done
    wait "$static_pid"
    echo
    echo "=================== static lane output (${static_log}) ==================="
    cat "$static_log"
fi

passed=0
failed=0
failed_names=()
echo
for suite in "${static_suites[@]}" "${lab_suites[@]}"; do
    if [ -f "$results_dir/$suite" ]; then
        read -r name status took <"$results_dir/$suite"
    else
        name="$suite" status="FAILED" took="?"
    fi
    printf '  %-12s %-7s %ss\n' "$name" "$status" "$took"
    if [ "$status" = "passed" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names+=("$suite")
    fi
done
echo "all suites: $(($(date +%s) - start_all))s"
if [ "$failed" -gt 0 ]; then
    echo "failed suites: ${failed_names[*]}"
fi
echo "suites: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
