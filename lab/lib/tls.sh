# shellcheck shell=bash
# Lab CA + certificates and the loopback TLS server (ports 18443 valid, 18444 expiring, 18445 wronghost).

LAB_TLS_PORTS=(18443 18444 18445)

tls_port_answers() {
    timeout 5 openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null >/dev/null 2>&1
}

tls_all_answer() {
    local p
    for p in "${LAB_TLS_PORTS[@]}"; do tls_port_answers "$p" || return 1; done
}

stop_tls_server() { stop_pidfile "$LAB_TLS_DIR/server.pid" "TLS server"; }

ensure_tls() {
    install -d -m 0755 "$LAB_TLS_DIR"
    local result restart=0
    result=$("$LAB_PYTHON" "$LAB_DIR/tls_certs.py" "$LAB_TLS_DIR") || die "certificate generation failed"
    if [[ $result == generated ]]; then
        ok "TLS: lab CA and certificates written to $LAB_TLS_DIR (expiring.pem: 5 days)"
        restart=1
    else
        ok "TLS: certificates present and expiring.pem has >= 3 days left"
    fi
    if ((restart == 0)) && pid_alive "$LAB_TLS_DIR/server.pid" && tls_all_answer; then
        ok "TLS server (pid $(cat "$LAB_TLS_DIR/server.pid")) answers on 127.0.0.1:${LAB_TLS_PORTS[*]}"
        return 0
    fi
    stop_tls_server
    log "starting TLS server on 127.0.0.1:18443 (valid) 18444 (expiring) 18445 (wronghost)"
    detach "$LAB_TLS_DIR/server.log" "$LAB_PYTHON" "$LAB_DIR/tls_server.py" "$LAB_TLS_DIR" "$LAB_TLS_DIR/server.pid"
    wait_for 20 "TLS server ports" tls_all_answer
    ok "TLS server (pid $(cat "$LAB_TLS_DIR/server.pid")) answers (log $LAB_TLS_DIR/server.log)"
}
