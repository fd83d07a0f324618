# shellcheck shell=bash
# LAB_* settings come from lib/common.sh, sourced first by lab.sh.
# shellcheck disable=SC2153
# The Compose project financial-stronghold: config files, start, ops user, data, realistic logs.

LAB_APP_UID=10001

write_app_config() {
    install -d -m 0755 "$LAB_APP_DIR"
    install -d -o "$LAB_APP_UID" -g "$LAB_APP_UID" -m 0755 "$LAB_APP_DIR/logs"
    if ! cmp -s "$LAB_DIR/app/docker-compose.production.yml" "$LAB_COMPOSE_FILE"; then
        install -m 0644 "$LAB_DIR/app/docker-compose.production.yml" "$LAB_COMPOSE_FILE"
        ok "wrote $LAB_COMPOSE_FILE"
    fi
    # .env is written only when missing: deployments change APP_TAG in it later.
    if [[ ! -f $LAB_APP_DIR/.env ]]; then
        (
            umask 077
            cat >"$LAB_APP_DIR/.env" <<ENV
# Financial Stronghold lab environment (written by lab/lab.sh when missing).
APP_TAG=$LAB_APP_TAG_DEFAULT
APP_BIND=127.0.0.1:$LAB_APP_PORT
DB_HOST=127.0.0.1
DB_PORT=$LAB_PG_PORT
DB_NAME=$LAB_DB_NAME
DB_USER=$LAB_DB_USER
DB_PASSWORD=$LAB_DB_PASSWORD
POSTGRES_DB=$LAB_DB_NAME
POSTGRES_USER=$LAB_DB_USER
PGHOST=127.0.0.1
PGPORT=$LAB_PG_PORT
DJANGO_SECRET_KEY=$(openssl rand -hex 32)
DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1
DJANGO_DEBUG=false
DJANGO_LOG_LEVEL=INFO
GUNICORN_WORKERS=2
WORKER_INTERVAL=30
ENV
        )
        ok "wrote $LAB_APP_DIR/.env (APP_TAG=$LAB_APP_TAG_DEFAULT)"
    fi
}

app_tag() { sed -n 's/^APP_TAG=//p' "$LAB_APP_DIR/.env" | tail -1; }

app_health_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$LAB_APP_PORT/api/v1/health/" || true
}

ensure_app_running() {
    local tag
    tag=$(app_tag)
    log "compose: up -d --wait (project $LAB_COMPOSE_PROJECT, APP_TAG=$tag)"
    if ! compose up -d --wait --wait-timeout 180 >"$LAB_APP_DIR/compose-up.log" 2>&1; then
        cat "$LAB_APP_DIR/compose-up.log" >&2
        compose ps >&2 || true
        compose logs --tail 30 web >&2 || true
        die "compose up failed (APP_TAG=$tag in $LAB_APP_DIR/.env; health: HTTP $(app_health_code))"
    fi
    [[ $(app_health_code) == 200 ]] || die "web answers HTTP $(app_health_code) on /api/v1/health/"
    ok "web healthy on http://127.0.0.1:$LAB_APP_PORT (version $(curl -s --max-time 5 "http://127.0.0.1:$LAB_APP_PORT/api/v1/health/" \
        | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["version"])')), worker healthy"
}

ensure_ops_user() {
    local out
    out=$(compose exec -T web python manage.py shell -c "
from django.contrib.auth import get_user_model
U = get_user_model()
u, created = U.objects.get_or_create(username='$LAB_OPS_USER', defaults={'email': 'ops@stronghold.lab.test'})
changed = created or not (u.is_staff and u.is_superuser and u.check_password('$LAB_OPS_PASSWORD'))
if changed:
    u.is_staff = u.is_superuser = True
    u.set_password('$LAB_OPS_PASSWORD')
    u.save()
print('created' if created else ('updated' if changed else 'unchanged'))
") || die "could not create the Django user $LAB_OPS_USER"
    ok "Django user $LAB_OPS_USER: ${out##*$'\n'}"
}

ensure_seed_data() {
    local n
    n=$(lab_psql -d "$LAB_DB_NAME" -tAc 'SELECT count(*) FROM core_transaction')
    if ((n >= 300000)); then
        ok "data: $n transactions, $(lab_psql -d "$LAB_DB_NAME" -tAc 'SELECT count(*) FROM core_account') accounts (already seeded)"
        return 0
    fi
    log "data: seeding 2,000 accounts and 320,000 transactions with generate_series"
    lab_psql -d "$LAB_DB_NAME" -f "$LAB_DIR/seed.sql" >/dev/null || die "seeding failed"
    ok "data: $(lab_psql -d "$LAB_DB_NAME" -tAc 'SELECT count(*) FROM core_transaction') transactions, dead tuples in core_transaction: $(lab_psql -d "$LAB_DB_NAME" -tAc "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'core_transaction'")"
}

login_request() {  # username password -> HTTP code
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -d "{\"username\": \"$1\", \"password\": \"$2\"}" "http://127.0.0.1:$LAB_APP_PORT/api/v1/auth/login/"
}

ensure_log_traffic() {
    local sec="$LAB_APP_DIR/logs/security.log" acc="$LAB_APP_DIR/logs/access.log"
    # Seeded once; again when the access log lacks the seed's requests (a lab seeded before the
    # app wrote access.log: its security.log then holds the events of both seeds).
    if [[ -f $sec ]] && grep -q 'failed_login' "$sec" \
        && [[ -f $acc ]] && grep -q '"POST /api/v1/auth/login/ ' "$acc"; then
        ok "logs: security/error events and access-log lines already present in $LAB_APP_DIR/logs"
        return 0
    fi
    log "logs: generating 15 failed logins, 1 successful login, 2 server errors"
    local users=(ops ops ops admin admin root root ops jdoe jdoe administrator ops backup test ops) i code
    for i in "${!users[@]}"; do
        code=$(login_request "${users[$i]}" "wrong-password-$i")
        [[ $code == 401 ]] || die "failed login attempt returned HTTP $code (expected 401)"
    done
    code=$(login_request "$LAB_OPS_USER" "$LAB_OPS_PASSWORD")
    [[ $code == 200 ]] || die "login as $LAB_OPS_USER returned HTTP $code"
    local first
    first=$(lab_psql -d "$LAB_DB_NAME" -tAc 'SELECT min(id) FROM core_account')
    for q in 'limit=abc' 'limit=all'; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
            "http://127.0.0.1:$LAB_APP_PORT/api/v1/accounts/$first/transactions/?$q")
        [[ $code == 500 ]] || die "error request ?$q returned HTTP $code (expected 500)"
    done
    sleep 1
    local f e a
    f=$(grep -c 'failed_login' "$sec")
    e=$(grep -c 'ERROR' "$LAB_APP_DIR/logs/django_errors.log")
    # gunicorn's access log (entrypoint.sh): combined format + request time in microseconds.
    a=$(grep -cE '"POST /api/v1/auth/login/ HTTP/1\.1" (401|200) |" 500 ' "$acc" || true)
    ((f >= 15 && e >= 2 && a >= 18)) || die "log lines missing (failed_login: $f, errors: $e, access-log lines: $a)"
    ok "logs: $f failed_login lines in security.log, $e ERROR lines in django_errors.log, $a seeded lines in access.log"
}

compose_down() {
    if [[ -f $LAB_COMPOSE_FILE ]] && docker_answers "$LAB_DOCKER_SOCK"; then
        log "compose down (project $LAB_COMPOSE_PROJECT)"
        compose down --remove-orphans --timeout 20 >/dev/null 2>&1 || warn "compose down failed"
        ok "containers removed"
    fi
}
