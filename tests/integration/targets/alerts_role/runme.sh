#!/usr/bin/env bash
# The report role's one alert per run, against a real SMTP server (aiosmtpd: STARTTLS and AUTH)
# and a real HTTP receiver on loopback, over eight consecutive runs of one play on three hosts
# (web1, web2, down1 which is unreachable, and flaky1 which is up in run1 only):
#   run1  4 new (disk critical on web1, failed logins on web2, errors on flaky1, down1 down);
#         web1's forecast warning is muted by its disk critical; set_stats publishes the run summary
#   run2  2 new (web2 p95, flaky1 down), 1 resolved (failed logins); flaky1's errors are muted
#         by its being down, neither resolved nor repeated; the ongoing ones are not repeated
#   run3  nothing new: nothing is sent
#   run4  SMTP dead, repeat_interval 0: the webhook still gets the 4 repeated alerts, and the
#         undelivered mail is a warning alert.delivery finding of the run report
#   run5  webhook answers 500: the mail still goes; the webhook failure is the finding
#   run6  both dead with a new finding: the run fails, saying the alert was not delivered
#   run7  both alive: the finding that was never delivered is sent as new
#   run8  check mode with a new critical: the alert is rendered, nothing arrives, no state written
#   run9  a recipient that is neither a contact nor an address: nothing is sent, the run report
#         is still written and holds a critical alert.plan finding naming it, and the run fails
set -euo pipefail
cd "$(dirname "$0")"
PY="$(command -v python)"
# The receivers are the lab's (lab/alert_sink.py): ansible-test runs this script from a copy of
# the target inside the collection, so the collection root is the nearest directory above
# with galaxy.yml.
root="$PWD"
while [ "$root" != / ] && ! { [ -f "$root/galaxy.yml" ] && [ -f "$root/lab/alert_sink.py" ]; }; do root="$(dirname "$root")"; done
[ -f "$root/lab/alert_sink.py" ] || { echo "lab/alert_sink.py not found above $PWD" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/stronghold-alerts.XXXXXX")"
smtp_port=18701
http_port=18703
dead_port=18709
"$PY" "$root/lab/alert_sink.py" --dir "$work/recv" --smtp-port "$smtp_port" --http-port "$http_port" \
    --auth alerts:s3cret-smtp-password &
receivers=$!
cleanup() { kill "$receivers" 2>/dev/null || true; wait "$receivers" 2>/dev/null || true; [ -n "${ALERTS_KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 120); do [ -f "$work/recv/ready" ] && break; sleep 0.5; done
[ -f "$work/recv/ready" ] || { echo "the receivers did not start" >&2; exit 1; }

export ANSIBLE_HOST_KEY_CHECKING=false
run() {
    local step="$1"; shift
    echo "=== $step"
    local rc=0
    ansible-playbook -i inventory.yml alerts.yml -e "alert_test_work=$work" -e "alert_test_http_port=$http_port" \
        -e "@vars/$step.yml" "$@" >"$work/$step.out" 2>"$work/$step.err" || rc=$?
    echo "$rc" >"$work/$step.rc"
}
check() { "$PY" files/check.py "$work" "$@"; }

ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json ANSIBLE_SHOW_CUSTOM_STATS=true run run1 -e "alert_test_smtp_port=$smtp_port" -e alert_test_flaky_up=true
check run1
run run2 -e "alert_test_smtp_port=$smtp_port"
check run2
run run3 -e "alert_test_smtp_port=$smtp_port"
check run3
run run4 -e "alert_test_smtp_port=$dead_port" -e alert_test_repeat=0
check run4
run run5 -e "alert_test_smtp_port=$smtp_port" -e alert_test_repeat=0 -e alert_test_hook_path=fail
check run5
run run6 -e "alert_test_smtp_port=$dead_port" -e alert_test_hook_path=fail
check run6
run run7 -e "alert_test_smtp_port=$smtp_port"
check run7
sha256sum "$work/reports/_alerts/alerts.json" >"$work/state.before"
run run8 -e "alert_test_smtp_port=$smtp_port" --check
check run8
run run9 -e "alert_test_smtp_port=$smtp_port" -e '{"report_alert_recipients": {"critical": ["nobody-known"]}}'
check run9
# The run report of the last run, in a real browser. The screenshot goes where make test keeps
# artifacts for CI: ansible-test hands a script target a filtered environment, so the caller's
# STRONGHOLD_* variables are read from the integration config that tests/ansible-test.sh wrote
# into the staged collection (as stronghold_test_env).
shots="${STRONGHOLD_ARTIFACTS_DIR:-}"
config="$root/tests/integration/integration_config.yml"
if [ -z "$shots" ] && [ -f "$config" ]; then
    shots="$("$PY" -c 'import sys, yaml
env = (yaml.safe_load(open(sys.argv[1])) or {}).get("stronghold_test_env") or {}
print(env.get("STRONGHOLD_ARTIFACTS_DIR", ""))' "$config")"
fi
shots="${shots:-$work}"
mkdir -p "$shots"
"$PY" "$root/tests/browser/check_page.py" "$work/reports/_fleet/alerts/latest.html" --screenshot "$shots/alerts-run-report.png" \
    --expect-cells "$((5 * 7))"  # down1, flaky1, web1, web2 and (run) by the 7 checks of run9
echo "alerts_role: all runs checked"
