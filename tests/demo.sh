#!/usr/bin/env bash
# The main job against the local lab: the four playbooks, then where each report is and
# what the daily one says. Called by `make demo` once the lab is up.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO" || exit 2
INVENTORY="${INVENTORY:-$REPO/inventories/lab}"
REPORTS="$(ansible-inventory -i "$INVENTORY" --host lab 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("report_dir",""))')"
status=0
for playbook in daily weekly monthly rollback; do
    echo "=== ansible-playbook -i inventories/lab playbooks/${playbook}.yml"
    if ! ansible-playbook -i "$INVENTORY" "playbooks/${playbook}.yml"; then
        status=1
        echo "=== ${playbook}: the run failed (see its report below)"
    fi
done
echo
echo "Reports (JSON for machines, Markdown for people) under ${REPORTS}:"
for playbook in daily weekly monthly rollback; do
    for host_dir in "$REPORTS"/*/; do
        [ -f "${host_dir}${playbook}/latest.md" ] && echo "  ${host_dir}${playbook}/latest.md"
    done
done
for host_dir in "$REPORTS"/*/; do
    if [ -f "${host_dir}daily/latest.md" ]; then
        echo
        echo "----- ${host_dir}daily/latest.md -----"
        cat "${host_dir}daily/latest.md"
    fi
done
exit "$status"
