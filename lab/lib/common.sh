# shellcheck shell=bash
# The settings below are read by the other lib/*.sh files, which shellcheck checks one by one.
# shellcheck disable=SC2034
# Common helpers for lab.sh (sourced).

LAB_ROOT="${STRONGHOLD_LAB_ROOT:-/var/lib/stronghold-lab}"
LAB_PYTHON_FROM_ENV="${LAB_PYTHON:-}"
LAB_PYTHON="${LAB_PYTHON:-python3}"
LAB_PG_BIN="${LAB_PG_BIN:-/usr/lib/postgresql/15/bin}"
LAB_PG_PORT=55432
LAB_PG_DATA="$LAB_ROOT/postgres/data"
LAB_PG_RUN="$LAB_ROOT/postgres/run"
LAB_PG_LOG="$LAB_ROOT/postgres/postgres.log"
LAB_PG_SUPER_PASSWORD="lab-postgres-password"
LAB_DB_NAME="financial_stronghold"
LAB_DB_USER="stronghold"
LAB_DB_PASSWORD="lab-stronghold-password"
LAB_DOCKER_DIR="$LAB_ROOT/docker"
LAB_DOCKER_SOCK="$LAB_DOCKER_DIR/docker.sock"
LAB_SYSTEM_DOCKER_SOCK="/var/run/docker.sock"
LAB_COMPOSE_PROJECT="financial-stronghold"
LAB_APP_DIR="$LAB_ROOT/app"
LAB_COMPOSE_FILE="$LAB_APP_DIR/docker-compose.production.yml"
LAB_APP_PORT=18000
LAB_APP_IMAGE_REPO="financial-stronghold"
LAB_BASE_IMAGE="stronghold-lab/python-base:bookworm"
LAB_APP_TAG_DEFAULT="1.1.0"
LAB_OPS_USER="ops"
LAB_OPS_PASSWORD="lab-ops-password"
LAB_TLS_DIR="$LAB_ROOT/tls"
LAB_ALERTS_DIR="$LAB_ROOT/alerts"
LAB_ALERT_SMTP_PORT=18025
LAB_ALERT_HTTP_PORT=18026
LAB_BACKUP_DIR="$LAB_ROOT/backups/financial-stronghold"
LAB_COMPOSE_PLUGIN_DIR="/usr/local/lib/docker/cli-plugins"

_lab_t0=$(date +%s)

log()  { printf '[lab %4ss] %s\n' "$(( $(date +%s) - _lab_t0 ))" "$*"; }
ok()   { printf '[lab %4ss]   ok: %s\n' "$(( $(date +%s) - _lab_t0 ))" "$*"; }
warn() { printf '[lab %4ss] WARN: %s\n' "$(( $(date +%s) - _lab_t0 ))" "$*" >&2; }
die()  { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# wait_for SECONDS DESCRIPTION CMD...: retry CMD every second until it succeeds.
wait_for() {
    local timeout=$1 what=$2; shift 2
    local i
    for ((i = 0; i < timeout; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    die "timed out after ${timeout}s waiting for: $what"
}

# Run a command fully detached from the caller (own session, no inherited stdio).
detach() {
    local logfile=$1; shift
    setsid nohup "$@" </dev/null >>"$logfile" 2>&1 &
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile PIDFILE NAME: TERM the process named in PIDFILE, KILL it after 10 s, remove the file.
stop_pidfile() {
    local pidf=$1 name=$2
    if pid_alive "$pidf"; then
        local pid i
        pid=$(cat "$pidf")
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        ok "$name (pid $pid) stopped"
    fi
    rm -f "$pidf"
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

lab_psql() {  # superuser over the unix socket
    as_postgres "$LAB_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LAB_PG_RUN" -p "$LAB_PG_PORT" -U postgres "$@"
}

dk() { DOCKER_HOST="unix://$LAB_DOCKER_SOCK" docker "$@"; }

compose() {
    DOCKER_HOST="unix://$LAB_DOCKER_SOCK" docker compose -p "$LAB_COMPOSE_PROJECT" \
        --project-directory "$LAB_APP_DIR" -f "$LAB_COMPOSE_FILE" --env-file "$LAB_APP_DIR/.env" "$@"
}

require_root() { [[ $(id -u) -eq 0 ]] || die "lab.sh must run as root"; }
