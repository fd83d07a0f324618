# shellcheck shell=bash
# The lab's own PostgreSQL 15 cluster on 127.0.0.1:55432 (a system cluster on 5432 is never touched).

pg_ready() { "$LAB_PG_BIN/pg_isready" -q -h "$LAB_PG_RUN" -p "$LAB_PG_PORT"; }

write_pg_lab_conf() {
    local conf="$LAB_PG_DATA/lab.conf" tmp
    tmp=$(mktemp)
    cat >"$tmp" <<CONF
# Written by lab/lab.sh; included from postgresql.conf.
port = $LAB_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$LAB_PG_RUN'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
password_encryption = 'scram-sha-256'
max_connections = 100
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_connections = off
CONF
    if ! cmp -s "$tmp" "$conf"; then
        install -o postgres -g postgres -m 0600 "$tmp" "$conf"
        PG_CONF_CHANGED=1
    fi
    rm -f "$tmp"
    cat >"$tmp" <<HBA
# Written by lab/lab.sh.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
HBA
    if ! cmp -s "$tmp" "$LAB_PG_DATA/pg_hba.conf"; then
        install -o postgres -g postgres -m 0600 "$tmp" "$LAB_PG_DATA/pg_hba.conf"
        PG_CONF_CHANGED=1
    fi
    rm -f "$tmp"
}

ensure_postgres() {
    PG_CONF_CHANGED=0
    install -d -m 0755 "$LAB_ROOT"
    install -d -o postgres -g postgres -m 0700 "$LAB_ROOT/postgres"
    install -d -o postgres -g postgres -m 0755 "$LAB_PG_RUN"
    if [[ ! -s $LAB_PG_DATA/PG_VERSION ]]; then
        log "initdb: new PostgreSQL 15 cluster in $LAB_PG_DATA"
        rm -rf "$LAB_PG_DATA"
        local pwfile="$LAB_ROOT/postgres/.pwfile"
        install -o postgres -g postgres -m 0600 /dev/null "$pwfile"
        printf '%s\n' "$LAB_PG_SUPER_PASSWORD" >"$pwfile"
        as_postgres "$LAB_PG_BIN/initdb" -D "$LAB_PG_DATA" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
            >"$LAB_ROOT/postgres/initdb.log" 2>&1 \
            || { rm -f "$pwfile"; tail "$LAB_ROOT/postgres/initdb.log" >&2; die "initdb failed"; }
        rm -f "$pwfile"
        echo "include 'lab.conf'" >>"$LAB_PG_DATA/postgresql.conf"
        ok "cluster initialised (superuser postgres)"
    fi
    write_pg_lab_conf
    if pg_ready; then
        if ((PG_CONF_CHANGED)); then
            log "PostgreSQL configuration changed: restarting"
            as_postgres "$LAB_PG_BIN/pg_ctl" -D "$LAB_PG_DATA" -m fast -w -t 60 restart -l "$LAB_PG_LOG" >/dev/null
        fi
        ok "postgres answers on 127.0.0.1:$LAB_PG_PORT (socket dir $LAB_PG_RUN)"
    else
        log "starting PostgreSQL on 127.0.0.1:$LAB_PG_PORT"
        touch "$LAB_PG_LOG" && chown postgres:postgres "$LAB_PG_LOG"
        # setsid: the postmaster must not belong to the caller's session/process group.
        as_postgres setsid "$LAB_PG_BIN/pg_ctl" -D "$LAB_PG_DATA" -l "$LAB_PG_LOG" -w -t 60 start >/dev/null \
            || { tail -20 "$LAB_PG_LOG" >&2; die "pg_ctl start failed (log: $LAB_PG_LOG)"; }
        ok "postgres started (log $LAB_PG_LOG)"
    fi
    ensure_pg_roles
}

pg_login_works() {  # user password db
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$LAB_PG_PORT" -U "$1" -d "$3" -tAc 'select 1' >/dev/null 2>&1
}

ensure_pg_roles() {
    lab_psql -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$LAB_DB_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$LAB_DB_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$LAB_DB_NAME', '$LAB_DB_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$LAB_DB_NAME') \gexec
SQL
    pg_login_works postgres "$LAB_PG_SUPER_PASSWORD" postgres \
        || lab_psql -d postgres -c "ALTER ROLE postgres PASSWORD '$LAB_PG_SUPER_PASSWORD'"
    pg_login_works "$LAB_DB_USER" "$LAB_DB_PASSWORD" "$LAB_DB_NAME" \
        || lab_psql -d postgres -c "ALTER ROLE $LAB_DB_USER LOGIN PASSWORD '$LAB_DB_PASSWORD'"
    lab_psql -d "$LAB_DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" 2>&1 | grep -v 'already exists' || true
    pg_login_works "$LAB_DB_USER" "$LAB_DB_PASSWORD" "$LAB_DB_NAME" || die "role $LAB_DB_USER cannot log in over TCP"
    ok "roles postgres/$LAB_DB_USER, database $LAB_DB_NAME (owner $LAB_DB_USER), extension pg_stat_statements"
}

stop_postgres() {
    if [[ -f $LAB_PG_DATA/postmaster.pid ]]; then
        log "stopping PostgreSQL (pg_ctl stop -m fast)"
        as_postgres "$LAB_PG_BIN/pg_ctl" -D "$LAB_PG_DATA" -m fast -w -t 60 stop >/dev/null || warn "pg_ctl stop failed"
        ok "postgres stopped"
    fi
}
