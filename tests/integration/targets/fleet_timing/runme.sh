#!/usr/bin/env bash
# The run report of a fleet with hosts down, over real connections on loopback:
#   run1  seven hosts, the stronghold.ops.timing callback on, stronghold_max_fail_percentage 20:
#         down1 (SSH refused) and hang1 (SSH handshake timed out) are critical run.host findings
#         saying unreachable; tmo1's task timeout is a critical run.task finding; the run report
#         names the three with one --limit, has a critical report.fleet finding (3 of 7 > 20 %),
#         gives each host's wall time, names slow1 and its check slowcheck as the slowest and
#         flags it (report.stragglers); the run fails after writing the report
#   run2  stronghold_max_fail_percentage=abc and 150: the run stops before any check, naming it
#   run3  no callback, two hosts (one down), the default threshold: "timing not available",
#         the rerun hint, no report.fleet
set -euo pipefail
cd "$(dirname "$0")"
PY="$(command -v python)"
work="$(mktemp -d "${TMPDIR:-/tmp}/stronghold-fleet.XXXXXX")"
hang_port=18721
# Accepts connections and never answers: ssh waits for the server's banner until its timeout.
"$PY" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
' "$hang_port" &
listener=$!
cleanup() { kill "$listener" 2>/dev/null || true; wait "$listener" 2>/dev/null || true; [ -n "${FLEET_KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

export ANSIBLE_HOST_KEY_CHECKING=false
run() {
    local step="$1"; shift
    echo "=== $step"
    local rc=0
    ansible-playbook -i inventory.yml fleet.yml -f 7 -e "fleet_test_work=$work" -e "fleet_test_hang_port=$hang_port" \
        "$@" >"$work/$step.out" 2>"$work/$step.err" || rc=$?
    echo "$rc" >"$work/$step.rc"
}
check() { "$PY" files/check.py "$work" "$@"; }

start=$(date +%s)
ANSIBLE_CALLBACKS_ENABLED=stronghold.ops.timing run run1 -e stronghold_max_fail_percentage=20
check run1
run run2a -e stronghold_max_fail_percentage=abc
run run2b -e stronghold_max_fail_percentage=150
check run2
run run3 --limit web1,down1
check run3
echo "fleet_timing: $(( $(date +%s) - start )) s"
