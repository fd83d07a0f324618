#!/usr/bin/env bash
# Stronghold lab: a loopback-only stand-in for the production system the collection manages.
#   lab/lab.sh up|down|status
# Root directory: $STRONGHOLD_LAB_ROOT (default /var/lib/stronghold-lab). See lab/README.md.
# Variables such as _lab_t0 are assigned in the lib/*.sh files sourced below.
# shellcheck disable=SC2154
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for _f in common packages postgres docker images app tls backups alerts; do
    # shellcheck source=/dev/null
    source "$LAB_DIR/lib/$_f.sh"
done

ensure_lab_python() {
    if [[ -z ${LAB_PYTHON_FROM_ENV:-} && ! -x ${LAB_PYTHON} && -x $LAB_DIR/../.venv/bin/python ]]; then
        LAB_PYTHON="$LAB_DIR/../.venv/bin/python"
    fi
    local i
    for ((i = 0; i < 120; i++)); do
        if "$LAB_PYTHON" -c 'import cryptography' >/dev/null 2>&1; then
            ok "LAB_PYTHON=$LAB_PYTHON ($("$LAB_PYTHON" -c 'import sys, cryptography; print(f"Python {sys.version.split()[0]}, cryptography {cryptography.__version__}")'))"
            return 0
        fi
        ((i == 0)) && log "waiting for $LAB_PYTHON to have the cryptography package (up to 10 min)"
        sleep 5
    done
    die "$LAB_PYTHON cannot import cryptography (set LAB_PYTHON to a Python with cryptography installed)"
}

safe_root() {
    case "$LAB_ROOT" in
        /*/*) ;;
        *) die "refusing to use STRONGHOLD_LAB_ROOT=$LAB_ROOT (must be an absolute path at least two levels deep)" ;;
    esac
    [[ $LAB_ROOT != *..* ]] || die "refusing STRONGHOLD_LAB_ROOT with '..': $LAB_ROOT"
}

cmd_up() {
    log "lab up: root $LAB_ROOT"
    ensure_lab_python
    ensure_packages
    install -d -m 0755 "$LAB_ROOT" "$LAB_ROOT/build"
    ensure_postgres
    ensure_docker_engine
    ensure_compose_plugin
    ensure_base_image
    ensure_app_images
    write_app_config
    ensure_app_running
    ensure_ops_user
    ensure_seed_data
    ensure_log_traffic
    ensure_tls
    ensure_alert_sink
    ensure_backups
    log "lab up: done in $(( $(date +%s) - _lab_t0 ))s"
}

cmd_status() {
    local bad=0
    st() {  # NAME DETAIL CMD... : run CMD, print UP/DOWN
        local name=$1 detail=$2; shift 2
        if "$@" >/dev/null 2>&1; then
            printf '  %-10s UP    %s\n' "$name" "$detail"
        else
            printf '  %-10s DOWN  %s\n' "$name" "$detail"
            bad=1
        fi
    }
    echo "stronghold lab ($LAB_ROOT)"
    st postgres "127.0.0.1:$LAB_PG_PORT, socket dir $LAB_PG_RUN, db $LAB_DB_NAME" pg_ready
    local eng="own dockerd"
    [[ -L $LAB_DOCKER_SOCK ]] && eng="reused engine $LAB_SYSTEM_DOCKER_SOCK"
    st docker "$eng via $LAB_DOCKER_SOCK" docker_answers "$LAB_DOCKER_SOCK"
    local svc state
    for svc in web worker; do
        # By Compose's labels, not by name: a start-first deploy leaves web-2, web-3, ...
        state=$(dk ps -a -q --filter "label=com.docker.compose.project=$LAB_COMPOSE_PROJECT" \
            --filter "label=com.docker.compose.service=$svc" 2>/dev/null \
            | xargs -r env DOCKER_HOST="unix://$LAB_DOCKER_SOCK" docker inspect \
                -f '{{.Name}} {{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' 2>/dev/null \
            | sed 's#^/##' | paste -sd, - || true)
        state=${state:-missing}
        # shellcheck disable=SC2016  # the script in single quotes is for sh -c, with its own $1
        st "$svc" "container(s) $state" sh -c 'case "$1" in missing|*,*) exit 1;; *" running/healthy") exit 0;; *) exit 1;; esac' sh "$state"
    done
    local code tag="?"
    code=$(app_health_code)
    [[ -f $LAB_APP_DIR/.env ]] && tag=$(app_tag)
    st health "http://127.0.0.1:$LAB_APP_PORT/api/v1/health/ -> HTTP $code (APP_TAG=$tag)" test "$code" = 200
    local p
    for p in "${LAB_TLS_PORTS[@]}"; do
        st "tls:$p" "https://127.0.0.1:$p" tls_port_answers "$p"
    done
    st alerts "SMTP 127.0.0.1:$LAB_ALERT_SMTP_PORT, webhook 127.0.0.1:$LAB_ALERT_HTTP_PORT ($LAB_ALERTS_DIR)" alerts_answer
    local nb=0
    [[ -d $LAB_BACKUP_DIR ]] && nb=$(find "$LAB_BACKUP_DIR" -maxdepth 1 -name 'backup_*.sql.gz' | wc -l)
    st backups "$nb backup(s) in $LAB_BACKUP_DIR" test "$nb" -gt 0
    return $bad
}

cmd_down() {
    log "lab down: root $LAB_ROOT"
    if [[ -d $LAB_ROOT ]]; then
        compose_down
        stop_tls_server
        stop_alert_sink
        stop_postgres
        stop_docker_engine
        # Anything our dockerd left mounted under the root (normally nothing).
        local m
        while read -r m; do
            umount -l "$m" 2>/dev/null || true
        done < <(awk -v r="$LAB_ROOT/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r)
        rm -rf "$LAB_ROOT"
        ok "removed $LAB_ROOT"
    else
        ok "nothing to do: $LAB_ROOT does not exist"
    fi
    log "lab down: done"
}

main() {
    require_root
    safe_root
    case "${1:-}" in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
    esac
}

main "$@"
