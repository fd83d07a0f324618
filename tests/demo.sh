#!/usr/bin/env bash
# The main job against the local lab: the playbooks, then where each report is and
# what the daily one says. Called by `make demo` once the lab is up.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2
INVENTORY="${INVENTORY:-$REPO/inventories/lab}"
# report_dir as the playbooks see it (templated), from the first host of the inventory.
REPORTS="$(ansible all -i "$INVENTORY" -l 'all[0]' -m ansible.builtin.debug -a 'msg={{ report_dir }}' -o 2>/dev/null \
    | sed -n 's/.*=> //p' | python3 -c 'import json,sys; print(json.load(sys.stdin)["msg"])')"
ALERTS="${STRONGHOLD_LAB_ROOT:-/var/lib/stronghold-lab}/alerts"
mails_before=$(cat "$ALERTS/mail.jsonl" 2>/dev/null | wc -l)
status=0
run() {  # playbook [extra args...]
    echo "=== ansible-playbook -i inventories/lab playbooks/$*"
    if ! ansible-playbook -i "$INVENTORY" "playbooks/$1.yml" "${@:2}"; then
        status=1
        echo "=== $1: the run failed (see its report below)"
    fi
}
run daily
run weekly
run monthly
# The Deployment SOP and the Quick Rollback: record the running release 1.1.0, roll back to
# the runbook's `previous` tag, and deploy 1.1.0 again so the lab ends as it started.
run deploy -e deploy_tag=1.1.0
run rollback -e rollback_tag=previous
run deploy -e deploy_tag=1.1.0
# Emergency Response, diagnose only (changes nothing without -e act=true).
run emergency
echo
echo "Run reports of all hosts (HTML page with the host-by-check matrix and trends, Markdown, JSON):"
for playbook in daily weekly monthly deploy rollback emergency; do
    [ -f "$REPORTS/_fleet/${playbook}/latest.html" ] && echo "  $REPORTS/_fleet/${playbook}/latest.html"
done
echo "Per-host reports (JSON for machines, Markdown for people) under ${REPORTS}:"
for playbook in daily weekly monthly deploy rollback emergency; do
    for host_dir in "$REPORTS"/*/; do
        case "$(basename "$host_dir")" in _fleet | _alerts) continue ;; esac
        [ -f "${host_dir}${playbook}/latest.md" ] && echo "  ${host_dir}${playbook}/latest.md"
    done
done
echo
echo "Alerts the lab's SMTP receiver got during this demo (one per run at most; $ALERTS/mail.jsonl):"
tail -n +"$((mails_before + 1))" "$ALERTS/mail.jsonl" 2>/dev/null \
    | python3 -c 'import json, sys
for line in sys.stdin:
    mail = json.loads(line)
    print("  %s -> %s" % (mail["subject"], ", ".join(mail["rcpt_tos"])))'
for host_dir in "$REPORTS"/*/; do
    case "$(basename "$host_dir")" in _fleet | _alerts) continue ;; esac
    if [ -f "${host_dir}daily/latest.md" ]; then
        echo
        echo "----- ${host_dir}daily/latest.md -----"
        cat "${host_dir}daily/latest.md"
    fi
done
exit "$status"
