# shellcheck shell=bash
# Docker engine (reuse the system one or run our own) and the Compose v2 plugin.

docker_answers() { docker -H "unix://$1" info >/dev/null 2>&1; }

ensure_docker_engine() {
    mkdir -p "$LAB_DOCKER_DIR"
    if [[ -L $LAB_DOCKER_SOCK ]]; then
        if docker_answers "$LAB_DOCKER_SOCK"; then
            ok "docker engine: reusing $LAB_SYSTEM_DOCKER_SOCK (symlinked at $LAB_DOCKER_SOCK)"
            return 0
        fi
        rm -f "$LAB_DOCKER_SOCK"
    fi
    if [[ -S $LAB_DOCKER_SOCK ]] && docker_answers "$LAB_DOCKER_SOCK"; then
        ok "docker engine: our dockerd answers at $LAB_DOCKER_SOCK (pid $(cat "$LAB_DOCKER_DIR/dockerd.pid" 2>/dev/null || echo '?'))"
        return 0
    fi
    if docker_answers "$LAB_SYSTEM_DOCKER_SOCK"; then
        ln -sfn "$LAB_SYSTEM_DOCKER_SOCK" "$LAB_DOCKER_SOCK"
        ok "docker engine: reusing the engine at $LAB_SYSTEM_DOCKER_SOCK (symlink $LAB_DOCKER_SOCK)"
        return 0
    fi
    command -v dockerd >/dev/null || die "no docker engine answers and dockerd is not installed"
    if pid_alive "$LAB_DOCKER_DIR/dockerd.pid"; then
        log "our dockerd (pid $(cat "$LAB_DOCKER_DIR/dockerd.pid")) is running but not answering yet"
    else
        log "starting our own dockerd (bridge none, no iptables) at $LAB_DOCKER_SOCK"
        rm -f "$LAB_DOCKER_DIR/dockerd.pid" "$LAB_DOCKER_SOCK"
        mkdir -p "$LAB_DOCKER_DIR/data" "$LAB_DOCKER_DIR/exec"
        detach "$LAB_DOCKER_DIR/dockerd.log" dockerd \
            --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
            --data-root "$LAB_DOCKER_DIR/data" --exec-root "$LAB_DOCKER_DIR/exec" \
            -H "unix://$LAB_DOCKER_SOCK" --pidfile "$LAB_DOCKER_DIR/dockerd.pid"
    fi
    wait_for 60 "dockerd at $LAB_DOCKER_SOCK" docker_answers "$LAB_DOCKER_SOCK"
    ok "docker engine: our dockerd answers (pid $(cat "$LAB_DOCKER_DIR/dockerd.pid"), log $LAB_DOCKER_DIR/dockerd.log)"
}

compose_v2_present() { docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; }

# Debian 12 only has Compose v1; take Debian 13's docker-compose (v2 plugin binary)
# with a throw-away apt configuration so the machine's apt state is untouched.
ensure_compose_plugin() {
    if compose_v2_present; then
        ok "docker compose: $(docker compose version --short 2>/dev/null)"
        return 0
    fi
    log "docker compose v2 missing: fetching Debian trixie's docker-compose .deb"
    local mirror tmp
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    tmp=$(mktemp -d /tmp/stronghold-lab-compose.XXXXXX)
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts" "$tmp/dl"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$tmp/sources.list"
    local aopts=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=$tmp/parts"
        -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "APT::Sandbox::User=root")
    apt-get -q "${aopts[@]}" update >"$tmp/apt.log" 2>&1 || { tail "$tmp/apt.log" >&2; die "apt-get update (trixie) failed"; }
    (cd "$tmp/dl" && apt-get -q "${aopts[@]}" download docker-compose) >>"$tmp/apt.log" 2>&1 \
        || { tail "$tmp/apt.log" >&2; die "apt-get download docker-compose (trixie) failed"; }
    dpkg-deb -x "$tmp"/dl/docker-compose_*.deb "$tmp/x"
    install -D -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$LAB_COMPOSE_PLUGIN_DIR/docker-compose"
    rm -rf "$tmp"
    compose_v2_present || die "docker compose still not working after installing the plugin"
    ok "docker compose: installed $(docker compose version --short) at $LAB_COMPOSE_PLUGIN_DIR/docker-compose"
}

stop_docker_engine() {
    if [[ -L $LAB_DOCKER_SOCK ]]; then
        log "docker engine is a reused one: leaving it running"
        rm -f "$LAB_DOCKER_SOCK"
        return 0
    fi
    local pidf="$LAB_DOCKER_DIR/dockerd.pid"
    if pid_alive "$pidf"; then
        local pid
        pid=$(cat "$pidf")
        log "stopping our dockerd (pid $pid)"
        kill -TERM "$pid"
        local i
        for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        if kill -0 "$pid" 2>/dev/null; then warn "dockerd did not stop in 60s: killing"; kill -KILL "$pid" || true; fi
        ok "dockerd stopped"
    fi
}
